"""FBDI building, ESS polling and the emulated erpintegrations resource."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
import responses
from responses import matchers

from oracle_fusion_client import (
    BasicAuth,
    FusionClient,
    FusionInputError,
    FusionJobTimeoutError,
    GlInterfaceLine,
    build_fbdi_zip,
    parameter_list,
)
from oracle_fusion_client.emulator import FusionEmulator

BASE = "https://fusion.emulator"
ROOT = f"{BASE}/fscmRestApi/resources/11.13.18.05"


def _line(dr: str | None = None, cr: str | None = None, **kw: object) -> GlInterfaceLine:
    return GlInterfaceLine(
        ledger_id=1,
        accounting_date=date(2026, 1, 31),
        source="Paysync",
        category="Receipts",
        currency="USD",
        segments=["01", "000", "1110", "0000"],
        entered_dr=Decimal(dr) if dr else None,
        entered_cr=Decimal(cr) if cr else None,
        group_id=4242,
    )


def test_fbdi_zip_and_gl_row_layout() -> None:
    data = build_fbdi_zip({"GlInterface.csv": [_line(dr="10.00").row(), ["a,b", None]]})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["GlInterface.csv"]
        text = archive.read("GlInterface.csv").decode()
    first, second = text.splitlines()
    cells = first.split(",")
    assert cells[:8] == ["NEW", "1", "2026/01/31", "Paysync", "Receipts", "USD", "2026/01/31", "A"]
    assert cells[8:12] == ["01", "000", "1110", "0000"]
    assert (cells[38], cells[39]) == ("10.00", "")
    assert cells[66] == "4242"  # GROUP_ID
    assert second == '"a,b",'


def test_gl_line_needs_exactly_one_side() -> None:
    with pytest.raises(FusionInputError):
        _line().row()
    with pytest.raises(FusionInputError):
        _line(dr="1", cr="1").row()


def test_parameter_list() -> None:
    assert parameter_list([None, "Conversion", -1, 123456789, "N", "N", "N"]) == (
        "#NULL,Conversion,-1,123456789,N,N,N"
    )
    assert parameter_list(["a,b", 'say "hi"']) == '"a,b","say ""hi"""'


@pytest.fixture
def client() -> FusionClient:
    emulator = FusionEmulator()
    return FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))


def test_journal_import_runs_through_ess_states(client: FusionClient) -> None:
    erp = client.erp_integrations
    request_id = erp.import_journals(
        [_line(dr="100.00"), _line(cr="100.00")], source="Paysync", ledger_id=1, group_id=4242
    )
    sleeps: list[float] = []
    status = erp.wait_for_job(request_id, first_poll=1, max_poll=4, sleep=sleeps.append)
    assert status == "SUCCEEDED"
    assert sleeps == [1, 2]  # WAIT, RUNNING, then SUCCEEDED
    state = client.http.session.get(f"{BASE}/__emulator__/state").json()
    assert len(state["glJournalLines"]) == 2
    log = erp.download_job_output(request_id, "LOG")
    with zipfile.ZipFile(io.BytesIO(log)) as archive:
        assert "GlInterface.csv: 2 rows" in archive.read(archive.namelist()[0]).decode()


def test_unbalanced_journal_ends_in_error(client: FusionClient) -> None:
    erp = client.erp_integrations
    request_id = erp.import_journals([_line(dr="100.00")], source="P", ledger_id=1, group_id=1)
    assert erp.wait_for_job(request_id, sleep=lambda _: None) == "ERROR"
    with zipfile.ZipFile(io.BytesIO(erp.download_job_output(request_id))) as archive:
        assert "out of balance by 100.00" in archive.read(archive.namelist()[0]).decode()


def test_wait_for_job_times_out(client: FusionClient) -> None:
    erp = client.erp_integrations
    request_id = erp.import_journals(
        [_line(dr="1"), _line(cr="1")], source="P", ledger_id=1, group_id=1
    )
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(FusionJobTimeoutError) as info:
        erp.wait_for_job(request_id, timeout=1.5, first_poll=1, sleep=sleep, clock=lambda: now[0])
    assert info.value.last_status == "RUNNING"
    assert info.value.request_id == request_id


def test_a_non_zip_is_accepted_then_the_job_fails(client: FusionClient) -> None:
    request_id = client.erp_integrations.import_bulk_data(
        document=b"not a zip",
        file_name="x.zip",
        document_account="fin$/generalLedger$/import$",
        job_name="/x,Y",
        parameter_list="",
    )
    statuses = [client.erp_integrations.job_status(request_id) for _ in range(3)]
    assert statuses == ["WAIT", "RUNNING", "ERROR"]
    log = client.erp_integrations.download_job_output(request_id)
    with zipfile.ZipFile(io.BytesIO(log)) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    assert "ERROR DocumentContent isn't a base64-encoded zip file" in text


@responses.activate
def test_import_bulk_data_wire_shape() -> None:
    document = build_fbdi_zip({"GlInterface.csv": []})
    responses.post(
        f"{ROOT}/erpintegrations",
        status=201,
        json={"OperationName": "importBulkData", "ReqstId": "12345"},
        match=[
            matchers.json_params_matcher(
                {
                    "OperationName": "importBulkData",
                    "DocumentContent": base64.b64encode(document).decode(),
                    "ContentType": "zip",
                    "FileName": "f.zip",
                    "DocumentAccount": "fin$/receivables$/import$",
                    "JobName": "/oracle/apps/ess/x,Y",
                    "ParameterList": "#NULL,N",
                    "CallbackURL": "#NULL",
                    "NotificationCode": "10",
                    "JobOptions": "InterfaceDetails=1",
                }
            )
        ],
    )
    responses.get(
        f"{ROOT}/erpintegrations",
        json={"items": [{"ReqstId": "12345", "RequestStatus": "RUNNING"}], "count": 1},
        match=[
            matchers.query_param_matcher(
                {"onlyData": "true", "finder": "ESSJobStatusRF;requestId=12345", "offset": "0"}
            )
        ],
    )
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"))
    request_id = client.erp_integrations.import_bulk_data(
        document=document,
        file_name="f.zip",
        document_account="fin$/receivables$/import$",
        job_name="/oracle/apps/ess/x,Y",
        parameter_list="#NULL,N",
        job_options="InterfaceDetails=1",
    )
    assert request_id == "12345"
    assert client.erp_integrations.job_status("12345") == "RUNNING"
