"""Unmodified ``zeep`` (no wrapper of ours) against the emulator's ErpIntegrationService:
the bundled WSDL in process, and the served ``?WSDL`` over real HTTP with a WS-Security
UsernameToken (reference §5.2)."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import pytest
import requests
import zeep
from zeep.exceptions import Fault
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from oracle_fusion_client import bundled_wsdl
from oracle_fusion_client.emulator import (
    AuthPolicy,
    EmulatorConfig,
    FusionEmulator,
    running_emulator,
)

BASE = "https://fusion.emulator"
SERVICE_NS = (
    "http://xmlns.oracle.com/apps/financials/commonModules/shared/model/erpIntegrationService/"
)
JOB = "/oracle/apps/ess/financials/generalLedger/programs/common,JournalImportLauncher"


def _import(service: Any, document: bytes) -> int:
    request_id: int = service.importBulkData(
        document={
            "Content": document,
            "FileName": "GlInterface_1.zip",
            "ContentType": "zip",
            "DocumentTitle": "GlInterface_1",
            "DocumentAuthor": "FIN_USER",
            "DocumentSecurityGroup": "FAFusionImportExport",
            "DocumentAccount": "fin$/generalLedger$/import$",
        },
        jobDetails={"JobName": JOB, "ParameterList": "#NULL,Paysync,1,1,N,N,N"},
        notificationCode="30",
        callbackURL="#NULL",
        jobOptions="",
    )
    assert isinstance(request_id, int)
    return request_id


def test_unmodified_zeep_with_the_bundled_wsdl(journal_zip: bytes) -> None:
    emulator = FusionEmulator()
    session = emulator.session(BASE)
    session.auth = ("FIN_USER", "Welcome1")
    client: Any = zeep.Client(wsdl=bundled_wsdl(), transport=Transport(session=session))
    service: Any = client.create_service(
        f"{{{SERVICE_NS}}}ErpIntegrationServiceSoapHttp",
        f"{BASE}/fscmService/ErpIntegrationService",
    )
    request_id = _import(service, journal_zip)
    statuses: list[str] = [service.getESSJobStatus(requestId=request_id) for _ in range(3)]
    assert statuses == ["WAIT", "RUNNING", "SUCCEEDED"]
    assert len(emulator.state.gl_journal_lines) == 2
    documents: list[Any] = service.downloadESSJobExecutionDetails(
        requestId=str(request_id), fileType="LOG"
    )
    assert documents, "the LOG output is a list of DocumentDetails"
    content: bytes | str = documents[0].Content
    if isinstance(content, str):  # zeep returns base64Binary as bytes; tolerate either
        content = base64.b64decode(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "GlInterface.csv: 2 rows" in archive.read(archive.namelist()[0]).decode()


def test_unmodified_zeep_over_http_with_ws_security(journal_zip: bytes) -> None:
    policy = AuthPolicy(strict=True, users={"FIN_USER": "Welcome1"})
    with running_emulator(FusionEmulator(EmulatorConfig(auth=policy))) as (url, emulator):
        client = zeep.Client(
            wsdl=f"{url}/fscmService/ErpIntegrationService?WSDL",
            wsse=UsernameToken("FIN_USER", "Welcome1"),
            transport=Transport(session=requests.Session()),
        )
        service: Any = client.service  # the address the served WSDL names
        request_id = _import(service, journal_zip)
        assert [service.getESSJobStatus(requestId=request_id) for _ in range(3)] == [
            "WAIT",
            "RUNNING",
            "SUCCEEDED",
        ]
        wrong = zeep.Client(
            wsdl=f"{url}/fscmService/ErpIntegrationService?WSDL",
            wsse=UsernameToken("FIN_USER", "nope"),
        )
        with pytest.raises(Fault):
            wrong.service.getESSJobStatus(requestId=request_id)
        assert len(emulator.state.gl_journal_lines) == 2


def test_unknown_request_is_a_fault_with_adf_service_error_detail() -> None:
    session = FusionEmulator().session(BASE)
    session.auth = ("FIN_USER", "Welcome1")
    client: Any = zeep.Client(wsdl=bundled_wsdl(), transport=Transport(session=session))
    service: Any = client.create_service(
        f"{{{SERVICE_NS}}}ErpIntegrationServiceSoapHttp",
        f"{BASE}/fscmService/ErpIntegrationService",
    )
    with pytest.raises(Fault) as info:
        service.getESSJobStatus(requestId=12345)
    raised: Any = info.value
    assert raised.message == "The ESS request 12345 doesn't exist."
    assert str(raised.code).endswith("Client")
    detail: Any = raised.detail
    ns = "{http://xmlns.oracle.com/adf/svc/errors/}"
    assert detail.findtext(f"{ns}ServiceErrorMessage/{ns}message") == (
        "The ESS request 12345 doesn't exist."
    )
    assert detail.findtext(f"{ns}ServiceErrorMessage/{ns}severity") == "SEVERITY_ERROR"
