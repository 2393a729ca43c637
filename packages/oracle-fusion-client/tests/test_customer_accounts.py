"""Customer accounts: created with zeep over the emulator's Trading Community SOAP services,
found again over REST; in-process (bundled WSDLs) and over real HTTP (served WSDLs)."""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
import requests

from oracle_fusion_client import (
    AccountAddress,
    BasicAuth,
    CustomerAccounts,
    FusionClient,
    FusionInputError,
    FusionServerError,
    FusionSoapFaultError,
    FusionTimeoutError,
    NewCustomerAccount,
    NewInvoice,
)
from oracle_fusion_client.emulator import (
    AuthPolicy,
    EmulatorConfig,
    Fault,
    FusionEmulator,
    running_emulator,
)

BASE = "https://fusion.emulator"
PASSWORD = "p"  # the lenient emulator accepts any
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PARTIES = "http://xmlns.oracle.com/apps/cdm/foundation/parties/"
ACCOUNT_TYPES = PARTIES + "customerAccountService/applicationModule/types/"
ACCOUNT_SDO = PARTIES + "customerAccountService/"
ADDRESS = AccountAddress(
    address1="500 Main St.", city="Seattle", state="WA", postal_code="98101-1234", country="US"
)


def _client(emulator: FusionEmulator, password: str = PASSWORD) -> FusionClient:
    return FusionClient(
        base_url=BASE,
        auth=BasicAuth("casey.brown", password),
        session=emulator.session(BASE),
        sleep=lambda _: None,
    )


def _accounts(emulator: FusionEmulator, password: str = PASSWORD) -> CustomerAccounts:
    return CustomerAccounts.from_client(_client(emulator, password), bundled=True)


def _northwind(**changes: object) -> NewCustomerAccount:
    fields: dict[str, object] = {
        "party_name": "Northwind Traders",
        "address": ADDRESS,
        "account_number": "SF-001Aa000003xYzQAA",
        "orig_system_reference": "001Aa000003xYzQAA",
    }
    fields.update(changes)
    return NewCustomerAccount(**fields)  # type: ignore[arg-type]


def test_create_then_find_over_rest_and_bill_it() -> None:
    emulator = FusionEmulator()
    accounts = _accounts(emulator)
    created = accounts.create(_northwind())

    assert created.account_number == "SF-001Aa000003xYzQAA"
    location = emulator.state.tca["locations"][str(created.location_id)]
    assert (location["Address1"], location["City"], location["PostalCode"]) == (
        "500 Main St.",
        "Seattle",
        "98101-1234",
    )
    party = emulator.state.tca["parties"][str(created.party_id)]
    assert party["PartyNumber"] == created.party_number
    assert party["PartySite"][0]["PartySiteId"] == created.party_site_id
    assert party["PartySite"][0]["PartySiteUse"][0]["SiteUseType"] == "BILL_TO"

    found = accounts.find(created.account_number)
    assert found is not None
    assert (found.AccountId, found.CustomerId, found.CustomerName) == (
        created.account_id,
        created.party_id,
        "Northwind Traders",
    )
    (site,) = accounts.bill_to_sites(created.account_number)
    assert (site.BillToSiteUseId, site.BillToSiteNumber) == (
        created.site_use_id,
        created.site_number,
    )
    assert accounts.find("SF-nobody") is None

    # the new account is a real Receivables customer: an invoice may bill it
    invoice = _client(emulator).receivables_invoices.create(
        NewInvoice.model_validate(
            {
                "BusinessUnit": "Vision Operations",
                "TransactionSource": "Manual-NES",
                "TransactionType": "Invoice",
                "TransactionDate": "2026-01-15",
                "BillToCustomerNumber": created.account_number,
                "InvoiceCurrencyCode": "USD",
                "PaymentTerms": "30 Net",
                "receivablesInvoiceLines": [
                    {"LineNumber": 1, "Description": "Plan", "Quantity": 1, "UnitSellingPrice": 25}
                ],
            }
        )
    )
    assert invoice.CustomerTransactionId is not None
    again = accounts.find(created.account_number)
    assert again is not None
    assert again.TotalOpenReceivablesForAccount == Decimal(25)


def test_fusion_numbers_an_account_given_without_number() -> None:
    emulator = FusionEmulator()
    accounts = _accounts(emulator)
    first = accounts.create(_northwind(account_number=None, party_name="A"))
    second = accounts.create(_northwind(account_number=None, party_name="B"))
    assert first.account_number.isdigit()
    assert first.account_number != second.account_number
    found = accounts.find(second.account_number)
    assert found is not None
    assert found.CustomerName == "B"


def test_zeep_over_http_with_the_served_wsdls() -> None:
    with running_emulator() as (url, emulator):
        wsdl = requests.get(f"{url}/crmService/CustomerAccountService?WSDL", timeout=10)
        assert wsdl.status_code == 200
        assert f"{url}/crmService/CustomerAccountService" in wsdl.text
        client = FusionClient(base_url=url, auth=BasicAuth("u", "p"))
        accounts = CustomerAccounts.from_client(client)  # WSDLs fetched from the server
        created = accounts.create(_northwind())
        found = accounts.find(created.account_number)
        assert found is not None
        assert found.AccountId == created.account_id
        record = next(
            a
            for a in emulator.state.ref["customerAccounts"]
            if a["AccountNumber"] == created.account_number
        )
        assert record["OrigSystemReference"] == "001Aa000003xYzQAA"


def test_duplicate_account_number_is_a_client_fault() -> None:
    emulator = FusionEmulator()
    accounts = _accounts(emulator)
    accounts.create(_northwind())
    with pytest.raises(FusionSoapFaultError) as info:
        accounts.create(_northwind())
    assert info.value.fault_code == "Client"
    assert info.value.detail == "The account number SF-001Aa000003xYzQAA already exists."
    with pytest.raises(FusionSoapFaultError, match=re.escape("1008 already exists")):
        accounts.create(_northwind(account_number="1008"))  # a seeded account


def test_timeout_after_commit_is_a_sent_timeout_and_the_account_exists() -> None:
    emulator = FusionEmulator()
    accounts = _accounts(emulator)
    emulator.inject(
        Fault("timeout_after_commit", method="POST", path="/crmService/CustomerAccountService")
    )
    with pytest.raises(FusionTimeoutError) as info:
        accounts.create(_northwind())
    assert info.value.sent is True
    assert accounts.find("SF-001Aa000003xYzQAA") is not None  # resolved by lookup


def test_server_error_before_processing_creates_nothing() -> None:
    emulator = FusionEmulator()
    accounts = _accounts(emulator)
    emulator.inject(Fault("status", status=503, path="/crmService/CustomerAccountService"))
    with pytest.raises(FusionServerError):
        accounts.create(_northwind())
    assert accounts.find("SF-001Aa000003xYzQAA") is None


def test_strict_auth_refuses_wrong_password_as_a_fault() -> None:
    strict = FusionEmulator(
        EmulatorConfig(auth=AuthPolicy(strict=True, users={"casey.brown": "p"}))
    )
    with pytest.raises(FusionSoapFaultError) as info:
        _accounts(strict, password="wrong").create(_northwind())
    assert info.value.detail == "The user name or password is invalid."
    assert strict.state.tca["locations"] == {}
    assert _accounts(strict).create(_northwind()).account_id > 0


def _envelope(account: str, security: str = "") -> bytes:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:wsse="{WSSE}" '
        f'xmlns:typ="{ACCOUNT_TYPES}" xmlns:cus="{ACCOUNT_SDO}">'
        f"<soapenv:Header>{security}</soapenv:Header><soapenv:Body><typ:createCustomerAccount>"
        f"<typ:customerAccount>{account}</typ:customerAccount>"
        "</typ:createCustomerAccount></soapenv:Body></soapenv:Envelope>"
    ).encode()


def test_raw_envelopes_ws_security_and_oracle_messages() -> None:
    emulator = FusionEmulator(EmulatorConfig(auth=AuthPolicy(strict=True, users={"u": "pw"})))
    session = emulator.session(BASE)
    url = f"{BASE}/crmService/CustomerAccountService"
    token = (
        "<wsse:Security><wsse:UsernameToken><wsse:Username>u</wsse:Username>"
        "<wsse:Password>pw</wsse:Password></wsse:UsernameToken></wsse:Security>"
    )
    missing = session.post(url, data=_envelope("<cus:PartyId>1008</cus:PartyId>", token))
    assert missing.status_code == 500
    assert "You must provide a value for the attribute CreatedByModule." in missing.text
    unknown = session.post(
        url,
        data=_envelope(
            "<cus:PartyId>42</cus:PartyId><cus:CreatedByModule>HZ_WS</cus:CreatedByModule>", token
        ),
    )
    assert "The party 42 doesn't exist." in unknown.text
    # an account without a site for a seeded party, with the UsernameToken as credentials
    ok = session.post(
        url,
        data=_envelope(
            "<cus:PartyId>1008</cus:PartyId><cus:AccountName>Second</cus:AccountName>"
            "<cus:CreatedByModule>HZ_WS</cus:CreatedByModule>",
            token,
        ),
    )
    assert ok.status_code == 200
    assert "createCustomerAccountResponse" in ok.text
    answer = ElementTree.fromstring(ok.content)  # noqa: S314 - the emulator's own answer
    value = next(e for e in answer.iter() if e.tag == f"{{{ACCOUNT_SDO}}}Value")
    assert value.findtext(f"{{{ACCOUNT_SDO}}}PartyId") == "1008"
    number = value.findtext(f"{{{ACCOUNT_SDO}}}AccountNumber")
    assert number is not None
    assert any(a["AccountNumber"] == number for a in emulator.state.ref["customerAccounts"])
    denied = session.post(url, data=_envelope("<cus:PartyId>1008</cus:PartyId>"))
    assert denied.status_code == 401
    bad = session.post(url, data=b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"party_name": " "}, "NewCustomerAccount.party_name: must not be blank"),
        ({"account_number": "X" * 31}, "NewCustomerAccount.account_number: longer than 30"),
        ({"orig_system_reference": ""}, "NewCustomerAccount.orig_system_reference: must not"),
        ({"site_purpose": "SOLD_TO"}, "NewCustomerAccount.site_purpose: must be BILL_TO"),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(FusionInputError, match=re.escape(message)):
        _northwind(**changes)


def test_bad_address_names_the_field() -> None:
    with pytest.raises(FusionInputError, match=re.escape("AccountAddress.country: 'USA' is not")):
        AccountAddress(address1="1 Main", country="USA")
    with pytest.raises(
        FusionInputError, match=re.escape("AccountAddress.address1: must not be blank")
    ):
        AccountAddress(address1="")


def test_repr_hides_the_password() -> None:
    accounts = _accounts(FusionEmulator(), password="s3cret-pw")
    assert "s3cret-pw" not in repr(accounts)
