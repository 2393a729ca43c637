"""The ``crmRestApi`` ``accounts`` view of the emulator (over the parties the Trading Community
SOAP services create and change) and the typed :class:`CrmAccounts` client: the wire shape,
who-columns stamped by SOAP writes with the SOAP caller's name, ``q``/paging/``orderBy``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from oracle_fusion_client import (
    AccountAddress,
    BasicAuth,
    Cond,
    CrmAccounts,
    CustomerAccounts,
    FusionClient,
    FusionNotFoundError,
    NewCustomerAccount,
    Query,
)
from oracle_fusion_client.emulator import FusionEmulator

if TYPE_CHECKING:
    from .conftest import FusionClock as Clock

BASE = "https://fusion.emulator"
CRM = f"{BASE}/crmRestApi/resources/11.13.18.05/accounts"
START = datetime(2026, 3, 2, 17, 4, 11, 120000, tzinfo=timezone.utc)  # the clock's start
ADDRESS = AccountAddress(
    address1="500 Main St.", city="Seattle", state="WA", postal_code="98101", country="US"
)


def _client(emulator: FusionEmulator, user: str = "casey.brown") -> FusionClient:
    return FusionClient(
        base_url=BASE,
        auth=BasicAuth(user, "pw"),
        session=emulator.session(BASE),
        sleep=lambda _: None,
    )


def _soap(emulator: FusionEmulator, user: str = "casey.brown") -> CustomerAccounts:
    return CustomerAccounts.from_client(_client(emulator, user), bundled=True)


def _create(emulator: FusionEmulator, name: str, number: str) -> int:
    created = _soap(emulator).create(
        NewCustomerAccount(party_name=name, address=ADDRESS, account_number=number)
    )
    return created.party_id


def _get(emulator: FusionEmulator, url: str, **params: str) -> Any:
    session = emulator.session(BASE)
    answer = session.get(url, params=params, auth=BasicAuth("reader", "pw"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_created_account_is_served_with_address_and_who_columns(
    emulator: FusionEmulator,
) -> None:
    party_id = _create(emulator, "Northwind Traders", "NW-1")
    page = _get(emulator, CRM, q=f"PartyId={party_id}")
    (item,) = page["items"]
    assert item["OrganizationName"] == "Northwind Traders"
    assert item["Type"] == "ZCA_CUSTOMER"
    address = [item[k] for k in ("AddressLine1", "City", "State", "PostalCode", "Country")]
    assert address == ["500 Main St.", "Seattle", "WA", "98101", "US"]
    assert (item["CreatedBy"], item["LastUpdatedBy"]) == ("casey.brown", "casey.brown")
    stamp = datetime.fromisoformat(item["LastUpdateDate"])
    assert stamp >= START
    assert item["LastUpdateDate"].endswith("+00:00")
    assert page["links"][0]["href"] == CRM
    # the item by its key, PartyNumber
    one = _get(emulator, f"{CRM}/{item['PartyNumber']}")
    assert one["PartyId"] == party_id
    assert one["links"][0]["rel"] == "self"
    assert one["links"][0]["href"] == f"{CRM}/{item['PartyNumber']}"


def test_soap_rename_and_move_stamp_the_party_with_the_soap_user(
    emulator: FusionEmulator, clock: Clock
) -> None:
    party_id = _create(emulator, "Northwind Traders", "NW-1")
    crm = CrmAccounts(_client(emulator).http)
    (before,) = crm.list(Query(q=Cond("PartyId", "=", party_id)))
    assert before.LastUpdateDate is not None

    clock.now = START + timedelta(minutes=5)
    _soap(emulator, "fin.clerk").update("NW-1", party_name="Northwind Ltd")
    (renamed,) = crm.list(Query(q=Cond("PartyId", "=", party_id)))
    assert renamed.OrganizationName == "Northwind Ltd"
    assert renamed.LastUpdatedBy == "fin.clerk"
    assert renamed.CreatedBy == "casey.brown"
    assert renamed.LastUpdateDate == START + timedelta(minutes=5)

    clock.now = START + timedelta(minutes=9)
    moved = AccountAddress(address1="1 Harbor Way", city="Tacoma", state="WA", country="US")
    _soap(emulator, "ops.user").update("NW-1", address=moved)
    (after,) = crm.list(Query(q=Cond("PartyId", "=", party_id)))
    assert (after.AddressLine1, after.City, after.PostalCode) == ("1 Harbor Way", "Tacoma", "98101")
    assert after.LastUpdatedBy == "ops.user"
    assert after.LastUpdateDate == START + timedelta(minutes=9)


def test_an_update_that_changes_nothing_does_not_stamp(
    emulator: FusionEmulator, clock: Clock
) -> None:
    party_id = _create(emulator, "Northwind Traders", "NW-1")
    crm = CrmAccounts(_client(emulator).http)
    (before,) = crm.list(Query(q=Cond("PartyId", "=", party_id)))
    clock.now = START + timedelta(hours=1)
    soap = _soap(emulator, "fin.clerk")
    current = soap.details("NW-1")
    assert current is not None
    # a raw SOAP update sending the same values (the client itself would send nothing)
    soap._call(  # pyright: ignore[reportPrivateUsage]
        "organization",
        "updateOrganization",
        organizationParty={
            "PartyId": party_id,
            "OrganizationProfile": [{"OrganizationName": "Northwind Traders"}],
        },
    )
    (after,) = crm.list(Query(q=Cond("PartyId", "=", party_id)))
    assert after.LastUpdateDate == before.LastUpdateDate
    assert after.LastUpdatedBy == "casey.brown"


def test_changed_since_polls_each_change_once_in_stamp_order(
    emulator: FusionEmulator, clock: Clock
) -> None:
    first = _create(emulator, "Alpha Co", "A-1")
    clock.now = START + timedelta(minutes=1)
    second = _create(emulator, "Beta Co", "B-1")
    crm = CrmAccounts(_client(emulator).http)
    seen = list(crm.changed_since(START - timedelta(seconds=1)))
    assert [a.PartyId for a in seen] == [first, second]
    cursor = seen[-1].LastUpdateDate
    assert cursor is not None
    assert list(crm.changed_since(cursor)) == []

    clock.now = START + timedelta(minutes=2)
    _soap(emulator).update("A-1", party_name="Alpha Holdings")
    changed = list(crm.changed_since(cursor))
    assert [(a.PartyId, a.OrganizationName) for a in changed] == [(first, "Alpha Holdings")]


def test_seeded_customers_carry_an_old_seed_stamp(emulator: FusionEmulator) -> None:
    crm = CrmAccounts(_client(emulator).http)
    seeded = list(crm.list())
    assert seeded  # the default seed's Receivables customers
    assert {a.LastUpdatedBy for a in seeded} == {"SEED_DATA_FROM_APPLICATION"}
    assert list(crm.changed_since(START - timedelta(days=365))) == []
    vision = next(a for a in seeded if a.PartyId is not None)
    assert vision.PartyNumber is not None
    assert crm.get(vision.PartyNumber).model.PartyId == vision.PartyId


def test_paging_order_fields_and_finder(emulator: FusionEmulator, clock: Clock) -> None:
    for index, name in enumerate(("Gamma", "Alpha", "Beta")):
        clock.now = START + timedelta(seconds=index)
        _create(emulator, name, f"P-{index}")
    query = {"q": "LastUpdateDate > '2026-03-01T00:00:00+00:00'", "onlyData": "true"}
    page = _get(emulator, CRM, **query, orderBy="OrganizationName:desc", limit="2")
    assert [i["OrganizationName"] for i in page["items"]] == ["Gamma", "Beta"]
    assert (page["count"], page["hasMore"], page["limit"], page["offset"]) == (2, True, 2, 0)
    assert "links" not in page
    rest = _get(emulator, CRM, **query, orderBy="OrganizationName:desc", limit="2", offset="2")
    assert [i["OrganizationName"] for i in rest["items"]] == ["Alpha"]
    assert rest["hasMore"] is False
    narrow = _get(
        emulator, CRM, **query, fields="PartyNumber,OrganizationName", totalResults="true"
    )
    assert narrow["totalResults"] == 3
    assert set(narrow["items"][0]) == {"PartyNumber", "OrganizationName"}
    number = narrow["items"][0]["PartyNumber"]
    found = _get(emulator, CRM, finder=f"PrimaryKey;PartyNumber={number}")
    assert [i["PartyNumber"] for i in found["items"]] == [number]


def test_account_numbers_of_a_party_come_from_receivables(emulator: FusionEmulator) -> None:
    party_id = _create(emulator, "Northwind Traders", "NW-1")
    crm = CrmAccounts.from_client(_client(emulator))
    assert crm.account_numbers(party_id) == ["NW-1"]
    assert crm.account_numbers(999) == []


def test_refusals(emulator: FusionEmulator) -> None:
    session = emulator.session(BASE)
    auth = BasicAuth("reader", "pw")
    missing = session.get(f"{CRM}/NOPE", auth=auth, headers={"REST-Framework-Version": "4"})
    assert missing.status_code == 404
    assert missing.json()["o:errorDetails"][0]["detail"].endswith("doesn't exist.")
    assert session.post(CRM, json={"OrganizationName": "X"}, auth=auth).status_code == 405
    assert session.get(CRM, params={"q": "PartyId = ="}, auth=auth).status_code == 400
    assert session.get(CRM, params={"limit": "0"}, auth=auth).status_code == 400
    unknown = f"{BASE}/crmRestApi/resources/11.13.18.05/contacts"
    assert session.get(unknown, auth=auth).status_code == 404
    assert session.get(CRM).status_code == 401  # credentials are required as elsewhere
    with pytest.raises(FusionNotFoundError):
        CrmAccounts(_client(emulator).http).get("NOPE")
