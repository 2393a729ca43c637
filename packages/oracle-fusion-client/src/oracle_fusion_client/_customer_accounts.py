"""Receivables customer accounts: created through the Trading Community SOAP services (zeep),
found again through the REST Receivables resources.

Fusion's REST API reads customer accounts (``receivablesCustomerAccountActivities``,
``receivablesCustomerAccountSiteActivities``) but creates none; an account with a bill-to site
takes three SOAP calls, each answering the ids the next one needs:

1. ``LocationService.createLocation`` -> ``LocationId`` (the address);
2. ``OrganizationService.createOrganization`` -> ``PartyId``, ``PartyNumber`` and the
   ``PartySiteId`` of a party site on that location with a ``BILL_TO`` use;
3. ``CustomerAccountService.createCustomerAccount`` -> ``CustomerAccountId``,
   ``AccountNumber``, the account site and its ``BILL_TO`` site use.

A later change of the name or the address goes to the same services: ``getOrganization`` (the
party's sites and their locations), ``updateOrganization`` (``OrganizationName``) and
``getLocation``/``updateLocation`` (the bill-to address). :meth:`CustomerAccounts.details`
reads an account with its name and address; :meth:`CustomerAccounts.update` sends only what
differs, so it is safe to repeat.

The three create calls are not idempotent. :meth:`CustomerAccounts.create` sends each call
once; a lost answer surfaces as :class:`FusionConnectionError` with ``sent=True``. Give the
account a number (``NewCustomerAccount.account_number``) so that such an outcome can be
resolved with :meth:`CustomerAccounts.find` before anything is sent again.
``OrigSystemReference`` carries the caller's own id for people reading Fusion.

WSDLs: real pods publish them at ``<origin>/crmService/<Service>?WSDL`` (the default);
``bundled=True`` uses the subsets shipped in ``oracle_fusion_client/wsdl`` (the emulator
serves the same files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, cast

import requests

from ._auth import FusionAuth
from ._client import FusionClient
from ._errors import (
    FusionInputError,
)
from ._models import CustomerAccountActivity, CustomerAccountSite
from ._resources import CustomerAccountActivities, CustomerAccountSites
from ._soap import FusionSoapFaultError, call_operation, open_service

__all__ = [
    "AccountAddress",
    "CreatedCustomerAccount",
    "CustomerAccountDetails",
    "CustomerAccounts",
    "NewCustomerAccount",
]

_PARTIES = "http://xmlns.oracle.com/apps/cdm/foundation/parties/"
#: service -> (path, WSDL file, binding QName)
_SERVICES: dict[str, tuple[str, str, str]] = {
    "location": (
        "/crmService/FoundationPartiesLocationService",
        "FoundationPartiesLocationService.wsdl",
        f"{{{_PARTIES}locationService/applicationModule/}}LocationServiceSoapHttp",
    ),
    "organization": (
        "/crmService/FoundationPartiesOrganizationService",
        "FoundationPartiesOrganizationService.wsdl",
        f"{{{_PARTIES}organizationService/applicationModule/}}OrganizationServiceSoapHttp",
    ),
    "account": (
        "/crmService/CustomerAccountService",
        "CustomerAccountService.wsdl",
        f"{{{_PARTIES}customerAccountService/applicationModule/}}CustomerAccountServiceSoapHttp",
    ),
}
_COUNTRY = re.compile(r"[A-Z]{2}")
#: AccountNumber is VARCHAR2(30) in Trading Community
_MAX_ACCOUNT_NUMBER = 30


def _text(owner: str, name: str, value: str | None, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise FusionInputError(f"{owner}.{name}: required")
        return
    if not value.strip():
        raise FusionInputError(f"{owner}.{name}: must not be blank")


@dataclass(frozen=True)
class AccountAddress:
    """The address of the account's site (a Trading Community location)."""

    address1: str
    country: str = "US"
    """ISO 3166 alpha-2 code."""
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None

    def __post_init__(self) -> None:
        _text("AccountAddress", "address1", self.address1, required=True)
        if not _COUNTRY.fullmatch(self.country):
            raise FusionInputError(
                f"AccountAddress.country: {self.country!r} is not an ISO alpha-2 code such as US"
            )
        for name in ("address2", "city", "state", "postal_code"):
            _text("AccountAddress", name, cast(str | None, getattr(self, name)))


@dataclass(frozen=True)
class NewCustomerAccount:
    """An organization party, its customer account and one account site with its purpose."""

    party_name: str
    address: AccountAddress
    account_number: str | None = None
    """``None``: Fusion numbers the account (then a lost answer cannot be looked up)."""
    account_name: str | None = None
    """Defaults to ``party_name``."""
    orig_system_reference: str | None = None
    """The caller's id of the customer (for example a Salesforce Account id)."""
    orig_system: str | None = None
    """A source system defined in Fusion (Manage Trading Community Source Systems)."""
    site_purpose: Literal["BILL_TO", "SHIP_TO"] = "BILL_TO"
    set_id: int | None = None
    """Reference data set of the account site; ``None`` uses Fusion's default."""
    created_by_module: str = "HZ_WS"

    def __post_init__(self) -> None:
        owner = "NewCustomerAccount"
        _text(owner, "party_name", self.party_name, required=True)
        for name in ("account_number", "account_name", "orig_system_reference", "orig_system"):
            _text(owner, name, cast(str | None, getattr(self, name)))
        _text(owner, "created_by_module", self.created_by_module, required=True)
        if self.account_number is not None and len(self.account_number) > _MAX_ACCOUNT_NUMBER:
            raise FusionInputError(
                f"{owner}.account_number: longer than {_MAX_ACCOUNT_NUMBER} characters"
            )
        if self.site_purpose not in ("BILL_TO", "SHIP_TO"):
            raise FusionInputError(f"{owner}.site_purpose: must be BILL_TO or SHIP_TO")


@dataclass(frozen=True)
class CreatedCustomerAccount:
    """The ids Fusion answered for a new account."""

    party_id: int
    party_number: str
    account_id: int
    account_number: str
    location_id: int
    party_site_id: int
    account_site_id: int
    site_use_id: int
    site_number: str
    """The site use's ``Location``: ``BillToSiteNumber`` in the REST site resource."""


@dataclass(frozen=True)
class CustomerAccountDetails:
    """A customer account as Fusion holds it: the Receivables account (REST), its party's
    organization name and the address of the party's first site (SOAP)."""

    account_number: str
    party_id: int
    party_name: str
    account_id: int | None = None
    location_id: int | None = None
    """``None``: the party has no site (then it has no address either)."""
    address: AccountAddress | None = None


def _location(address: AccountAddress) -> dict[str, str | None]:
    """The address as the ``Location`` of ``createLocation`` / ``updateLocation``."""
    return {
        "Country": address.country,
        "Address1": address.address1,
        "Address2": address.address2,
        "City": address.city,
        "State": address.state,
        "PostalCode": address.postal_code,
    }


def _opt(value: Any) -> str | None:
    text = None if value is None else str(value).strip()
    return text or None


def _bundled(file_name: str) -> str:
    return str(resources.files("oracle_fusion_client").joinpath(f"wsdl/{file_name}"))


class CustomerAccounts:
    """Create customer accounts over SOAP; find them over REST.

    ``session`` is shared with the REST resources (mount :class:`WSGIAdapter` on it to talk
    to the emulator in-process); ``auth`` sets ``Authorization`` on every SOAP request.
    """

    def __init__(
        self,
        *,
        base_url: str,
        auth: FusionAuth,
        activities: CustomerAccountActivities,
        sites: CustomerAccountSites,
        session: requests.Session | None = None,
        bundled: bool = False,
        timeout: int = 120,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.auth = auth
        self._activities = activities
        self._sites = sites
        self._bundled = bundled
        self._timeout = timeout
        self._services: dict[str, Any] = {}

    @classmethod
    def from_client(
        cls, client: FusionClient, *, bundled: bool = False, timeout: int = 120
    ) -> CustomerAccounts:
        """Sharing the REST client's origin, session and credentials."""
        http = client.http
        return cls(
            base_url=http.base_url,
            auth=http.auth,
            activities=client.customer_account_activities,
            sites=client.customer_account_sites,
            session=http.session,
            bundled=bundled,
            timeout=timeout,
        )

    # -- find (REST) ---------------------------------------------------------------------
    def find(self, account_number: str) -> CustomerAccountActivity | None:
        """``GET receivablesCustomerAccountActivities?q=AccountNumber=...``."""
        return self._activities.find_by_account_number(account_number)

    def bill_to_sites(self, account_number: str) -> list[CustomerAccountSite]:
        """The account's bill-to sites (``CustomerAccountSiteActivitiesFinder``)."""
        return self._sites.find_by_account_number(account_number)

    # -- create (SOAP) -------------------------------------------------------------------
    def create(self, new: NewCustomerAccount) -> CreatedCustomerAccount:
        """Location, organization party and customer account with its site: three calls.

        A refusal raises :class:`FusionSoapFaultError` (``fault_code`` ``Client``); a lost
        answer raises :class:`FusionConnectionError` with ``sent=True``: look the account up
        with :meth:`find` before creating it again.
        """
        module = new.created_by_module
        address = new.address
        location = self._call(
            "location",
            "createLocation",
            location={**_location(address), "CreatedByModule": module},
        )
        location_id = int(location.LocationId)
        party = self._call(
            "organization",
            "createOrganization",
            organizationParty={
                "CreatedByModule": module,
                "OrganizationProfile": [
                    {"OrganizationName": new.party_name, "CreatedByModule": module}
                ],
                "PartySite": [
                    {
                        "LocationId": location_id,
                        "CreatedByModule": module,
                        "PartySiteUse": [
                            {"SiteUseType": new.site_purpose, "CreatedByModule": module}
                        ],
                    }
                ],
            },
        )
        party_site = party.PartySite[0]
        account = self._call(
            "account",
            "createCustomerAccount",
            customerAccount={
                "PartyId": int(party.PartyId),
                "AccountNumber": new.account_number,
                "AccountName": new.account_name or new.party_name,
                "OrigSystem": new.orig_system,
                "OrigSystemReference": new.orig_system_reference,
                "CreatedByModule": module,
                "CustomerAccountSite": [
                    {
                        "PartySiteId": int(party_site.PartySiteId),
                        "SetId": new.set_id,
                        "CreatedByModule": module,
                        "CustomerAccountSiteUse": [
                            {
                                "SiteUseCode": new.site_purpose,
                                "PrimaryFlag": True,
                                "CreatedByModule": module,
                            }
                        ],
                    }
                ],
            },
        )
        site = account.CustomerAccountSite[0]
        use = site.CustomerAccountSiteUse[0]
        return CreatedCustomerAccount(
            party_id=int(party.PartyId),
            party_number=str(party.PartyNumber),
            account_id=int(account.CustomerAccountId),
            account_number=str(account.AccountNumber),
            location_id=location_id,
            party_site_id=int(party_site.PartySiteId),
            account_site_id=int(site.CustomerAccountSiteId),
            site_use_id=int(use.SiteUseId),
            site_number=str(use.Location or party_site.PartySiteNumber),
        )

    # -- read and update (SOAP) ----------------------------------------------------------
    def details(self, account_number: str) -> CustomerAccountDetails | None:
        """The account by number (REST) with its party name and bill-to address (SOAP
        ``getOrganization`` and ``getLocation``); ``None`` when there is no such account."""
        found = self.find(account_number)
        if found is None or found.CustomerId is None:
            return None
        party = self._get("organization", "getOrganization", partyId=int(found.CustomerId))
        profiles = list(getattr(party, "OrganizationProfile", None) or [])
        name = _opt(profiles[0].OrganizationName) if profiles else None
        sites = cast(list[Any], getattr(party, "PartySite", None) or [])
        located = [int(s.LocationId) for s in sites if s.LocationId is not None]
        location_id = located[0] if located else None
        address = None
        if location_id is not None:
            location = self._get("location", "getLocation", locationId=location_id)
            address = AccountAddress(
                address1=str(location.Address1),
                country=str(location.Country),
                address2=_opt(location.Address2),
                city=_opt(location.City),
                state=_opt(location.State),
                postal_code=_opt(location.PostalCode),
            )
        return CustomerAccountDetails(
            account_number=account_number,
            party_id=int(found.CustomerId),
            party_name=name or found.CustomerName or "",
            account_id=found.AccountId,
            location_id=location_id,
            address=address,
        )

    def update(
        self,
        account_number: str,
        *,
        party_name: str | None = None,
        address: AccountAddress | None = None,
        current: CustomerAccountDetails | None = None,
    ) -> CustomerAccountDetails:
        """Set the organization name and/or the bill-to address where Fusion differs; ``None``
        leaves one as it is. Repeating it sends nothing. A party without a site cannot take
        an address: :class:`FusionInputError` (add the site in Fusion). ``current``: the
        account as just read with :meth:`details` (saves reading it again)."""
        if party_name is not None:
            _text("update", "party_name", party_name, required=True)
        if current is None or current.account_number != account_number:
            current = self.details(account_number)
        if current is None:
            raise FusionInputError(f"update.account_number: no customer account {account_number}")
        if party_name is not None and party_name != current.party_name:
            self._call(
                "organization",
                "updateOrganization",
                organizationParty={
                    "PartyId": current.party_id,
                    "OrganizationProfile": [{"OrganizationName": party_name}],
                },
            )
        if address is not None and address != current.address:
            if current.location_id is None:
                raise FusionInputError(
                    f"update.address: the party of account {account_number} has no site"
                )
            self._call(
                "location",
                "updateLocation",
                location={"LocationId": current.location_id, **_location(address)},
            )
        updated = self.details(account_number)
        assert updated is not None  # it was there a moment ago and accounts are not deleted
        return updated

    # -- zeep ----------------------------------------------------------------------------
    def _service(self, name: str) -> Any:
        if name not in self._services:
            path, file_name, binding = _SERVICES[name]
            self._services[name] = open_service(
                self.session,
                source=_bundled(file_name) if self._bundled else f"{self.base_url}{path}?WSDL",
                binding=binding,
                address=self.base_url + path,
                timeout=self._timeout,
            )
        return self._services[name]

    def _get(self, service: str, operation: str, **kwargs: Any) -> Any:
        """A get operation's ``result``: the object itself."""
        url = self.base_url + _SERVICES[service][0]
        result: Any = call_operation(self._service(service), operation, url, **kwargs)
        if result is None:
            raise FusionSoapFaultError(
                f"{operation} answered no result", fault_code=None, status_code=200
            )
        return result

    def _call(self, service: str, operation: str, **kwargs: Any) -> Any:
        """The first ``Value`` of the operation's ``result``."""
        url = self.base_url + _SERVICES[service][0]
        result: Any = call_operation(self._service(service), operation, url, **kwargs)
        # zeep unwraps a single-child result: the Value list itself, or the result object
        if isinstance(result, list):
            values = cast(list[Any], result)
        else:
            values = cast(list[Any], getattr(result, "Value", None) or [])
        if not values:
            raise FusionSoapFaultError(
                f"{operation} answered no Value", fault_code=None, status_code=200
            )
        return values[0]

    def __repr__(self) -> str:
        return f"CustomerAccounts(base_url={self.base_url!r}, auth={self.session.auth!r})"
