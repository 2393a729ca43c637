"""The SOAP ``ErpIntegrationService`` of the emulator, over the same ESS jobs as REST.

``GET /fscmService/ErpIntegrationService?WSDL`` serves the package's WSDL with this server's
address; ``POST`` accepts SOAP 1.1 document/literal requests (as sent by zeep) for
uploadFileToUcm, importBulkData, submitESSJobRequest, getESSJobStatus and
downloadESSJobExecutionDetails. Credentials: an ``Authorization`` header or a WS-Security
``UsernameToken``, checked by the same policy as REST.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from importlib import resources
from xml.etree import ElementTree as ET

from ._authcheck import AuthPolicy
from ._erp import erp_post, job_log, job_status
from ._state import ApiError, State

__all__ = ["LEGACY_SERVICE_PATH", "SERVICE_PATH", "handle_soap", "wsdl_text"]

SERVICE_PATH = "/fscmService/ErpIntegrationService"
#: the older address integrators still use (reference §5.2), same service
LEGACY_SERVICE_PATH = "/publicFinancialCommonErpIntegration/ErpIntegrationService"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ERP_NS = "http://xmlns.oracle.com/apps/financials/commonModules/shared/model/erpIntegrationService/"
TYPES_NS = ERP_NS + "types/"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PLACEHOLDER = "https://localhost" + SERVICE_PATH


def wsdl_text(address: str) -> str:
    text = (
        resources.files("oracle_fusion_client")
        .joinpath("wsdl/ErpIntegrationService.wsdl")
        .read_text(encoding="utf-8")
    )
    return text.replace(PLACEHOLDER, address)


def local_name(element: ET.Element) -> str:
    """The tag without its namespace (namespaces are ignored on input, as Fusion's parsers
    are lenient)."""
    return element.tag.rsplit("}", 1)[-1]


def _children(parent: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in parent.iter() if local_name(e) == name]


def _text(parent: ET.Element, name: str) -> str | None:
    found = _children(parent, name)
    return None if not found or found[0].text is None else found[0].text


def _envelope(build: Callable[[ET.Element], None]) -> bytes:
    env = ET.Element(f"{{{SOAP_ENV}}}Envelope")
    body = ET.SubElement(env, f"{{{SOAP_ENV}}}Body")
    build(body)
    return ET.tostring(env, xml_declaration=True, encoding="UTF-8")


ADF_ERRORS_NS = "http://xmlns.oracle.com/adf/svc/errors/"


def fault(code: str, message: str, *, error_code: str | None = None) -> bytes:
    """A SOAP 1.1 fault whose ``detail`` carries ADF's ``ServiceErrorMessage``
    (``{http://xmlns.oracle.com/adf/svc/errors/}``: code, message, severity; reference §5.2)."""

    def build(body: ET.Element) -> None:
        element = ET.SubElement(body, f"{{{SOAP_ENV}}}Fault")
        # the Envelope's namespace gets the generated prefix ns0
        ET.SubElement(element, "faultcode").text = f"ns0:{code}"
        ET.SubElement(element, "faultstring").text = message
        detail = ET.SubElement(element, "detail")
        service_error = ET.SubElement(detail, f"{{{ADF_ERRORS_NS}}}ServiceErrorMessage")
        ET.SubElement(service_error, f"{{{ADF_ERRORS_NS}}}code").text = error_code or ""
        ET.SubElement(service_error, f"{{{ADF_ERRORS_NS}}}message").text = message
        ET.SubElement(service_error, f"{{{ADF_ERRORS_NS}}}severity").text = "SEVERITY_ERROR"

    return _envelope(build)


def _result(operation: str, value: str | list[Mapping[str, str]]) -> bytes:
    def build(body: ET.Element) -> None:
        wrapper = ET.SubElement(body, f"{{{TYPES_NS}}}{operation}Response")
        if isinstance(value, str):
            ET.SubElement(wrapper, f"{{{TYPES_NS}}}result").text = value
            return
        for document in value:
            result = ET.SubElement(wrapper, f"{{{TYPES_NS}}}result")
            for key, text in document.items():
                ET.SubElement(result, f"{{{ERP_NS}}}{key}").text = text

    return _envelope(build)


def _authorize(policy: AuthPolicy, header: str | None, envelope: ET.Element) -> None:
    if header is None:  # WS-Security UsernameToken, checked like Basic credentials
        user = _text(envelope, "Username")
        password = _text(envelope, "Password")
        if user is not None:
            raw = f"{user}:{password or ''}".encode()
            header = "Basic " + base64.b64encode(raw).decode("ascii")
    policy.check(header)


def read_request(
    policy: AuthPolicy, data: bytes, authorization: str | None
) -> ET.Element | tuple[int, bytes]:
    """The operation element of an authorized SOAP 1.1 request, or the (HTTP status, fault)
    refusing it: no DTDs, well-formed XML, a non-empty body, credentials the policy accepts."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return 400, fault("Client", "Document type declarations are not accepted.")
    try:
        # no DTDs (refused above), so no entity expansion; expat never fetches external data
        envelope = ET.fromstring(data)  # noqa: S314
    except ET.ParseError:
        return 400, fault("Client", "The request is not well-formed XML.")
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    request = None if body is None else next(iter(body), None)
    if request is None:
        return 400, fault("Client", "The SOAP body is empty.")
    try:
        _authorize(policy, authorization, envelope)
    except ApiError as exc:
        return 401, fault("Client", exc.detail)
    return request


def api_fault(exc: ApiError) -> tuple[int, bytes]:
    """A refusal of the emulated state as Fusion answers it over SOAP."""
    return 500, fault("Server" if exc.status >= 500 else "Client", exc.detail, error_code=exc.code)


def handle_soap(
    state: State, policy: AuthPolicy, data: bytes, authorization: str | None
) -> tuple[int, bytes]:
    """(HTTP status, SOAP envelope) for one request."""
    request = read_request(policy, data, authorization)
    if not isinstance(request, ET.Element):
        return request
    operation = local_name(request)
    try:
        with state.lock:
            return 200, _operation(state, operation, request)
    except ApiError as exc:
        return api_fault(exc)


def _operation(state: State, operation: str, request: ET.Element) -> bytes:
    if operation == "uploadFileToUcm":
        document_id = str(state.new_id())
        state.ucm[document_id] = {
            "FileName": _text(request, "FileName"),
            "DocumentAccount": _text(request, "DocumentAccount"),
            "Content": _text(request, "Content"),
        }
        return _result(operation, document_id)
    if operation == "importBulkData":
        content = _text(request, "Content")
        document_id = _text(request, "DocumentId")
        if content is None and document_id in state.ucm:
            content = state.ucm[document_id]["Content"]
        created = erp_post(
            state,
            {
                "OperationName": "importBulkData",
                "DocumentContent": content,
                "FileName": _text(request, "FileName") or "upload.zip",
                "DocumentAccount": _text(request, "DocumentAccount"),
                "JobName": _text(request, "JobName"),
                "ParameterList": _text(request, "ParameterList"),
            },
        )
        return _result(operation, str(created["ReqstId"]))
    if operation == "submitESSJobRequest":
        params = [e.text or "" for e in _children(request, "paramList")]
        created = erp_post(
            state,
            {
                "OperationName": "submitESSJobRequest",
                "JobPackageName": _text(request, "jobPackageName"),
                "JobDefName": _text(request, "jobDefinitionName"),
                "ESSParameters": ",".join(params),
            },
        )
        return _result(operation, str(created["ReqstId"]))
    if operation == "getESSJobStatus":
        return _result(operation, job_status(state, _text(request, "requestId") or ""))
    if operation == "downloadESSJobExecutionDetails":
        request_id = _text(request, "requestId") or ""
        document = {
            "Content": job_log(state, request_id),
            "FileName": f"{request_id}.zip",
            "ContentType": "zip",
            "DocumentName": f"{request_id}.zip",
        }
        return _result(operation, [document])
    raise ApiError(400, f"The operation {operation} isn't supported by the emulator.")
