"""A refresh that answers another ``instance_url`` (org migration, My Domain change) is followed."""

from __future__ import annotations

import responses
from responses import matchers

from salesforce_bridge import PasswordGrant, SalesforceBridge

OLD = "https://na1.my.salesforce.com"
NEW = "https://na2.my.salesforce.com"
TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"
EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def data_urls() -> list[str]:
    urls = [str(c.request.url) for c in responses.calls]
    return [url for url in urls if "oauth2" not in url]


def token(tok: str, instance: str) -> dict[str, str]:
    return {"access_token": tok, "instance_url": instance, "id": "https://login/id/00D1/0051"}


@responses.activate
def test_refresh_to_a_new_instance_moves_the_retry_and_later_calls() -> None:
    responses.post(TOKEN_URL, json=token("tok-1", OLD))
    responses.post(TOKEN_URL, json=token("tok-2", NEW))
    responses.get(f"{OLD}/services/data/v62.0/sobjects/Account/001x", status=401, json=EXPIRED)
    responses.get(
        f"{NEW}/services/data/v62.0/sobjects/Account/001x",
        json={"Id": "001x"},
        match=[matchers.header_matcher({"Authorization": "Bearer tok-2"})],
    )
    page1 = {
        "totalSize": 2,
        "done": False,
        "nextRecordsUrl": "/services/data/v62.0/query/01gX-1",
        "records": [{"Id": "001a"}],
    }
    responses.get(f"{NEW}/services/data/v62.0/query/", json=page1)
    responses.get(
        f"{NEW}/services/data/v62.0/query/01gX-1",
        json={"totalSize": 2, "done": True, "records": [{"Id": "001b"}]},
    )
    grant = PasswordGrant(client_id="c", client_secret="s", username="u", password="p")
    bridge = SalesforceBridge(grant=grant)
    _ = bridge.simple_salesforce  # built for the first instance
    assert bridge.get("Account", "001x")["Id"] == "001x"
    # every later call (REST, query, queryMore) goes to the new instance
    assert [r["Id"] for r in bridge.query("SELECT Id FROM Account")] == ["001a", "001b"]
    assert bridge.simple_salesforce.sf_instance == "na2.my.salesforce.com"
    hosts = [url.split("/")[2] for url in data_urls()]
    assert hosts == ["na1.my.salesforce.com"] + ["na2.my.salesforce.com"] * 3


@responses.activate
def test_simple_salesforce_calls_follow_the_new_instance_too() -> None:
    responses.post(TOKEN_URL, json=token("tok-1", OLD))
    responses.post(TOKEN_URL, json=token("tok-2", NEW))
    responses.get(f"{OLD}/services/data/v62.0/limits/", status=401, json=EXPIRED)
    responses.get(f"{NEW}/services/data/v62.0/limits/", json={"DailyApiRequests": {"Max": 5}})
    grant = PasswordGrant(client_id="c", client_secret="s", username="u", password="p")
    sf = SalesforceBridge(grant=grant).simple_salesforce
    assert sf.limits()["DailyApiRequests"]["Max"] == 5
    # this Salesforce object was built for OLD; the auth hook still sends it to NEW
    assert sf.limits()["DailyApiRequests"]["Max"] == 5
    assert [url.split("/")[2] for url in data_urls()] == [
        "na1.my.salesforce.com",
        "na2.my.salesforce.com",
        "na2.my.salesforce.com",
    ]
