"""Bulk API 2.0: bridge against the emulator (ingest in chunks, partial failure, query to disk)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from salesforce_bridge import (
    PasswordGrant,
    RetryConfig,
    SalesforceBridge,
    SalesforceBulkError,
    SalesforceServerError,
)
from salesforce_bridge._bulk import to_csv
from salesforce_bridge.emulator import DEFAULT_BASE_URL, Fault, SalesforceEmulator, emulator_session


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def bridge(emulator: SalesforceEmulator) -> SalesforceBridge:
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    return SalesforceBridge(
        grant=grant,
        session=emulator_session(emulator),
        retry=RetryConfig(max_retries=0),
        sleep=lambda _s: None,
    )


def test_to_csv_columns_nulls_and_booleans() -> None:
    text = to_csv([{"A": 1, "B": None}, {"C": True, "A": "x,y"}])
    assert text == 'A,B,C\n1,#N/A,\n"x,y",,true\n'


def test_bulk_upsert_in_chunks_with_per_record_failures(bridge: SalesforceBridge) -> None:
    records: list[dict[str, object]] = [
        {"Payment_ID__c": f"BLK-{i:02d}", "Amount__c": i, "Status__c": "Captured"}
        for i in range(25)
    ]
    records[3] = {"Payment_ID__c": "BLK-03"}  # new record without the required Amount__c
    records[4] = {"Payment_ID__c": "PAY-1001", "Status__c": "Settled"}  # existing: an update
    jobs = bridge.bulk.ingest(
        "Payment__c", records, operation="upsert", external_id_field="Payment_ID__c", chunk_size=10
    )
    assert [j.state for j in jobs] == ["JobComplete"] * 3
    assert [j.number_records_processed for j in jobs] == [10, 10, 5]
    assert jobs[0].number_records_failed == 1
    failed = bridge.bulk.results(jobs[0].id, "failedResults")
    assert failed[0]["Payment_ID__c"] == "BLK-03"
    assert failed[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    ok = {r["Payment_ID__c"]: r["sf__Created"] for r in bridge.bulk.results(jobs[0].id)}
    assert ok["PAY-1001"] == "false"
    assert ok["BLK-00"] == "true"
    assert bridge.count("SELECT COUNT() FROM Payment__c WHERE Payment_ID__c LIKE 'BLK-%'") == 23
    assert (
        bridge.count("SELECT COUNT() FROM Payment__c WHERE Amount__c > 20") == 5
    )  # 21..24 and PAY-1001


def test_partial_failure_keeps_finished_jobs(
    bridge: SalesforceBridge, emulator: SalesforceEmulator
) -> None:
    emulator.add_fault(Fault(kind="status", status=500, method="PUT", path="/batches$", after=1))
    records = [{"Name": f"Bulk {i}"} for i in range(30)]
    with pytest.raises(SalesforceBulkError) as info:
        bridge.bulk.ingest("Account", records, chunk_size=10)
    assert [j.state for j in info.value.jobs] == ["JobComplete"]
    assert info.value.failed_job_id is not None
    assert info.value.failed_job_id != info.value.jobs[0].id
    assert isinstance(info.value.__cause__, SalesforceServerError)
    assert len(bridge.bulk.results(info.value.jobs[0].id)) == 10
    assert bridge.count("SELECT COUNT() FROM Account WHERE Name LIKE 'Bulk %'") == 10


def test_query_streams_pages_to_disk(bridge: SalesforceBridge, tmp_path: Path) -> None:
    bridge.bulk.ingest("Contact", [{"LastName": f"Q{i:03d}"} for i in range(450)])
    out = tmp_path / "contacts.csv"
    result = bridge.bulk.query_to_file(
        "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Q%' ORDER BY LastName",
        out,
        max_records=200,
    )
    assert result.records == 450
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 450
    assert rows[0]["LastName"] == "Q000"
    assert rows[-1]["LastName"] == "Q449"
    assert result.job.state == "JobComplete"


def test_simple_salesforce_bulk2_against_the_emulator(
    emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    from simple_salesforce.api import Salesforce
    from simple_salesforce.bulk2 import SFBulk2Handler

    sf = Salesforce(
        instance_url=DEFAULT_BASE_URL, session_id="any", session=emulator_session(emulator)
    )
    handler = sf.bulk2
    assert isinstance(handler, SFBulk2Handler)
    data = tmp_path / "accounts.csv"
    data.write_text(
        "Name,Customer_ID__c\nBulkCo,CUST-9\nAcme Renamed,CUST-0001\n", encoding="utf-8"
    )
    [summary] = handler.Account.upsert(str(data), external_id_field="Customer_ID__c", wait=0)
    assert (summary["numberRecordsProcessed"], summary["numberRecordsFailed"]) == (2, 0)
    pages = list(handler.Account.query("SELECT Name FROM Account ORDER BY Name", wait=0))
    # Bulk API 2.0 query results quote every cell (the vendor's example: "Id","Name").
    assert str(pages[0]).splitlines() == [
        '"Name"',
        '"Acme Renamed"',
        '"BulkCo"',
        '"Globex"',
        '"Initech"',
    ]


def test_query_page_failure_keeps_the_job_and_resumes(
    bridge: SalesforceBridge, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    bridge.bulk.ingest("Contact", [{"LastName": f"R{i:03d}"} for i in range(450)])
    soql = "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'R%' ORDER BY LastName"
    out = tmp_path / "contacts.csv"
    # the second page fails (this bridge does not retry)
    emulator.add_fault(Fault(kind="status", status=500, method="GET", path="/results$", after=1))
    with pytest.raises(SalesforceBulkError) as info:
        bridge.bulk.query_to_file(soql, out, max_records=200)
    failure = info.value
    assert failure.records == 200
    assert failure.locator
    assert failure.failed_job_id == failure.jobs[0].id
    assert isinstance(failure.__cause__, SalesforceServerError)
    assert failure.failed_job_id is not None
    queries_before = sum(1 for c in emulator.calls if c.path.endswith("/jobs/query"))
    result = bridge.bulk.resume_query(
        failure.failed_job_id,
        out,
        locator=failure.locator,
        records=failure.records,
        max_records=200,
    )
    assert sum(1 for c in emulator.calls if c.path.endswith("/jobs/query")) == queries_before
    assert result.records == 450
    with out.open(encoding="utf-8") as handle:
        names = [row["LastName"] for row in csv.DictReader(handle)]
    assert names == [f"R{i:03d}" for i in range(450)]
