"""The official CometD JavaScript client (``cometd`` + ``cometd-nodejs-client``) against the
emulator on a real port: handshake with the replay extension, ``-2`` replay, live delivery.

Runs whenever ``node`` is installed; ``npm ci`` fills ``tests/js/node_modules`` on first use.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
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


def test_official_cometd_client_receives_change_events(node: str, server: EmulatorServer) -> None:
    http = rest(server)
    base = f"{server.url}/services/data/v66.0"
    created = http.post(f"{base}/sobjects/Account/", json={"Name": "Replayed"}, timeout=5)
    record_id = created.json()["id"]
    script = [node, "cometd_client.mjs", f"{server.url}/cometd/66.0", CHANNEL, "2", "20000"]
    env = {**os.environ, "SALESFORCE_ACCESS_TOKEN": TOKEN}
    with subprocess.Popen(  # noqa: S603 - our own script
        script, cwd=JS_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        lines: list[dict[str, Any]] = []
        for raw in proc.stdout:
            line = json.loads(raw)
            lines.append(line)
            if line.get("meta") == "subscribed":
                assert line["successful"] is True, line
                http.patch(f"{base}/sobjects/Account/{record_id}", json={"Phone": "1"}, timeout=5)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, (lines, stderr)
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
