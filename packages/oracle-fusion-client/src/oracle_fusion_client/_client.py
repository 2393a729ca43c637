"""FusionClient: one object, keyword-only configuration, one attribute per resource."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Mapping, Sequence

import requests

from ._auth import FusionAuth
from ._describe import ResourceDescribe, describe_resource
from ._erp import ErpIntegrations
from ._http import (
    DEFAULT_API_VERSION,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUTS,
    BatchPart,
    BatchResult,
    FusionHTTP,
    Timeouts,
)
from ._resources import (
    CreditMemos,
    CurrencyRates,
    CustomerAccountActivities,
    CustomerAccountSites,
    Invoices,
    SalesOrders,
    StandardReceipts,
)
from ._retry import RetryConfig

__all__ = ["FusionClient"]


class FusionClient:
    """A client for the Fusion ``fscmRestApi`` of one pod.

    ``base_url`` is the pod's origin (``https://<pod>.fa.<dc>.oraclecloud.com``); resources live
    under ``/fscmRestApi/resources/<api_version>/``. ``session`` is injectable (mount
    :class:`WSGIAdapter` on it to talk to the emulator in-process).
    """

    def __init__(
        self,
        *,
        base_url: str,
        auth: FusionAuth,
        session: requests.Session | None = None,
        api_version: str = DEFAULT_API_VERSION,
        framework_version: str = "4",
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: RetryConfig = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``headers`` are sent with every request (for example ``Metadata-Context``)."""
        self._attach(
            FusionHTTP(
                base_url=base_url,
                auth=auth,
                session=session,
                api_version=api_version,
                framework_version=framework_version,
                timeouts=timeouts,
                retry=retry,
                sleep=sleep,
                rand=rand,
                headers=headers,
            )
        )

    def _attach(self, http: FusionHTTP) -> None:
        self.http = http
        self.standard_receipts = StandardReceipts(self.http)
        self.receivables_invoices = Invoices(self.http)
        self.receivables_credit_memos = CreditMemos(self.http)
        self.sales_orders = SalesOrders(self.http)
        self.customer_account_activities = CustomerAccountActivities(self.http)
        self.customer_account_sites = CustomerAccountSites(self.http)
        self.currency_rates = CurrencyRates(self.http)
        self.erp_integrations = ErpIntegrations(self.http)

    def with_options(
        self,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryConfig | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FusionClient:
        """A client for a few calls with other settings (same session, auth and token):
        ``client.with_options(timeouts=Timeouts(read=300)).erp_integrations.job_status(id)``."""
        derived = copy.copy(self)
        derived._attach(self.http.derive(timeouts=timeouts, retry=retry, headers=headers))
        return derived

    def describe(self, resource: str) -> ResourceDescribe:
        """The resource's metadata (``GET <resource>/describe``): attributes and children."""
        return describe_resource(self.http, resource)

    def batch(self, parts: Sequence[BatchPart]) -> list[BatchResult]:
        """One ``application/vnd.oracle.adf.batch+json`` request; all parts or none."""
        return self.http.batch(parts)

    def close(self) -> None:
        self.http.session.close()

    def __enter__(self) -> FusionClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FusionClient(base_url={self.http.base_url!r}, auth={self.http.auth!r})"
