"""``crmRestApi`` ``accounts``: a read view over the Trading Community parties the SOAP
services create and update (``_customer_soap``) and the seeded Receivables customers.

``GET /crmRestApi/resources/<version>/accounts`` (``q``, ``finder=PrimaryKey;PartyNumber=``,
``orderBy``, ``limit``/``offset``, ``fields``, ``onlyData``, ``totalResults``) and
``GET .../accounts/{PartyNumber}``, as the ``fscmRestApi`` collections answer them. The key is
``PartyNumber`` [confirmed]. Attributes served (names of the CRM ``accounts`` resource; the
flattened primary address of the party's first site):

``PartyId``, ``PartyNumber``, ``OrganizationName``, ``Type`` (``ZCA_CUSTOMER`` once the party
has a customer account, else ``ZCA_PROSPECT``), ``AddressLine1``, ``AddressLine2``, ``City``,
``State``, ``PostalCode``, ``Country`` and the who-columns ``CreatedBy``, ``CreationDate``,
``LastUpdatedBy``, ``LastUpdateDate``.

The CRM account carries no Receivables account number **[inferred]**: a reader finds the
party's accounts in ``receivablesCustomerAccountActivities`` by ``CustomerId`` (= ``PartyId``).
The who-columns are stamped (``State.touch_party``) when a SOAP call creates the party or its
customer account, renames the organization or changes the location of one of its sites (only
when a value really changes). Seeded customers carry a fixed old stamp by
``SEED_DATA_FROM_APPLICATION``, so a first poll looking back a day does not see them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ._render import COLLECTION_TYPE, ITEM_TYPE, collection_page
from ._state import ApiError, State

__all__ = ["CRM_ROOT", "SEED_STAMP", "SEED_USER", "crm_accounts", "crm_get"]

CRM_ROOT = "/crmRestApi/resources"
RESOURCE = "accounts"
KEY = "PartyNumber"
SEED_STAMP = "2018-01-01T00:00:00.000+00:00"
SEED_USER = "SEED_DATA_FROM_APPLICATION"
_VERSIONS = ("11.13.18.05", "latest")
_ADDRESS = {
    "AddressLine1": "Address1",
    "AddressLine2": "Address2",
    "City": "City",
    "State": "State",
    "PostalCode": "PostalCode",
    "Country": "Country",
}


def _party_record(state: State, party: Mapping[str, Any], customer: bool) -> dict[str, Any]:
    profiles = cast(list[Mapping[str, Any]], party.get("OrganizationProfile") or [{}])
    record: dict[str, Any] = {
        "PartyId": int(party["PartyId"]),
        "PartyNumber": str(party["PartyNumber"]),
        "OrganizationName": profiles[0].get("OrganizationName"),
        "Type": "ZCA_CUSTOMER" if customer else "ZCA_PROSPECT",
    }
    sites = cast(list[Mapping[str, Any]], party.get("PartySite") or [])
    location = state.tca["locations"].get(str(sites[0]["LocationId"])) if sites else None
    for name, source in _ADDRESS.items():
        record[name] = location.get(source) if location else None
    return record


def crm_accounts(state: State) -> dict[str, dict[str, Any]]:
    """Every CRM account by ``PartyNumber``, as the resource shows it now."""
    customers = cast(list[Mapping[str, Any]], state.ref["customerAccounts"])
    with_account = {str(c["PartyId"]) for c in customers}
    out: dict[str, dict[str, Any]] = {}
    for customer in customers:  # seeded Receivables customers (a party without a site)
        party_id = str(customer["PartyId"])
        if party_id in state.tca["parties"] or customer.get("PartyNumber") in (None, "None"):
            continue
        party = {
            "PartyId": party_id,
            "PartyNumber": customer["PartyNumber"],
            "OrganizationProfile": [{"OrganizationName": customer.get("CustomerName")}],
        }
        out[str(customer["PartyNumber"])] = _party_record(state, party, customer=True)
    for party_id, party in state.tca["parties"].items():
        out[str(party["PartyNumber"])] = _party_record(state, party, party_id in with_account)
    for record in out.values():
        who = state.party_who.get(str(record["PartyId"]))
        record.update(
            who
            or {
                "CreatedBy": SEED_USER,
                "CreationDate": SEED_STAMP,
                "LastUpdatedBy": SEED_USER,
                "LastUpdateDate": SEED_STAMP,
            }
        )
    return out


def _links(base: str, key: str) -> list[dict[str, Any]]:
    href = f"{base}/{RESOURCE}/{key}"
    return [
        {"rel": "self", "href": href, "name": RESOURCE, "kind": "item"},
        {"rel": "canonical", "href": href, "name": RESOURCE, "kind": "item"},
    ]


def _render(record: Mapping[str, Any], params: Mapping[str, str], base: str) -> dict[str, Any]:
    wanted = {f.strip() for f in params.get("fields", "").split(",") if f.strip()}
    out = {k: v for k, v in record.items() if not wanted or k in wanted}
    if params.get("onlyData", "false").lower() != "true":
        out["links"] = _links(base, str(record[KEY]))
    return out


def _collection(state: State, params: Mapping[str, str], base: str) -> dict[str, Any]:
    rows = [(str(record[KEY]), record) for record in crm_accounts(state).values()]
    return collection_page(
        rows,
        RESOURCE,
        params,
        base,
        finders={"PrimaryKey": (KEY,)},
        render=lambda _key, record: _render(record, params, base),
    )


def crm_get(
    state: State, method: str, rest: list[str], params: Mapping[str, str], origin: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, body, headers) of a request under :data:`CRM_ROOT`; ``rest`` is the path after
    it, split and unquoted (``["11.13.18.05", "accounts", "1001"]``)."""
    if not rest or rest[0] not in _VERSIONS:
        raise ApiError(404, f"No resource at {CRM_ROOT}/{'/'.join(rest)}.")
    version, segments = rest[0], rest[1:]
    if not segments or segments[0] != RESOURCE or len(segments) > 2:
        raise ApiError(404, f"The resource {'/'.join(segments)} doesn't exist.")
    if method != "GET":
        raise ApiError(405, f"{method} isn't supported by the emulator on {RESOURCE}.")
    base = f"{origin}{CRM_ROOT}/{version}"
    with state.lock:
        if len(segments) == 1:
            return 200, _collection(state, params, base), {"Content-Type": COLLECTION_TYPE}
        record = crm_accounts(state).get(segments[1])
    if record is None:
        raise ApiError(404, f"The requested resource {RESOURCE}/{segments[1]} doesn't exist.")
    return 200, _render(record, params, base), {"Content-Type": ITEM_TYPE}
