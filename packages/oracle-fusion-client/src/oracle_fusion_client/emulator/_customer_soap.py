"""The Trading Community SOAP services of the emulator: a location, an organization party with
its site, and a customer account with its bill-to site.

Fusion's REST resources read customer accounts but do not create them; integrations create
them in three SOAP calls, each answering the new ids:

1. ``LocationService.createLocation`` (``/crmService/FoundationPartiesLocationService``):
   the address -> ``LocationId``;
2. ``OrganizationService.createOrganization``
   (``/crmService/FoundationPartiesOrganizationService``): the party, a party site on the
   location with its ``BILL_TO`` use -> ``PartyId``, ``PartyNumber``, ``PartySiteId``;
3. ``CustomerAccountService.createCustomerAccount`` (``/crmService/CustomerAccountService``):
   the account of the party, its account site on the party site and the site's ``BILL_TO``
   use -> ``CustomerAccountId``, ``AccountNumber`` (generated when not given),
   ``CustomerAccountSiteId``, ``SiteUseId``.

A later change is read and written with ``getOrganization``/``updateOrganization`` (the party
name) and ``getLocation``/``updateLocation`` (the address): an update changes only the
attributes it sends. A seeded Receivables customer is a party without a site.

Each call that creates the party or its account, or really changes the organization name
or a location of one of its sites, stamps the party's who-columns (``State.touch_party``, the
SOAP caller as ``LastUpdatedBy``): the ``crmRestApi`` ``accounts`` view (``_crm_accounts``)
serves them, so a poller finds the changes by ``LastUpdateDate``.

A created account joins the reference data, so ``receivablesCustomerAccountActivities`` and
``receivablesCustomerAccountSiteActivities`` list it and invoices may bill it. ``GET
<path>?WSDL`` serves the package's WSDL with this server's address. Refusals are SOAP faults
(``Client``); their texts are Oracle's where documented (a missing attribute), the emulator's
own otherwise (an unknown location or party, a duplicate account number).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from importlib import resources
from typing import Any, cast
from xml.etree import ElementTree as ET

from oracle_fusion_client._errors import ORACLE_MESSAGES

from ._authcheck import AuthPolicy
from ._soap import SOAP_ENV, api_fault, fault, local_name, read_request
from ._state import ApiError, State

__all__ = ["CUSTOMER_SOAP_PATHS", "customer_wsdl_text", "handle_customer_soap"]

_PARTIES = "http://xmlns.oracle.com/apps/cdm/foundation/parties/"
CUSTOMER_NS = _PARTIES + "customerAccountService/"
ORGANIZATION_NS = _PARTIES + "organizationService/"
PARTY_NS = _PARTIES + "partyService/"
LOCATION_NS = _PARTIES + "locationService/"

#: request path -> (bundled WSDL, its SDO namespace, types namespace)
_SERVICES: Mapping[str, tuple[str, str, str]] = {
    "/crmService/CustomerAccountService": (
        "CustomerAccountService.wsdl",
        CUSTOMER_NS,
        CUSTOMER_NS + "applicationModule/types/",
    ),
    "/crmService/FoundationPartiesOrganizationService": (
        "FoundationPartiesOrganizationService.wsdl",
        ORGANIZATION_NS,
        ORGANIZATION_NS + "applicationModule/types/",
    ),
    "/crmService/FoundationPartiesLocationService": (
        "FoundationPartiesLocationService.wsdl",
        LOCATION_NS,
        LOCATION_NS + "applicationModule/types/",
    ),
}
CUSTOMER_SOAP_PATHS = frozenset(_SERVICES)
#: a nested element whose own attributes live in another schema's namespace
_NESTED_NS = {"PartySite": PARTY_NS, "PartySiteUse": PARTY_NS}
SITE_USES = frozenset({"BILL_TO", "SHIP_TO"})


def customer_wsdl_text(path: str, origin: str) -> str:
    file_name = _SERVICES[path][0]
    text = resources.files("oracle_fusion_client").joinpath(f"wsdl/{file_name}").read_text("utf-8")
    return text.replace("https://localhost" + path, origin + path)


# -- XML helpers (namespaces are ignored on input, as Fusion's parsers are lenient) ----------
def _kids(parent: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in parent if local_name(e) == name]


def _value(parent: ET.Element, name: str) -> str | None:
    found = _kids(parent, name)
    text = found[0].text if found else None
    return text.strip() if text and text.strip() else None


def _required(parent: ET.Element, name: str) -> str:
    value = _value(parent, name)
    if value is None:
        message = ORACLE_MESSAGES["FND_CMN_REQ_ATTRIB_API_SERV"]
        raise ApiError(400, message.replace("{ATTRIBUTE_NAME}", name), path=name)
    return value


def _emit(parent: ET.Element, ns: str, record: Mapping[str, Any]) -> None:
    for key, value in record.items():
        if value is None:
            continue
        if isinstance(value, list):
            for item in cast(list[Mapping[str, Any]], value):
                child = ET.SubElement(parent, f"{{{ns}}}{key}")
                _emit(child, _NESTED_NS.get(key, ns), item)
        elif isinstance(value, bool):
            ET.SubElement(parent, f"{{{ns}}}{key}").text = "true" if value else "false"
        else:
            ET.SubElement(parent, f"{{{ns}}}{key}").text = str(value)


def _response(path: str, operation: str, value: Mapping[str, Any]) -> bytes:
    _, sdo_ns, types_ns = _SERVICES[path]
    env = ET.Element(f"{{{SOAP_ENV}}}Envelope")
    body = ET.SubElement(env, f"{{{SOAP_ENV}}}Body")
    wrapper = ET.SubElement(body, f"{{{types_ns}}}{operation}Response")
    result = ET.SubElement(wrapper, f"{{{types_ns}}}result")
    # get<Object> answers the object itself; create/update answer a list of Value
    _emit(result, sdo_ns, value if operation.startswith("get") else {"Value": [value]})
    return ET.tostring(env, xml_declaration=True, encoding="UTF-8")


def handle_customer_soap(  # noqa: PLR0917 - one request's parts
    state: State,
    policy: AuthPolicy,
    path: str,
    data: bytes,
    authorization: str | None,
    today: date,
) -> tuple[int, bytes]:
    """(HTTP status, SOAP envelope) for one request to one of the three services."""
    request = read_request(policy, data, authorization)
    if not isinstance(request, ET.Element):
        return request
    operation = local_name(request)
    handlers: dict[tuple[str, str], Callable[[State, ET.Element, date], dict[str, Any]]] = {
        ("/crmService/FoundationPartiesLocationService", "createLocation"): _create_location,
        (
            "/crmService/FoundationPartiesOrganizationService",
            "createOrganization",
        ): _create_organization,
        ("/crmService/CustomerAccountService", "createCustomerAccount"): _create_account,
        ("/crmService/FoundationPartiesLocationService", "getLocation"): _get_location,
        ("/crmService/FoundationPartiesLocationService", "updateLocation"): _update_location,
        ("/crmService/FoundationPartiesOrganizationService", "getOrganization"): _get_organization,
        (
            "/crmService/FoundationPartiesOrganizationService",
            "updateOrganization",
        ): _update_organization,
    }
    handler = handlers.get((path, operation))
    if handler is None:
        return 500, fault("Client", f"The operation {operation} isn't supported by the emulator.")
    try:
        with state.lock:
            state.actor = _caller(policy, authorization, data)  # who the who-columns name
            payload = next(iter(request), None)
            if payload is None and not operation.startswith("get"):
                raise ApiError(400, f"{operation} needs its SDO element.")
            return 200, _response(
                path, operation, handler(state, request if payload is None else payload, today)
            )
    except ApiError as exc:
        return api_fault(exc)


def _caller(policy: AuthPolicy, authorization: str | None, data: bytes) -> str:
    """The user of an authorized request: Basic/Bearer, else the WS-Security UsernameToken."""
    if authorization:
        return policy.check(authorization)
    envelope = ET.fromstring(data)  # noqa: S314 - read_request refused DTDs and parsed it
    for element in envelope.iter():
        if local_name(element) == "Username" and element.text and element.text.strip():
            return element.text.strip()
    return "FIN_USER"  # the emulator's default user (as State.actor)


# -- operations ------------------------------------------------------------------------------
def _create_location(state: State, location: ET.Element, _today: date) -> dict[str, Any]:
    record: dict[str, Any] = {
        "LocationId": state.new_id(),
        "Country": _required(location, "Country"),
        "Address1": _required(location, "Address1"),
        "Address2": _value(location, "Address2"),
        "City": _value(location, "City"),
        "State": _value(location, "State"),
        "PostalCode": _value(location, "PostalCode"),
        "CreatedByModule": _required(location, "CreatedByModule"),
    }
    state.tca["locations"][str(record["LocationId"])] = record
    return record


def _create_organization(state: State, party: ET.Element, _today: date) -> dict[str, Any]:
    module = _required(party, "CreatedByModule")
    profiles = _kids(party, "OrganizationProfile")
    if not profiles:
        raise ApiError(400, "The organization needs an OrganizationProfile.", path="profile")
    name = _required(profiles[0], "OrganizationName")
    sites: list[dict[str, Any]] = []
    for site in _kids(party, "PartySite"):
        location_id = _required(site, "LocationId")
        if location_id not in state.tca["locations"]:
            raise ApiError(400, f"The location {location_id} doesn't exist.", path="LocationId")
        uses: list[dict[str, Any]] = []
        for use in _kids(site, "PartySiteUse"):
            kind = _required(use, "SiteUseType")
            uses.append({"PartySiteUseId": state.new_id(), "SiteUseType": kind})
        sites.append(
            {
                "PartySiteId": state.new_id(),
                "PartySiteNumber": state.new_number(),
                "LocationId": int(location_id),
                "CreatedByModule": _value(site, "CreatedByModule") or module,
                "PartySiteUse": uses,
            }
        )
    record: dict[str, Any] = {
        "PartyId": state.new_id(),
        "PartyNumber": state.new_number(),
        "CreatedByModule": module,
        "OrganizationProfile": [{"OrganizationName": name, "CreatedByModule": module}],
        "PartySite": sites,
    }
    state.tca["parties"][str(record["PartyId"])] = record
    state.touch_party(record["PartyId"])
    return record


def _create_account(state: State, account: ET.Element, today: date) -> dict[str, Any]:
    module = _required(account, "CreatedByModule")
    party_id = _required(account, "PartyId")
    party = state.tca["parties"].get(party_id) or state.party(party_id=party_id)
    if party is None:
        raise ApiError(400, f"The party {party_id} doesn't exist.", path="PartyId")
    number = _value(account, "AccountNumber")
    if number is not None and state.account(number=number) is not None:
        raise ApiError(400, f"The account number {number} already exists.", path="AccountNumber")
    party_sites = {str(s["PartySiteId"]): s for s in cast(list[Any], party.get("PartySite", []))}
    account_id = state.new_id()
    sites: list[dict[str, Any]] = []
    bill_to: list[dict[str, Any]] = []
    for site in _kids(account, "CustomerAccountSite"):
        party_site_id = _required(site, "PartySiteId")
        party_site = party_sites.get(party_site_id)
        if party_site is None:
            message = f"The party site {party_site_id} doesn't belong to the party {party_id}."
            raise ApiError(400, message, path="PartySiteId")
        site_id = state.new_id()
        uses: list[dict[str, Any]] = []
        for use in _kids(site, "CustomerAccountSiteUse"):
            code = _required(use, "SiteUseCode")
            if code not in SITE_USES:
                raise ApiError(400, f"The site use {code} isn't valid.", path="SiteUseCode")
            row: dict[str, Any] = {
                "SiteUseId": state.new_id(),
                "CustomerAccountSiteId": site_id,
                "SiteUseCode": code,
                "PrimaryFlag": (_value(use, "PrimaryFlag") or "false").lower() == "true",
                "Location": _value(use, "Location") or party_site["PartySiteNumber"],
            }
            uses.append(row)
            if code == "BILL_TO":
                bill_to.append(
                    {
                        "SiteNumber": row["Location"],
                        "SiteUseId": row["SiteUseId"],
                        "SiteId": site_id,
                    }
                )
        sites.append(
            {
                "CustomerAccountSiteId": site_id,
                "CustomerAccountId": account_id,
                "PartySiteId": int(party_site_id),
                "BillToIndicator": "P" if bill_to else "N",
                "CreatedByModule": _value(site, "CreatedByModule") or module,
                "CustomerAccountSiteUse": uses,
            }
        )
    profiles = cast(list[Mapping[str, Any]], party.get("OrganizationProfile") or [{}])
    party_name = profiles[0].get("OrganizationName") or party.get("CustomerName")
    record: dict[str, Any] = {
        "CustomerAccountId": account_id,
        "PartyId": int(party_id),
        "AccountNumber": number or state.new_number(),
        "AccountName": _value(account, "AccountName"),
        "CustomerType": _value(account, "CustomerType"),
        "AccountEstablishedDate": _value(account, "AccountEstablishedDate") or today.isoformat(),
        "OrigSystem": _value(account, "OrigSystem"),
        "OrigSystemReference": _value(account, "OrigSystemReference"),
        "CreatedByModule": module,
        "CustomerAccountSite": sites,
    }
    # the Receivables view of the new account (what the REST activities resources read)
    cast(list[dict[str, Any]], state.ref["customerAccounts"]).append(
        {
            "AccountNumber": record["AccountNumber"],
            "CustomerAccountId": account_id,
            "PartyId": int(party_id),
            "PartyNumber": str(party.get("PartyNumber")),
            "CustomerName": party_name,
            "AccountName": record["AccountName"],
            "OrigSystemReference": record["OrigSystemReference"],
            "sites": bill_to,
        }
    )
    state.touch_party(party_id)  # the CRM account now has a Receivables account
    return record


def _id_text(element: ET.Element, name: str) -> str:
    """A get operation's id argument (``<partyId>``): its own text."""
    text = (element.text or "").strip() if local_name(element) == name else ""
    if not text:
        message = ORACLE_MESSAGES["FND_CMN_REQ_ATTRIB_API_SERV"]
        raise ApiError(400, message.replace("{ATTRIBUTE_NAME}", name), path=name)
    return text


def _location(state: State, location_id: str) -> dict[str, Any]:
    record = state.tca["locations"].get(location_id)
    if record is None:
        raise ApiError(400, f"The location {location_id} doesn't exist.", path="LocationId")
    return record


def _get_location(state: State, argument: ET.Element, _today: date) -> dict[str, Any]:
    return _location(state, _id_text(argument, "locationId"))


def _update_location(state: State, location: ET.Element, _today: date) -> dict[str, Any]:
    """Only the attributes sent change (an SDO update); an empty element is not a change."""
    location_id = _required(location, "LocationId")
    record = _location(state, location_id)
    changed = False
    for name in ("Country", "Address1", "Address2", "City", "State", "PostalCode"):
        value = _value(location, name)
        if value is not None and record.get(name) != value:
            record[name] = value
            changed = True
    if changed:  # ADF stamps a row only when an attribute really changed [inferred]
        for party_id, party in state.tca["parties"].items():
            sites = cast(list[Mapping[str, Any]], party.get("PartySite") or [])
            if any(str(site.get("LocationId")) == location_id for site in sites):
                state.touch_party(party_id)
    return record


def _organization(state: State, party_id: str) -> dict[str, Any]:
    party = state.tca["parties"].get(party_id)
    if party is not None:
        return party
    seeded = state.party(party_id=party_id)
    if seeded is None:
        raise ApiError(400, f"The party {party_id} doesn't exist.", path="PartyId")
    # a seeded Receivables customer: its party as Trading Community shows it (no site)
    party = {
        "PartyId": int(party_id),
        "PartyNumber": str(seeded.get("PartyNumber")),
        "CreatedByModule": "HZ_WS",
        "OrganizationProfile": [{"OrganizationName": seeded.get("CustomerName")}],
        "PartySite": [],
    }
    state.tca["parties"][party_id] = party
    return party


def _get_organization(state: State, argument: ET.Element, _today: date) -> dict[str, Any]:
    return _organization(state, _id_text(argument, "partyId"))


def _update_organization(state: State, party: ET.Element, _today: date) -> dict[str, Any]:
    """The organization name (``OrganizationProfile/OrganizationName``); the Receivables view
    of the party's accounts shows the new name at once."""
    party_id = _required(party, "PartyId")
    record = _organization(state, party_id)
    profiles = _kids(party, "OrganizationProfile")
    name = _value(profiles[0], "OrganizationName") if profiles else None
    if name is not None and name != _organization_name(record):
        state.touch_party(party_id)
        profile = cast(list[dict[str, Any]], record["OrganizationProfile"])[0]
        record["OrganizationProfile"] = [{**profile, "OrganizationName": name}]
        for account in cast(list[dict[str, Any]], state.ref["customerAccounts"]):
            if str(account["PartyId"]) == party_id:
                account["CustomerName"] = name
    return record


def _organization_name(party: Mapping[str, Any]) -> object:
    profiles = cast(list[Mapping[str, Any]], party.get("OrganizationProfile") or [{}])
    return profiles[0].get("OrganizationName")
