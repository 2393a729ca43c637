"""Customer accounts read and changed after creation: ``details`` (REST + ``getOrganization``
+ ``getLocation``) and ``update`` (``updateOrganization``, ``updateLocation``), against the
emulator's Trading Community services with the bundled WSDLs."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
import requests

from oracle_fusion_client import (
    AccountAddress,
    BasicAuth,
    CustomerAccounts,
    FusionClient,
    FusionInputError,
    NewCustomerAccount,
)
from oracle_fusion_client.emulator import FusionEmulator

BASE = "https://fusion.emulator"
ADDRESS = AccountAddress(
    address1="500 Main St.", city="Seattle", state="WA", postal_code="98101-1234", country="US"
)


def _accounts(emulator: FusionEmulator, sent: list[bytes]) -> CustomerAccounts:
    session = emulator.session(BASE)

    def capture(response: requests.Response, *_a: object, **_k: object) -> None:
        body = response.request.body
        if response.request.method == "POST" and isinstance(body, (bytes, str)):
            sent.append(body if isinstance(body, bytes) else body.encode())

    session.hooks["response"].append(capture)
    client = FusionClient(
        base_url=BASE, auth=BasicAuth("casey.brown", "p"), session=session, sleep=lambda _: None
    )
    return CustomerAccounts.from_client(client, bundled=True)


def _operations(sent: list[bytes]) -> list[str]:
    names: list[str] = []
    for body in sent:
        envelope = ElementTree.fromstring(body)  # noqa: S314 - our own request
        operation = next(iter(next(iter(envelope[-1:]))))
        names.append(operation.tag.rsplit("}", 1)[-1])
    return names


def test_details_read_name_and_bill_to_address() -> None:
    emulator, sent = FusionEmulator(), list[bytes]()
    accounts = _accounts(emulator, sent)
    created = accounts.create(
        NewCustomerAccount(party_name="Northwind Traders", address=ADDRESS, account_number="NW-1")
    )
    details = accounts.details("NW-1")
    assert details is not None
    assert (details.party_id, details.account_id) == (created.party_id, created.account_id)
    assert (details.party_name, details.location_id) == ("Northwind Traders", created.location_id)
    assert details.address == ADDRESS
    assert accounts.details("NW-404") is None


def test_update_sends_only_what_differs_and_repeating_sends_nothing() -> None:
    emulator, sent = FusionEmulator(), list[bytes]()
    accounts = _accounts(emulator, sent)
    accounts.create(
        NewCustomerAccount(party_name="Northwind Traders", address=ADDRESS, account_number="NW-2")
    )
    moved = AccountAddress(
        address1="12 Pine Ave.", city="Tacoma", state="WA", postal_code="98402", country="US"
    )
    sent.clear()
    updated = accounts.update("NW-2", party_name="Northwind Traders Inc.", address=moved)
    assert (updated.party_name, updated.address) == ("Northwind Traders Inc.", moved)
    assert _operations(sent) == [
        "getOrganization",
        "getLocation",
        "updateOrganization",
        "updateLocation",
        "getOrganization",
        "getLocation",
    ]
    # the Receivables view shows the new name (what REST readers and invoices see)
    found = accounts.find("NW-2")
    assert found is not None
    assert found.CustomerName == "Northwind Traders Inc."

    sent.clear()
    again = accounts.update("NW-2", party_name="Northwind Traders Inc.", address=moved)
    assert again == updated
    assert "updateOrganization" not in _operations(sent)
    assert "updateLocation" not in _operations(sent)


def test_seeded_account_takes_a_name_but_no_address() -> None:
    emulator, sent = FusionEmulator(), list[bytes]()
    accounts = _accounts(emulator, sent)
    details = accounts.details("1004")
    assert details is not None
    assert (details.location_id, details.address) == (None, None)
    renamed = accounts.update("1004", party_name="Renamed Customer")
    assert renamed.party_name == "Renamed Customer"
    with pytest.raises(FusionInputError, match=r"update\.address: .* has no site"):
        accounts.update("1004", address=ADDRESS)
    with pytest.raises(FusionInputError, match=r"update\.account_number: no customer account"):
        accounts.update("NW-404", party_name="X")
    with pytest.raises(FusionInputError, match=r"update\.party_name: must not be blank"):
        accounts.update("1004", party_name=" ")
