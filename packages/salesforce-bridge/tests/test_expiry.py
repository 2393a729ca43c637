"""Token expiry in the middle of a run, for simple-salesforce's own calls and for the bridge."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import SalesforceExpiredSession
from simple_salesforce.format import format_soql

from salesforce_bridge import (
    ClientCredentialsGrant,
    JwtBearerGrant,
    PasswordGrant,
    RefreshTokenGrant,
    SalesforceBridge,
    SalesforceGrant,
)
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    EmulatorAdapter,
    SalesforceEmulator,
    emulator_session,
    serve,
)


def token_calls(emulator: SalesforceEmulator) -> int:
    return sum(1 for c in emulator.calls if c.path == "/services/oauth2/token")


def run_simple_salesforce_calls(sf: Salesforce, emulator: SalesforceEmulator, tag: str) -> None:
    """A run of simple-salesforce's own API with the sessions expiring between every step."""
    account = sf.Account
    assert isinstance(account, SFType)
    created = account.create({"Name": f"{tag} 1"})
    emulator.tokens.expire_all()
    account.update(created["id"], {"Phone": "555"})
    emulator.tokens.expire_all()
    payment = sf.Payment__c
    assert isinstance(payment, SFType)
    assert payment.upsert(f"Payment_ID__c/{tag}", {"Amount__c": 1.5}) == 201
    emulator.tokens.expire_all()
    assert account.get(created["id"])["Phone"] == "555"
    emulator.tokens.expire_all()
    soql = format_soql("SELECT Id FROM Payment__c WHERE Payment_ID__c = {}", tag)
    rows = sf.query_all(soql)
    assert rows["totalSize"] == 1


def test_simple_salesforce_through_the_bridge_survives_expiry() -> None:
    emulator = SalesforceEmulator()
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(grant=grant, session=emulator_session(emulator))
    run_simple_salesforce_calls(bridge.simple_salesforce, emulator, "SS-BRIDGE")
    assert token_calls(emulator) == 5  # the first login and one refresh per expiry


def test_plain_simple_salesforce_with_a_session_id_does_not() -> None:
    """Why the bridge exists: simple-salesforce cannot refresh a session it did not create."""
    emulator = SalesforceEmulator()
    http = emulator_session(emulator)
    login = http.post(
        f"{DEFAULT_BASE_URL}/services/oauth2/token",
        data={"grant_type": "password", "client_id": "c", "username": "u", "password": "p"},
        timeout=5,
    ).json()
    sf = Salesforce(
        instance_url=login["instance_url"], session_id=login["access_token"], session=http
    )
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 3
    emulator.tokens.expire_all()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT COUNT() FROM Account")


def test_simple_salesforce_own_jwt_login_refreshes_against_the_emulator(
    private_pem: bytes,
) -> None:
    """simple-salesforce's own refresh (logins it made itself) works against the emulator too."""
    emulator = SalesforceEmulator()
    http = requests.Session()
    http.mount("https://login.salesforce.com", EmulatorAdapter(emulator))
    sf = Salesforce(
        username="u@acme.com", consumer_key="cid", privatekey=private_pem.decode(), session=http
    )
    run_simple_salesforce_calls(sf, emulator, "SS-OWN")
    assert token_calls(emulator) == 5


def test_bridge_and_simple_salesforce_over_tls_survive_expiry(
    tmp_path: Path, private_pem: bytes
) -> None:
    emulator = SalesforceEmulator()
    server = serve(emulator, port=0, tls_dir=tmp_path)
    http = requests.Session()
    http.trust_env = False
    http.verify = str(server.ca_path)
    try:
        grant = JwtBearerGrant(
            client_id="cid", username="u@acme.com", private_key=private_pem, login_url=server.url
        )
        bridge = SalesforceBridge(grant=grant, session=http)
        run_simple_salesforce_calls(bridge.simple_salesforce, emulator, "SS-TLS")
        emulator.tokens.expire_all()
        result = bridge.upsert("Payment__c", "Payment_ID__c", "SS-TLS", {"Status__c": "Settled"})
        assert result.created is False
        emulator.tokens.expire_all()
        assert bridge.count("SELECT COUNT() FROM Payment__c WHERE Status__c = 'Settled'") == 1
        assert token_calls(emulator) == 7
    finally:
        http.close()
        server.stop()


@pytest.mark.parametrize("kind", ["jwt", "client_credentials", "refresh_token", "password"])
def test_every_grant_refreshes_transparently(kind: str, private_pem: bytes) -> None:
    emulator = SalesforceEmulator()
    base = DEFAULT_BASE_URL
    grants: dict[str, SalesforceGrant] = {
        "jwt": JwtBearerGrant(client_id="c", username="u", private_key=private_pem, login_url=base),
        "client_credentials": ClientCredentialsGrant(
            client_id="c", client_secret="s", my_domain_url=base
        ),
        "refresh_token": RefreshTokenGrant(client_id="c", refresh_token="rt", login_url=base),
        "password": PasswordGrant(
            client_id="c", client_secret="s", username="u", password="p", login_url=base
        ),
    }
    grant = grants[kind]
    bridge = SalesforceBridge(grant=grant, session=emulator_session(emulator))
    first = bridge.upsert("Payment__c", "Payment_ID__c", f"G-{kind}", {"Amount__c": 1})
    token = grant.session().access_token
    emulator.tokens.expire_all()
    again = bridge.upsert("Payment__c", "Payment_ID__c", f"G-{kind}", {"Amount__c": 2})
    assert (first.created, again.created, again.id) == (True, False, first.id)
    assert grant.session().access_token != token
    assert grant.session().org_id.startswith("00D")
    assert token_calls(emulator) == 2
