"""A singer-io/tap-oracle-fusion style extractor, written with plain ``requests`` over a real
socket: ``limit``/``offset`` pages until ``hasMore`` is false, an incremental ``q`` on
``LastUpdateDate`` ordered ascending, and a 429 honoured through ``Retry-After``
(reference §2 Page size / Collection shape, §2 Rate limits, §6)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import requests

from oracle_fusion_client.emulator import EmulatorConfig, Fault, FusionEmulator, running_emulator

RECEIPT = {
    "ReceiptMethod": "Manual",
    "BusinessUnit": "Vision Operations",
    "Amount": "1.00",
    "Currency": "USD",
}


def _records(
    session: requests.Session, url: str, params: dict[str, str], waits: list[float]
) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        response = session.get(url, params={**params, "offset": str(offset)}, timeout=300)
        if response.status_code == 429:  # the tap waits Retry-After (default 60 s)
            waits.append(float(response.headers.get("Retry-After", "60")))
            continue
        response.raise_for_status()
        page = response.json()
        yield from page["items"]
        if not page["hasMore"] or page["count"] < int(params["limit"]):
            return
        offset += page["count"]


def test_tap_style_full_and_incremental_extraction() -> None:
    emulator = FusionEmulator(EmulatorConfig(today=lambda: date(2026, 3, 2)))
    with running_emulator(emulator) as (base, _):
        url = f"{base}/fscmRestApi/resources/11.13.18.05/standardReceipts"
        session = requests.Session()
        session.auth = ("FIN_USER", "Welcome1")
        session.headers["REST-Framework-Version"] = "4"
        for n in range(620):
            payload = {**RECEIPT, "ReceiptNumber": f"T-{n:04d}"}
            assert session.post(url, json=payload, timeout=30).status_code == 201

        first = session.get(url, params={"limit": "1000", "totalResults": "true"}, timeout=30)
        assert (first.json()["limit"], first.json()["count"]) == (500, 500)  # max 500
        assert first.json()["totalResults"] == 620

        emulator.inject(Fault("status", status=429, retry_after=7, method="GET"))
        waits: list[float] = []
        params = {"limit": "500", "orderBy": "LastUpdateDate:asc,StandardReceiptId:asc"}
        rows = list(_records(session, url, params, waits))
        assert waits == [7.0]
        assert len(rows) == 620
        assert len({r["StandardReceiptId"] for r in rows}) == 620

        bookmark = rows[599]["LastUpdateDate"]
        later = list(
            _records(
                session,
                url,
                {**params, "q": f"LastUpdateDate>'{bookmark}'", "onlyData": "true"},
                waits,
            )
        )
        assert [r["ReceiptNumber"] for r in later] == [
            r["ReceiptNumber"] for r in rows if r["LastUpdateDate"] > bookmark
        ]
