"""The official CometD JavaScript client (``cometd`` + ``cometd-nodejs-client``) against the
emulator on a real port: handshake with the replay extension, ``-2`` replay, live delivery.

Runs whenever ``node`` is installed; ``npm ci`` fills ``tests/js/node_modules`` on first use.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from salesforce_bridge.emulator import EmulatorServer, SalesforceEmulator, serve

JS_DIR = Path(__file__).resolve().parent.parent / "js"
TOKEN = "00Dtoken!js"
CHANNEL = "/data/AccountChangeEvent"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed")
    if not (JS_DIR / "node_modules" / "cometd-nodejs-client").is_dir():
        npm = shutil.which("npm")
        assert npm is not None, "node is installed but npm is not"
        subprocess.run(  # noqa: S603 - fixed arguments, the project's own lockfile
            [npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=300
        )
    return found


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    emulator = SalesforceEmulator()
    emulator.cometd.hold_seconds = 10.0
    with serve(emulator) as running:
        yield running


def rest(server: EmulatorServer) -> requests.Session:
    http = requests.Session()
    http.headers.update(
        {"Authorization": f"Bearer {TOKEN}", "Sforce-Call-Options": "client=js-crosstest"}
    )
    return http


def run_client(
    node: str, server: EmulatorServer, events: int, on_line: Callable[[dict[str, Any]], None]
) -> list[dict[str, Any]]:
    """Run the JS client until it got ``events`` events; ``on_line`` sees each line as it comes."""
    script = [node, "cometd_client.mjs", f"{server.url}/cometd/66.0", CHANNEL, str(events), "20000"]
    env = {**os.environ, "SALESFORCE_ACCESS_TOKEN": TOKEN}
    with subprocess.Popen(  # noqa: S603 - our own script
        script, cwd=JS_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        lines: list[dict[str, Any]] = []
        for raw in proc.stdout:
            if not raw.startswith("{"):
                continue  # not one of the script's JSON lines
            line = json.loads(raw)
            lines.append(line)
            on_line(line)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, (lines, stderr)
    return lines


def test_official_cometd_client_receives_change_events(node: str, server: EmulatorServer) -> None:
    http = rest(server)
    base = f"{server.url}/services/data/v66.0"
    created = http.post(f"{base}/sobjects/Account/", json={"Name": "Replayed"}, timeout=5)
    record_id = created.json()["id"]

    def on_line(line: dict[str, Any]) -> None:
        if line.get("meta") == "subscribed":
            assert line["successful"] is True, line
            http.patch(f"{base}/sobjects/Account/{record_id}", json={"Phone": "1"}, timeout=5)

    lines = run_client(node, server, 2, on_line)
    handshake = lines[0]
    assert handshake["meta"] == "handshake"
    assert handshake["successful"] is True
    assert handshake["ext"]["replay"] is True
    events = [line for line in lines if "channel" in line]
    assert [e["channel"] for e in events] == [CHANNEL, CHANNEL]
    first, second = (e["payload"]["ChangeEventHeader"] for e in events)
    assert (first["changeType"], second["changeType"]) == ("CREATE", "UPDATE")
    assert first["recordIds"] == second["recordIds"] == [record_id]
    assert first["changeOrigin"] == "com/salesforce/api/rest/66.0;client=js-crosstest"
    assert second["changedFields"] == ["LastModifiedDate", "Phone"]
    assert events[1]["payload"]["Phone"] == "1"
    bus = server.emulator.bus.read(CHANNEL, after=None, limit=10)
    assert [e["replayId"] for e in events] == [b.replay_id for b in bus]
    assert [e["eventUuid"] for e in events] == [b.event_uuid for b in bus]


def test_official_client_rehandshakes_after_unknown_client_and_resumes(
    node: str, server: EmulatorServer
) -> None:
    server.emulator.cometd.hold_seconds = 0.2  # cycle connects quickly so the fault fires soon
    http = rest(server)
    base = f"{server.url}/services/data/v66.0"
    record_id = http.post(f"{base}/sobjects/Account/", json={"Name": "R"}, timeout=5).json()["id"]
    fault = {"kind": "cometd_unknown_client", "path": "/meta/connect"}
    subscribed = 0

    def on_line(line: dict[str, Any]) -> None:
        nonlocal subscribed
        if line.get("channel") == CHANNEL:  # the replayed CREATE: now lose the session
            http.post(f"{server.url}/__emulator__/faults", json=fault, timeout=5)
        if line.get("meta") == "subscribed":
            subscribed += 1
            if subscribed == 2:  # resubscribed after the re-handshake
                http.patch(f"{base}/sobjects/Account/{record_id}", json={"Phone": "2"}, timeout=5)

    lines = run_client(node, server, 2, on_line)
    assert [line["meta"] for line in lines if "meta" in line] == [
        "handshake",
        "subscribed",
        "handshake",
        "subscribed",
    ]
    events = [line for line in lines if "channel" in line]
    kinds = [e["payload"]["ChangeEventHeader"]["changeType"] for e in events]
    assert kinds == ["CREATE", "UPDATE"]  # resumed from the last replay id: no duplicate, no gap
    channels = [m["channel"] for m in server.emulator.cometd.received]
    after_403 = channels[channels.index("/meta/handshake", 1) :]
    # The official client resubscribes from its handshake listener; its first /meta/connect
    # may reach the server before or after that /meta/subscribe, so only the presence counts.
    assert after_403[0] == "/meta/handshake"
    assert "/meta/subscribe" in after_403[1:4]
