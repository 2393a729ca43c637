"""zeep against the emulator's ErpIntegrationService, in-process and over real HTTP."""

from __future__ import annotations

import io
import zipfile

import pytest
import requests

from oracle_fusion_client import (
    BasicAuth,
    ErpIntegrationSoap,
    FusionSoapFaultError,
    bundled_wsdl,
)
from oracle_fusion_client.emulator import (
    AuthPolicy,
    EmulatorConfig,
    FusionEmulator,
    running_emulator,
)

BASE = "https://fusion.emulator"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
TYPES = "http://xmlns.oracle.com/apps/financials/commonModules/shared/model/erpIntegrationService/types/"


def _run_import(soap: ErpIntegrationSoap, document: bytes) -> int:
    request_id = soap.import_bulk_data(
        document,
        file_name="GlInterface_1.zip",
        document_account="fin$/generalLedger$/import$",
        job_name="/oracle/apps/ess/financials/generalLedger/programs/common,JournalImportLauncher",
        parameter_list="#NULL,Paysync,1,1,N,N,N",
    )
    assert [soap.get_ess_job_status(request_id) for _ in range(3)] == [
        "WAIT",
        "RUNNING",
        "SUCCEEDED",
    ]
    return request_id


def test_zeep_in_process_with_the_bundled_wsdl(journal_zip: bytes) -> None:
    emulator = FusionEmulator()
    soap = ErpIntegrationSoap(
        base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE), wsdl=bundled_wsdl()
    )
    request_id = _run_import(soap, journal_zip)
    assert len(emulator.state.gl_journal_lines) == 2
    files = soap.download_ess_job_execution_details(request_id, "LOG")
    with zipfile.ZipFile(io.BytesIO(files[0])) as archive:
        assert "GlInterface.csv: 2 rows" in archive.read(archive.namelist()[0]).decode()
    document_id = soap.upload_file_to_ucm(
        b"PK", file_name="x.zip", document_account="fin$/receivables$/import$"
    )
    assert document_id.isdigit()
    job = soap.submit_ess_job_request(
        "/oracle/apps/ess/financials/payables", "APXIAWRE", ["1", "#NULL"]
    )
    assert soap.get_ess_job_status(job) == "WAIT"


def test_zeep_over_http_with_the_served_wsdl(journal_zip: bytes) -> None:
    with running_emulator() as (url, emulator):
        wsdl = requests.get(f"{url}/fscmService/ErpIntegrationService?WSDL", timeout=10)
        assert wsdl.status_code == 200
        assert f"{url}/fscmService/ErpIntegrationService" in wsdl.text
        soap = ErpIntegrationSoap(base_url=url, auth=BasicAuth("u", "p"))
        request_id = _run_import(soap, journal_zip)
        assert len(emulator.state.gl_journal_lines) == 2
        (log,) = soap.download_ess_job_execution_details(request_id, "LOG")
        with zipfile.ZipFile(io.BytesIO(log)) as archive:
            assert "GlInterface.csv: 2 rows" in archive.read(archive.namelist()[0]).decode()
        document_id = soap.upload_file_to_ucm(
            journal_zip, file_name="j.zip", document_account="fin$/generalLedger$/import$"
        )
        assert emulator.state.ucm[document_id]["FileName"] == "j.zip"
        job = soap.submit_ess_job_request("/oracle/apps/ess/x", "APXIAWRE", ["1", "#NULL"])
        assert [soap.get_ess_job_status(job) for _ in range(3)] == ["WAIT", "RUNNING", "SUCCEEDED"]


def test_soap_faults_and_auth() -> None:
    emulator = FusionEmulator()
    soap = ErpIntegrationSoap(
        base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE), wsdl=bundled_wsdl()
    )
    with pytest.raises(FusionSoapFaultError) as info:
        soap.get_ess_job_status(42)
    assert info.value.fault_code == "Client"
    assert "42" in (info.value.detail or "")
    strict = FusionEmulator(EmulatorConfig(auth=AuthPolicy(strict=True, users={"u": "right"})))
    denied = ErpIntegrationSoap(
        base_url=BASE,
        auth=BasicAuth("u", "wrong"),
        session=strict.session(BASE),
        wsdl=bundled_wsdl(),
    )
    with pytest.raises(FusionSoapFaultError) as refused:
        denied.get_ess_job_status(1)
    assert refused.value.detail == "The user name or password is invalid."


def test_ws_security_username_token_and_bad_xml() -> None:
    emulator = FusionEmulator(EmulatorConfig(auth=AuthPolicy(strict=True, users={"u": "pw"})))
    session = emulator.session(BASE)
    envelope = (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:wsse="{WSSE}" xmlns:typ="{TYPES}">'
        "<soapenv:Header><wsse:Security><wsse:UsernameToken><wsse:Username>u</wsse:Username>"
        "<wsse:Password>pw</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header>"
        "<soapenv:Body><typ:submitESSJobRequest><typ:jobPackageName>/p</typ:jobPackageName>"
        "<typ:jobDefinitionName>J</typ:jobDefinitionName></typ:submitESSJobRequest></soapenv:Body>"
        "</soapenv:Envelope>"
    )
    response = session.post(f"{BASE}/fscmService/ErpIntegrationService", data=envelope.encode())
    assert response.status_code == 200
    assert "submitESSJobRequestResponse" in response.text
    bad = session.post(
        f"{BASE}/fscmService/ErpIntegrationService",
        data=b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
    )
    assert bad.status_code == 400
