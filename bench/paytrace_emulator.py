"""Throughput of the PayTrace emulator: keyed sales per second, in-process and on a port.

Each figure is printed next to a baseline measured in the same run on the same path: a
trivial WSGI app that returns a constant JSON body. "emulator/baseline" is the emulator's
throughput as a fraction of what the transport alone allows. Targets (issue 3): >= 5,000
sales/s in-process and >= 500 sales/s on a port over loopback with keep-alive.

Run: ``python bench/paytrace_emulator.py`` (finishes in well under a minute).
"""

from __future__ import annotations

import http.client
import io
import json
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from paytrace_client.emulator import EmulatorAdapter, PayTraceEmulator
from paytrace_client.emulator._server import make_emulator_server

BASE = "https://api.paytrace.com"
SALE_PATH = "/v1/transactions/sale/keyed"
SALE: dict[str, Any] = {
    "amount": "1.00",
    "credit_card": {"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030},
    "csc": "999",
    "billing_address": {"name": "Bench Mark", "zip": "99201"},
}
CONSTANT = (
    b'{"success":true,"response_code":101,"status_message":"Your transaction was successfully '
    b'approved.","transaction_id":1}'
)
IN_PROCESS_SECONDS = 2.0
PORT_SECONDS = 3.0
PORT_CONNECTIONS = 4
SALE_BYTES = json.dumps(SALE).encode()


def baseline_app(environ: dict[str, Any], start_response: Callable[..., object]) -> Iterable[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(CONSTANT))),
        ],
    )
    return [CONSTANT]


def _rate(call: Callable[[], object], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            call()
        done += 50
    return done / (time.perf_counter() - started)


def _token(session: requests.Session, base: str) -> dict[str, str]:
    form = {"grant_type": "password", "username": "bench", "password": "bench"}
    reply = session.post(base + "/oauth/token", data=form, timeout=10).json()
    # The baseline app answers every path with its constant body, so it has no token.
    return {"Authorization": f"Bearer {reply.get('access_token', 'baseline')}"}


def in_process_session(app: Any, headers: dict[str, str]) -> float:
    session = requests.Session()
    session.trust_env = False  # as emulator.session() does: no proxy lookups per call
    session.mount(BASE, EmulatorAdapter(app))
    return _rate(
        lambda: session.post(BASE + SALE_PATH, json=SALE, headers=headers), IN_PROCESS_SECONDS
    )


def in_process_wsgi(app: Any, token: str) -> float:
    body = SALE_BYTES

    def start_response(status: str, headers: list[tuple[str, str]]) -> Callable[[bytes], None]:
        return lambda data: None

    def call() -> None:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": SALE_PATH,
            "SERVER_NAME": "api.paytrace.com",
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": token,
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "https",
        }
        b"".join(app(environ, start_response))

    return _rate(call, IN_PROCESS_SECONDS)


def _serve(argv: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)  # noqa: S603 - our own scripts
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _port_worker(args: tuple[str, int, str, float]) -> int:
    """One keep-alive connection posting sales until the deadline (runs in its own process).

    ``http.client`` rather than ``requests``: the load generator must cost less than the
    server it measures, and requests spends about a millisecond per call on its own.
    """
    host, port, authorization, seconds = args
    connection = http.client.HTTPConnection(host, port, timeout=10)
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection.request("POST", SALE_PATH, body=SALE_BYTES, headers=headers)
        connection.getresponse().read()
        done += 1
    connection.close()
    return done


def on_port(base: str) -> float:
    headers = _token(requests.Session(), base)
    host, port = base.removeprefix("http://").split(":")
    jobs = [(host, int(port), headers["Authorization"], PORT_SECONDS)] * PORT_CONNECTIONS
    started = time.perf_counter()
    with multiprocessing.Pool(PORT_CONNECTIONS) as pool:
        total = sum(pool.map(_port_worker, jobs))
    return total / (time.perf_counter() - started)


def _line(label: str, emulator: float, baseline: float) -> None:
    print(
        f"{label:<32} emulator {emulator:>9,.0f} sales/s   baseline {baseline:>9,.0f} req/s   "
        f"emulator/baseline ratio {emulator / baseline:.2f}",
        flush=True,
    )


def serve_baseline() -> None:
    """Subprocess mode: the trivial app on a port, same server class as the emulator."""
    server = make_emulator_server(baseline_app, port=0)
    print(f"http://127.0.0.1:{server.port}", flush=True)
    server.serve_forever()


def main() -> int:
    emulator = PayTraceEmulator()
    token = emulator.issue_token()
    headers = {"Authorization": f"Bearer {token}"}
    _line(
        "in-process (requests adapter)",
        in_process_session(emulator, headers),
        in_process_session(baseline_app, headers),
    )
    _line(
        "in-process (direct WSGI call)",
        in_process_wsgi(emulator, headers["Authorization"]),
        in_process_wsgi(baseline_app, headers["Authorization"]),
    )
    emu_proc, emu_url = _serve([sys.executable, "-m", "paytrace_client.emulator", "--port", "0"])
    base_proc, base_url = _serve([sys.executable, __file__, "--serve-baseline"])
    try:
        _line(
            f"on a port ({PORT_CONNECTIONS} keep-alive conns)", on_port(emu_url), on_port(base_url)
        )
    finally:
        for proc in (emu_proc, base_proc):
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve-baseline"]:
        serve_baseline()
    else:
        sys.exit(main())
