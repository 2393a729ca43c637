"""The one exception tree of ``salesforce_bridge``.

Every exception this package raises derives from :class:`SalesforceBridgeError`::

    SalesforceBridgeError
    ├── SalesforceAuthError               token endpoint refused a grant (error, error_description)
    ├── SalesforceConnectionError         no usable HTTP answer (reset, DNS, TLS, ...)
    │   └── SalesforceTimeoutError        connect or read timeout; a write may have committed
    ├── SalesforceQuotaError              fail-fast: remaining daily API calls <= configured floor
    ├── SalesforceFieldDriftError         describe-based mapping check found problems (problems)
    ├── SalesforceBulkError               a Bulk API 2.0 chunk failed (finished job handles kept)
    └── SalesforceStatusError             Salesforce answered >= 300 (status_code, errors, url)
        ├── SalesforceMultipleMatchesError   300: an external id matched several records
        ├── SalesforceBadRequestError        400: malformed request, validation, SOQL errors
        ├── SalesforceSessionError           401: INVALID_SESSION_ID still after one refresh
        ├── SalesforceForbiddenError         403
        │   └── SalesforceRequestLimitError  403 REQUEST_LIMIT_EXCEEDED: daily API limit spent
        ├── SalesforceNotFoundError          404: NOT_FOUND
        └── SalesforceServerError            >= 500

Status errors keep Salesforce's error array (``[{"message","errorCode","fields"}]``) as
:class:`ErrorDetail` items. Status codes map to classes in exactly one place,
:func:`status_error`. Messages never contain tokens, passwords, secrets or keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from pydantic import BaseModel, ConfigDict

__all__ = [
    "ErrorDetail",
    "FieldProblem",
    "SalesforceAuthError",
    "SalesforceBadRequestError",
    "SalesforceBridgeError",
    "SalesforceBulkError",
    "SalesforceConnectionError",
    "SalesforceFieldDriftError",
    "SalesforceForbiddenError",
    "SalesforceMultipleMatchesError",
    "SalesforceNotFoundError",
    "SalesforceQuotaError",
    "SalesforceRequestLimitError",
    "SalesforceServerError",
    "SalesforceSessionError",
    "SalesforceStatusError",
    "SalesforceTimeoutError",
    "parse_error_details",
    "status_error",
]


class ErrorDetail(BaseModel):
    """One item of a Salesforce error array.

    REST errors name the code ``errorCode``; collection and publish results name it
    ``statusCode``. Both end up in :attr:`code`.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    code: str
    message: str = ""
    fields: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, item: object) -> ErrorDetail:
        if not isinstance(item, dict):
            return cls(code="UNKNOWN", message=str(item))
        data = cast("dict[str, Any]", item)
        code = data.get("errorCode") or data.get("statusCode") or "UNKNOWN"
        raw_fields: object = data.get("fields") or []
        fields = (
            tuple(str(f) for f in cast("list[object]", raw_fields))
            if isinstance(raw_fields, list)
            else ()
        )
        return cls(code=str(code), message=str(data.get("message", "")), fields=fields)


def parse_error_details(body: object) -> tuple[ErrorDetail, ...]:
    """Read Salesforce's error array (or an OAuth error object) into details."""
    if isinstance(body, list):
        return tuple(ErrorDetail.from_wire(item) for item in cast("list[object]", body))
    if isinstance(body, dict):
        data = cast("dict[str, Any]", body)
        if "errorCode" in data or "statusCode" in data:
            return (ErrorDetail.from_wire(data),)
    return ()


class SalesforceBridgeError(Exception):
    """Root of every error raised by ``salesforce_bridge``."""


class SalesforceAuthError(SalesforceBridgeError):
    """The OAuth token endpoint refused the grant (``invalid_grant``, ``invalid_client``...)."""

    def __init__(self, error: str, description: str = "", *, status_code: int | None = None):
        self.error = error
        self.description = description
        self.status_code = status_code
        super().__init__(f"{error}: {description}" if description else error)


class SalesforceConnectionError(SalesforceBridgeError):
    """No usable HTTP answer: the server may or may not have received the request."""


class SalesforceTimeoutError(SalesforceConnectionError):
    """The call timed out; for writes the outcome is unknown (resolve it by lookup)."""


class SalesforceQuotaError(SalesforceBridgeError):
    """Raised *before* a call when the remaining daily API budget is at or below the floor."""

    def __init__(self, *, remaining: int, floor: int, limit: int):
        self.remaining = remaining
        self.floor = floor
        self.limit = limit
        super().__init__(
            f"daily API budget at floor: {remaining} of {limit} calls left, floor is {floor}"
        )


class FieldProblem(BaseModel):
    """One mismatch between a field mapping and an sObject's describe."""

    model_config = ConfigDict(frozen=True)

    sobject: str
    field: str
    problem: str  # "missing" | "not createable" | "not updateable"
    mapped_from: str | None = None
    """Our field name, when the check was given a mapping (ours -> Salesforce's)."""

    def __str__(self) -> str:
        source = f" (mapped from {self.mapped_from})" if self.mapped_from else ""
        return f"{self.sobject}.{self.field}{source}: {self.problem}"


class SalesforceFieldDriftError(SalesforceBridgeError):
    """A mapping refers to fields that do not exist or cannot be written."""

    def __init__(self, problems: Sequence[FieldProblem]):
        self.problems = tuple(problems)
        super().__init__("field drift: " + "; ".join(str(p) for p in self.problems))


class SalesforceBulkError(SalesforceBridgeError):
    """A Bulk API 2.0 run stopped. Nothing finished is lost: :attr:`jobs` holds every job that

    reached a final state before the failure, :attr:`failed_job_id` the job that was being worked
    on (if it was created), and ``__cause__`` the underlying error. For a query streamed to disk,
    :attr:`locator` and :attr:`records` say where to resume (``BulkClient.resume_query``).
    """

    def __init__(
        self,
        message: str,
        *,
        jobs: Sequence[Any] = (),
        failed_job_id: str | None = None,
        locator: str | None = None,
        records: int = 0,
    ):
        self.jobs = tuple(jobs)
        self.failed_job_id = failed_job_id
        self.locator = locator
        """Query results: the locator of the page that failed ("" for the first) to resume at."""
        self.records = records
        """Query results: how many records were written to disk before the failure."""
        super().__init__(message)


class SalesforceStatusError(SalesforceBridgeError):
    """Salesforce answered with a status >= 300; :attr:`errors` holds its error array."""

    def __init__(
        self,
        status_code: int,
        errors: Sequence[ErrorDetail] = (),
        *,
        url: str = "",
        body: object = None,
    ):
        self.status_code = status_code
        self.errors = tuple(errors)
        self.url = url
        self.body = body
        super().__init__(self._summary())

    @property
    def code(self) -> str | None:
        """The first ``errorCode``, if Salesforce sent one."""
        return self.errors[0].code if self.errors else None

    def _summary(self) -> str:
        detail = "; ".join(f"{e.code}: {e.message}" for e in self.errors) or "no error body"
        where = f" ({self.url})" if self.url else ""
        return f"HTTP {self.status_code}{where}: {detail}"


class SalesforceMultipleMatchesError(SalesforceStatusError):
    """300 Multiple Choices: the external id matched several records (:attr:`matches`)."""

    @property
    def matches(self) -> tuple[str, ...]:
        body: object = self.body
        if isinstance(body, list):
            return tuple(m for m in cast("list[object]", body) if isinstance(m, str))
        return ()


class SalesforceBadRequestError(SalesforceStatusError):
    """400: malformed request, failed validation or a SOQL error."""


class SalesforceSessionError(SalesforceStatusError):
    """401: the session stayed invalid even after one refresh through the grant."""


class SalesforceForbiddenError(SalesforceStatusError):
    """403: the request was refused."""


class SalesforceRequestLimitError(SalesforceForbiddenError):
    """403 ``REQUEST_LIMIT_EXCEEDED``: the org's daily API limit is spent."""


class SalesforceNotFoundError(SalesforceStatusError):
    """404 ``NOT_FOUND``: no such record, object or resource."""


class SalesforceServerError(SalesforceStatusError):
    """5xx: Salesforce failed; the request may be retried if it is idempotent."""


def status_error(status_code: int, body: object, *, url: str = "") -> SalesforceStatusError:
    """Map an HTTP status and Salesforce error body to the matching exception (the one table)."""
    errors = parse_error_details(body)
    cls: type[SalesforceStatusError]
    if status_code == 300:
        cls = SalesforceMultipleMatchesError
    elif status_code == 400:
        cls = SalesforceBadRequestError
    elif status_code == 401:
        cls = SalesforceSessionError
    elif status_code == 403:
        limit = any(e.code == "REQUEST_LIMIT_EXCEEDED" for e in errors)
        cls = SalesforceRequestLimitError if limit else SalesforceForbiddenError
    elif status_code == 404:
        cls = SalesforceNotFoundError
    elif status_code >= 500:
        cls = SalesforceServerError
    else:
        cls = SalesforceStatusError
    return cls(status_code, errors, url=url, body=body)
