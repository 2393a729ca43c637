"""The SOAP ``ErpIntegrationService`` through zeep.

Real pods publish the WSDL at ``<origin>/fscmService/ErpIntegrationService?WSDL`` (the
default); :func:`bundled_wsdl` is the subset this package ships for the emulator and for
offline use. Authentication is any :class:`FusionAuth` (HTTP ``Authorization`` header), set
on the ``requests`` session zeep uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any, cast

import requests

from ._auth import FusionAuth
from ._errors import (
    FusionConnectionError,
    FusionStatusError,
    FusionTimeoutError,
    status_error_class,
)

__all__ = ["ErpIntegrationSoap", "FusionSoapFaultError", "bundled_wsdl"]

SERVICE_PATH = "/fscmService/ErpIntegrationService"
ERP_NS = "http://xmlns.oracle.com/apps/financials/commonModules/shared/model/erpIntegrationService/"
BINDING = f"{{{ERP_NS}}}ErpIntegrationServiceSoapHttp"


class FusionSoapFaultError(FusionStatusError):
    """A SOAP fault; ``fault_code`` is its ``faultcode`` (``Client``/``Server``)."""

    def __init__(self, message: str, *, fault_code: str | None, **kwargs: Any) -> None:
        self.fault_code = fault_code
        super().__init__(message, **kwargs)


def bundled_wsdl() -> str:
    """Path of the WSDL shipped with the package."""
    return str(resources.files("oracle_fusion_client").joinpath("wsdl/ErpIntegrationService.wsdl"))


def open_service(
    session: requests.Session, *, source: str, binding: str, address: str, timeout: int
) -> Any:
    """A zeep service proxy for ``binding`` at ``address``, sending over ``session``."""
    import zeep  # lazily: zeep and lxml are only needed for SOAP
    from zeep.transports import Transport

    transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
    client: Any = zeep.Client(source, transport=transport)
    return client.create_service(binding, address)


def call_operation(service: Any, operation: str, url: str, **kwargs: Any) -> Any:
    """Calls ``operation`` on a zeep ``service``, mapping faults and transport failures to
    this package's errors (a lost answer is ``sent=True``: the write may have happened)."""
    import zeep.exceptions

    try:
        return getattr(service, operation)(**kwargs)
    except zeep.exceptions.Fault as exc:
        fault: Any = exc
        code = cast(str | None, fault.code)
        message = str(fault.message)
        raise FusionSoapFaultError(
            f"{operation} failed: {message}",
            fault_code=code.rsplit(":", 1)[-1] if code else None,
            status_code=500,
            detail=message,
        ) from None
    except zeep.exceptions.TransportError as exc:
        status = int(exc.status_code)
        raise status_error_class(status)(
            f"{operation} failed with HTTP {status}", status_code=status
        ) from None
    except requests.RequestException as exc:
        kind = FusionTimeoutError if isinstance(exc, requests.Timeout) else FusionConnectionError
        raise kind(
            f"no response from Fusion: {type(exc).__name__}", method="POST", url=url, sent=True
        ) from None


class ErpIntegrationSoap:
    """Typed wrapper of the five ESS/UCM operations most integrations need."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: FusionAuth,
        session: requests.Session | None = None,
        wsdl: str | None = None,
        timeout: int = 120,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.auth = auth
        self._service: Any = open_service(
            self.session,
            source=wsdl or f"{self.base_url}{SERVICE_PATH}?WSDL",
            binding=BINDING,
            address=self.base_url + SERVICE_PATH,
            timeout=timeout,
        )

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return call_operation(self._service, operation, self.base_url + SERVICE_PATH, **kwargs)

    def upload_file_to_ucm(
        self,
        content: bytes,
        *,
        file_name: str,
        document_account: str,
        content_type: str = "zip",
        title: str | None = None,
        security_group: str = "FAFusionImportExport",
    ) -> str:
        """Upload a file to UCM; returns its DocumentId."""
        document = {
            "Content": content,
            "FileName": file_name,
            "ContentType": content_type,
            "DocumentTitle": title or file_name,
            "DocumentSecurityGroup": security_group,
            "DocumentAccount": document_account,
        }
        return str(self._call("uploadFileToUcm", document=document))

    def import_bulk_data(
        self,
        content: bytes,
        *,
        file_name: str,
        document_account: str,
        job_name: str,
        parameter_list: str,
        notification_code: str = "10",
        callback_url: str = "#NULL",
        job_options: str | None = None,
    ) -> int:
        """Upload an FBDI zip and start its import; returns the ESS request id."""
        return int(
            self._call(
                "importBulkData",
                document={
                    "Content": content,
                    "FileName": file_name,
                    "ContentType": "zip",
                    "DocumentAccount": document_account,
                    "DocumentSecurityGroup": "FAFusionImportExport",
                },
                jobDetails={"JobName": job_name, "ParameterList": parameter_list},
                notificationCode=notification_code,
                callbackURL=callback_url,
                jobOptions=job_options,
            )
        )

    def submit_ess_job_request(
        self, job_package_name: str, job_definition_name: str, params: Sequence[str] = ()
    ) -> int:
        return int(
            self._call(
                "submitESSJobRequest",
                jobPackageName=job_package_name,
                jobDefinitionName=job_definition_name,
                paramList=list(params),
            )
        )

    def get_ess_job_status(self, request_id: int) -> str:
        return str(self._call("getESSJobStatus", requestId=request_id))

    def download_ess_job_execution_details(
        self, request_id: int, file_type: str = "ALL"
    ) -> list[bytes]:
        """The job's log/output files (zip bytes), one per returned document."""
        documents = self._call(
            "downloadESSJobExecutionDetails", requestId=str(request_id), fileType=file_type
        )
        return [bytes(d.Content) for d in cast(list[Any], documents or [])]

    def __repr__(self) -> str:
        return f"ErpIntegrationSoap(base_url={self.base_url!r}, auth={self.session.auth!r})"
