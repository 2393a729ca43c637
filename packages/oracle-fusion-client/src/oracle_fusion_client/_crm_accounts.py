"""The CRM ``accounts`` resource (``/crmRestApi/resources/<version>/accounts``, keyed by
``PartyNumber``): the organization party behind a customer account, with its primary address
and the ADF who-columns, so a poller can find parties changed since a moment.

It lives under ``crmRestApi``, not ``fscmRestApi``: :func:`crm_http` derives a
:class:`FusionHTTP` for that root sharing the session, credentials, retries and timeouts.
The CRM account carries no Receivables account number **[inferred]**; the party's customer
accounts are read from ``receivablesCustomerAccountActivities`` by ``CustomerId`` (=
``PartyId``): :meth:`CrmAccounts.account_numbers`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

from ._client import FusionClient
from ._http import FusionHTTP
from ._models import FusionModel
from ._query import MAX_PAGE_SIZE, Cond, Query, q_and
from ._resources import Fetched

__all__ = ["CRM_API", "CrmAccount", "CrmAccounts", "crm_http"]

CRM_API = "crmRestApi"


class CrmAccount(FusionModel):
    """One CRM account (an organization party); unknown attributes are kept."""

    PartyId: int | None = None
    PartyNumber: str | None = None
    OrganizationName: str | None = None
    Type: str | None = None
    """``ZCA_CUSTOMER``, ``ZCA_PROSPECT``, ``ZCA_CONTACT``."""
    AddressLine1: str | None = None
    AddressLine2: str | None = None
    City: str | None = None
    State: str | None = None
    PostalCode: str | None = None
    Country: str | None = None
    CreatedBy: str | None = None
    CreationDate: datetime | None = None
    LastUpdatedBy: str | None = None
    LastUpdateDate: datetime | None = None


def crm_http(http: FusionHTTP) -> FusionHTTP:
    """``http`` for ``/crmRestApi/resources/<version>`` (same session, auth and settings)."""
    derived = http.derive()
    derived.root_url = f"{http.base_url}/{CRM_API}/resources/{http.api_version}"
    return derived


class CrmAccounts:
    """``/crmRestApi/.../accounts`` (read): an account by ``PartyNumber``, queries, changes."""

    path = "accounts"

    def __init__(self, http: FusionHTTP) -> None:
        """``http``: the ``fscmRestApi`` client's (``client.http``); the CRM root is derived."""
        self._fscm = http
        self._http = crm_http(http)

    @classmethod
    def from_client(cls, client: FusionClient) -> CrmAccounts:
        return cls(client.http)

    def get(self, party_number: str, query: Query | None = None) -> Fetched[CrmAccount]:
        params = (query or Query()).params()
        item = self._http.json("GET", f"{self.path}/{quote(party_number, safe='')}", params=params)
        return Fetched(CrmAccount.model_validate(item.data), item.etag)

    def list(self, query: Query | None = None) -> Iterator[CrmAccount]:
        """Lazily iterate the collection (``q``, ``orderBy``, paging from ``query``)."""
        for raw in self._http.iterate(self.path, query or Query()):
            yield CrmAccount.model_validate(raw)

    def changed_since(self, since: datetime, q: str | None = None) -> Iterator[CrmAccount]:
        """Accounts with ``LastUpdateDate`` after ``since`` (timezone-aware), oldest first."""
        stamp = Cond("LastUpdateDate", ">", since)
        query = Query(
            q=q_and(stamp, q) if q else stamp,
            order_by=(("LastUpdateDate", "asc"), ("PartyNumber", "asc")),
            limit=MAX_PAGE_SIZE,
        )
        return self.list(query)

    def account_numbers(self, party_id: int) -> list[str]:
        """The Receivables customer account numbers of the party (``fscmRestApi``
        ``receivablesCustomerAccountActivities`` by ``CustomerId``), in number order."""
        query = Query(q=Cond("CustomerId", "=", party_id), fields=("AccountNumber",))
        rows = self._fscm.iterate("receivablesCustomerAccountActivities", query)
        return sorted({str(r["AccountNumber"]) for r in rows if r.get("AccountNumber")})
