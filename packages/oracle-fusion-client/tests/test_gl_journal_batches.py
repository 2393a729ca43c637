"""Journal batches: a successful Journal Import is found again by its batch name."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from oracle_fusion_client import (
    BasicAuth,
    FusionClient,
    FusionInputError,
    GlInterfaceLine,
    GlJournalBatches,
)
from oracle_fusion_client.emulator import FusionEmulator

BASE = "https://fusion.emulator"


def _line(batch: str, dr: str | None = None, cr: str | None = None) -> GlInterfaceLine:
    return GlInterfaceLine(
        ledger_id=1,
        accounting_date=date(2026, 1, 31),
        source="Paysync",
        category="Receipts",
        currency="USD",
        segments=["01", "000", "1110", "0000"],
        entered_dr=Decimal(dr) if dr else None,
        entered_cr=Decimal(cr) if cr else None,
        group_id=77,
        references=(batch,),
    )


@pytest.fixture
def client() -> FusionClient:
    emulator = FusionEmulator()
    return FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))


def test_imported_journal_found_by_batch_name(client: FusionClient) -> None:
    batches = GlJournalBatches(client.http)
    assert batches.find_by_name("PT-BATCH-9") == []
    erp = client.erp_integrations
    lines = [_line("PT-BATCH-9", dr="12.50"), _line("PT-BATCH-9", cr="12.50")]
    request_id = erp.import_journals(lines, source="Paysync", ledger_id=1, group_id=77)
    assert batches.find_by_name("PT-BATCH-9") == []  # not until the job has run
    assert erp.wait_for_job(request_id, sleep=lambda _: None) == "SUCCEEDED"
    [found] = batches.find_by_name("PT-BATCH-9")
    assert found.request_id == request_id
    assert found.line_count == 2
    assert (found.total_dr, found.total_cr) == (Decimal("12.50"), Decimal("12.50"))
    assert found.source == "Paysync"
    assert found.status == "Unposted"
    assert batches.find_by_name("PT-BATCH-10") == []


def test_failed_import_creates_no_batch(client: FusionClient) -> None:
    erp = client.erp_integrations
    request_id = erp.import_journals(
        [_line("PT-BATCH-1", dr="5.00")], source="Paysync", ledger_id=1, group_id=1
    )
    assert erp.wait_for_job(request_id, sleep=lambda _: None) == "ERROR"
    assert GlJournalBatches(client.http).find_by_name("PT-BATCH-1") == []


def test_batch_name_required(client: FusionClient) -> None:
    with pytest.raises(FusionInputError, match="batch_name"):
        GlJournalBatches(client.http).find_by_name(" ")


def test_unknown_ledger_fails_the_import_when_ledgers_are_seeded() -> None:
    emulator = FusionEmulator()
    emulator.state.ref["ledgers"] = [{"LedgerId": 1, "Name": "US Primary Ledger"}]
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))
    erp = client.erp_integrations
    good = erp.import_journals(
        [_line("B1", dr="1.00"), _line("B1", cr="1.00")], source="P", ledger_id=1, group_id=1
    )
    assert erp.wait_for_job(good, sleep=lambda _: None) == "SUCCEEDED"
    bad_lines = [
        GlInterfaceLine(
            ledger_id=999,
            accounting_date=date(2026, 1, 31),
            source="P",
            category="Receipts",
            currency="USD",
            segments=["01"],
            entered_dr=Decimal("1.00") if side == "dr" else None,
            entered_cr=Decimal("1.00") if side == "cr" else None,
            references=("B2",),
        )
        for side in ("dr", "cr")
    ]
    bad = erp.import_journals(bad_lines, source="P", ledger_id=999, group_id=2)
    assert erp.wait_for_job(bad, sleep=lambda _: None) == "ERROR"
    log = erp.download_job_output(bad, "LOG")
    assert b"the ledger 999 doesn't exist" in _unzip(log)
    assert GlJournalBatches(client.http).find_by_name("B2") == []


def _unzip(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())
