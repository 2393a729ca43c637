"""``python -m salesforce_bridge.emulator``: one line per endpoint, CometD served on its URL."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import requests

# The Pub/Sub service prints its line too once it is part of the build.
HAS_PUBSUB = importlib.util.find_spec("salesforce_bridge.emulator._pubsub") is not None


@contextmanager
def running(*args: str) -> Generator[dict[str, str]]:
    """Start the emulator, read its endpoint lines up to ``cometd`` (and ``pubsub``/``ca``)."""
    command = [sys.executable, "-m", "salesforce_bridge.emulator", "--port", "0", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert proc.stdout is not None
        endpoints: dict[str, str] = {}
        wanted = {"rest", "cometd"}
        wanted |= {"ca"} if "--tls" in args else set()
        wanted |= {"pubsub"} if HAS_PUBSUB else set()
        while not wanted <= endpoints.keys():
            line = proc.stdout.readline()
            assert line, f"emulator exited early; got {endpoints}"
            name, _, value = line.strip().partition(" ")
            endpoints[name] = value
        yield endpoints
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def handshake(url: str, verify: bool | str = True) -> dict[str, object]:
    message = [{"channel": "/meta/handshake", "version": "1.0", "id": "1"}]
    headers = {"Authorization": "Bearer 00Dtoken"}
    answer = requests.post(url, json=message, headers=headers, timeout=10, verify=verify)
    (reply,) = answer.json()
    return reply


def test_prints_one_line_per_endpoint_and_serves_cometd_over_tls(tmp_path: Path) -> None:
    with running("--tls", "--tls-dir", str(tmp_path)) as endpoints:
        assert endpoints["rest"].startswith("https://127.0.0.1:")
        assert endpoints["cometd"] == f"{endpoints['rest']}/cometd/66.0"
        assert Path(endpoints["ca"]) == tmp_path / "ca.pem"
        if HAS_PUBSUB:
            host, _, port = endpoints["pubsub"].rpartition(":")
            assert host == "127.0.0.1"
            assert int(port) > 0
        reply = handshake(endpoints["cometd"], verify=endpoints["ca"])
        assert reply["successful"] is True
        assert reply["supportedConnectionTypes"] == ["long-polling"]
