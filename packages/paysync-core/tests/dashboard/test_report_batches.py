"""Reconciliation reports browsable by batch: the batches of a JSON report written by
``paysync_core.reconcile.write_report`` and a page per batch with its discrepancies."""

from __future__ import annotations

import csv
from pathlib import Path

from paysync_core.reconcile import RecordWriter, reconcile, write_report

from .conftest import VIEWER, Demo, LoginAs


def _record(ref: str, cents: int, batch: str) -> dict[str, str | int]:
    return {
        "ref": ref,
        "id": ref,
        "kind": "payment",
        "amount_cents": cents,
        "status": "captured",
        "day": "2026-11-22",
        "customer": "C1",
        "invoice": "",
        "batch": batch,
    }


def _write_batched_report(folder: Path) -> str:
    """Batch B-1 settles both payments and matches; batch B-2's payment is short in Fusion
    and its reported total is off by 1.00."""
    rows = {
        "paytrace": [("1", 1000, "B-1"), ("2", 500, "B-1"), ("3", 700, "B-2")],
        "fusion": [("PT-1", 1000, "B-1"), ("PT-2", 500, "B-1"), ("PT-3", 600, "B-2")],
        "salesforce": [("1", 1000, ""), ("2", 500, ""), ("3", 700, "")],
    }
    inputs = folder.parent / "inputs"
    inputs.mkdir()
    paths: dict[str, Path] = {}
    for system, records in rows.items():
        with RecordWriter(inputs / f"{system}.csv") as out:
            for ref, cents, batch in records:
                out.write(_record(ref, cents, batch))
        paths[system] = out.path
    batches = inputs / "batches.csv"
    with batches.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerows([("batch", "net_cents", "count"), ("B-1", 1500, 2), ("B-2", 800, 1)])
    result = reconcile(
        paytrace=paths["paytrace"],
        fusion=paths["fusion"],
        salesforce=paths["salesforce"],
        batches=batches,
        engine="python",
    )
    day = folder / "2026-11-23"
    day.mkdir(parents=True)
    write_report(result, day / "reconcile-2026-11-22-2026-11-22.html")
    write_report(result, day / "reconcile-2026-11-22-2026-11-22.json")
    return "2026-11-23/reconcile-2026-11-22-2026-11-22.json"


def test_day_listing_links_each_batch_to_its_page_of_discrepancies(
    demo: Demo, login_as: LoginAs
) -> None:
    report = _write_batched_report(demo.reports)
    client = login_as(VIEWER)
    listing = client.get("/reports").get_data(as_text=True)
    ok_link = f"/report-batches/{report}?batch=B-1"
    bad_link = f"/report-batches/{report}?batch=B-2"
    assert f'href="{ok_link}"' in listing
    assert f'href="{bad_link}"' in listing
    assert "ok: reported 15.00, computed 15.00; 0 discrepancies" in listing
    assert "mismatch: reported 8.00, computed 7.00; 1 discrepancies" in listing

    page = client.get(bad_link)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="batch-discrepancies"' in text
    table = text[text.index('id="batch-discrepancies"') :]
    assert table.count("<tr><td>") == 1
    assert '<td class="num">7.00</td><td class="num">6.00</td>' in table
    assert "8.00 (1 payments)" in text
    assert "No discrepancy names this batch." in client.get(ok_link).get_data(as_text=True)


def test_unknown_batch_or_report_is_not_found(demo: Demo, login_as: LoginAs) -> None:
    report = _write_batched_report(demo.reports)
    (demo.reports.parent / "outside.json").write_text('{"batches": [{"batch": "X"}]}')
    client = login_as(VIEWER)
    assert client.get(f"/report-batches/{report}?batch=B-9").status_code == 404
    assert client.get("/report-batches/2026-11-23/missing.json?batch=B-1").status_code == 404
    assert client.get("/report-batches/../outside.json?batch=X").status_code == 404
    html = report.replace(".json", ".html")
    assert client.get(f"/report-batches/{html}?batch=B-1").status_code == 404
