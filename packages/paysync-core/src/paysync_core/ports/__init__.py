"""Adapters from the real clients to the engine: each effect with its lookup by correlation,
and one error classifier for the three clients' exception trees."""

from ._errors import ClientErrorClassifier
from .fusion import FusionPort
from .paytrace import PayTracePort, SaleOutcome, VaultProfile
from .salesforce import SalesforcePort

__all__ = [
    "ClientErrorClassifier",
    "FusionPort",
    "PayTracePort",
    "SaleOutcome",
    "SalesforcePort",
    "VaultProfile",
]
