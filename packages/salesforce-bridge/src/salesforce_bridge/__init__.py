"""salesforce_bridge: Salesforce REST for integrations, on simple-salesforce, with an emulator.

See the package README for a quickstart. The emulator lives in ``salesforce_bridge.emulator``.
"""

from ._auth import (
    ClientCredentialsGrant,
    JwtBearerGrant,
    PasswordGrant,
    RefreshTokenGrant,
    SalesforceGrant,
    SalesforceSession,
    StaticSessionGrant,
)
from ._bridge import COLLECTION_CHUNK, DEFAULT_API_VERSION, SalesforceBridge
from ._bulk import BulkClient, BulkJob, BulkQueryResult
from ._errors import (
    ErrorDetail,
    FieldProblem,
    SalesforceAuthError,
    SalesforceBadRequestError,
    SalesforceBridgeError,
    SalesforceBulkError,
    SalesforceConnectionError,
    SalesforceFieldDriftError,
    SalesforceForbiddenError,
    SalesforceMultipleMatchesError,
    SalesforceNotFoundError,
    SalesforceQuotaError,
    SalesforceRequestLimitError,
    SalesforceServerError,
    SalesforceSessionError,
    SalesforceStatusError,
    SalesforceTimeoutError,
    status_error,
)
from ._models import (
    FieldDescribe,
    PublishResult,
    Record,
    RecordAttributes,
    RecordResult,
    SObjectDescribe,
    UpsertResult,
)
from ._retry import RetryConfig, retry_delay
from ._session_auth import ApiUsage, parse_limit_info

__all__ = [
    "COLLECTION_CHUNK",
    "DEFAULT_API_VERSION",
    "ApiUsage",
    "BulkClient",
    "BulkJob",
    "BulkQueryResult",
    "ClientCredentialsGrant",
    "ErrorDetail",
    "FieldDescribe",
    "FieldProblem",
    "JwtBearerGrant",
    "PasswordGrant",
    "PublishResult",
    "Record",
    "RecordAttributes",
    "RecordResult",
    "RefreshTokenGrant",
    "RetryConfig",
    "SObjectDescribe",
    "SalesforceAuthError",
    "SalesforceBadRequestError",
    "SalesforceBridge",
    "SalesforceBridgeError",
    "SalesforceBulkError",
    "SalesforceConnectionError",
    "SalesforceFieldDriftError",
    "SalesforceForbiddenError",
    "SalesforceGrant",
    "SalesforceMultipleMatchesError",
    "SalesforceNotFoundError",
    "SalesforceQuotaError",
    "SalesforceRequestLimitError",
    "SalesforceServerError",
    "SalesforceSession",
    "SalesforceSessionError",
    "SalesforceStatusError",
    "SalesforceTimeoutError",
    "StaticSessionGrant",
    "UpsertResult",
    "parse_limit_info",
    "retry_delay",
    "status_error",
]
