"""Which operations are retried, scripted at the wire: idempotent ones only.

Creates and event publishes have an unknown outcome after a failure and are never retried;
reads, queries (each page), upserts by key and Collections update/upsert are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from salesforce_bridge import (
    RetryConfig,
    SalesforceBadRequestError,
    SalesforceBridge,
    SalesforceBridgeError,
    SalesforceConnectionError,
    SalesforceServerError,
    SalesforceSession,
    StaticSessionGrant,
)

INSTANCE = "https://acme.my.salesforce.com"
BASE = f"{INSTANCE}/services/data/v62.0"
LOCK = [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"}]
BOOM = [{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}]
OK_ITEM: list[dict[str, object]] = [{"id": "a01x", "success": True, "errors": [], "created": False}]


def make_bridge(sleeps: list[float]) -> SalesforceBridge:
    grant = StaticSessionGrant(SalesforceSession(access_token="t", instance_url=INSTANCE))
    config = RetryConfig(max_retries=2, backoff_base=0.5, backoff_cap=4.0)
    return SalesforceBridge(grant=grant, retry=config, sleep=sleeps.append, rand=lambda: 1.0)


Failure = dict[str, Any]
FAILURES: dict[str, Failure] = {
    "503": {"status": 503, "json": []},
    "500 UNABLE_TO_LOCK_ROW": {"status": 500, "json": LOCK},
    "400 UNABLE_TO_LOCK_ROW": {"status": 400, "json": LOCK},
    "connection reset": {"body": requests.ConnectionError("reset")},
}

# (name, method, path, ok json, call)
WRITES: list[tuple[str, str, str, object, Callable[[SalesforceBridge], object]]] = [
    (
        "upsert",
        "PATCH",
        "/sobjects/Payment__c/Payment_ID__c/P1",
        {"id": "a01x", "success": True, "errors": [], "created": True},
        lambda b: b.upsert("Payment__c", "Payment_ID__c", "P1", {"Amount__c": 1}),
    ),
    (
        "update_many",
        "PATCH",
        "/composite/sobjects",
        OK_ITEM,
        lambda b: b.update_many("Payment__c", [{"Id": "a01x", "Amount__c": 1}]),
    ),
    (
        "upsert_many",
        "PATCH",
        "/composite/sobjects/Payment__c/Payment_ID__c",
        OK_ITEM,
        lambda b: b.upsert_many("Payment__c", "Payment_ID__c", [{"Payment_ID__c": "P1"}]),
    ),
    (
        "get",
        "GET",
        "/sobjects/Account/001x",
        {"Id": "001x"},
        lambda b: b.get("Account", "001x"),
    ),
    (
        "describe",
        "GET",
        "/sobjects/Account/describe",
        {"name": "Account", "fields": []},
        lambda b: b.describe("Account"),
    ),
]
NOT_IDEMPOTENT: list[tuple[str, str, str, Callable[[SalesforceBridge], object]]] = [
    (
        "create_many",
        "POST",
        "/composite/sobjects",
        lambda b: b.create_many("Payment__c", [{"Payment_ID__c": "P1"}]),
    ),
    (
        "publish_event",
        "POST",
        "/sobjects/Payment_Event__e/",
        lambda b: b.publish_event("Payment_Event__e", {"Payment_ID__c": "P1"}),
    ),
    (
        "publish_events",
        "POST",
        "/composite/sobjects",
        lambda b: b.publish_events("Payment_Event__e", [{"Payment_ID__c": "P1"}]),
    ),
]


@pytest.mark.parametrize("failure", list(FAILURES), ids=list(FAILURES))
@pytest.mark.parametrize(
    ("method", "path", "ok", "call"),
    [w[1:] for w in WRITES],
    ids=[w[0] for w in WRITES],
)
def test_idempotent_call_retried_after_failure_then_succeeds(
    failure: str,
    method: str,
    path: str,
    ok: object,
    call: Callable[[SalesforceBridge], object],
) -> None:
    sleeps: list[float] = []
    with responses.RequestsMock(registry=responses.registries.OrderedRegistry) as rsps:
        rsps.add(method, f"{BASE}{path}", **FAILURES[failure])
        rsps.add(method, f"{BASE}{path}", **FAILURES[failure])
        rsps.add(method, f"{BASE}{path}", json=ok)
        call(make_bridge(sleeps))
        assert len(rsps.calls) == 3
    assert sleeps == [0.5, 1.0]  # full-jitter ceilings 0.5 * 2**attempt with rand() == 1


@pytest.mark.parametrize("failure", list(FAILURES), ids=list(FAILURES))
@pytest.mark.parametrize(
    ("method", "path", "call"),
    [w[1:] for w in NOT_IDEMPOTENT],
    ids=[w[0] for w in NOT_IDEMPOTENT],
)
def test_create_and_publish_are_never_retried(
    failure: str, method: str, path: str, call: Callable[[SalesforceBridge], object]
) -> None:
    sleeps: list[float] = []
    with responses.RequestsMock() as rsps:
        rsps.add(method, f"{BASE}{path}", **FAILURES[failure])
        with pytest.raises(SalesforceBridgeError) as info:
            call(make_bridge(sleeps))
        assert len(rsps.calls) == 1
    assert sleeps == []
    expected = {
        "503": SalesforceServerError,
        "500 UNABLE_TO_LOCK_ROW": SalesforceServerError,
        "400 UNABLE_TO_LOCK_ROW": SalesforceBadRequestError,
        "connection reset": SalesforceConnectionError,
    }[failure]
    assert isinstance(info.value, expected)


def test_retry_budget_is_per_call_and_then_raises() -> None:
    sleeps: list[float] = []
    url = f"{BASE}/sobjects/Account/001x"
    with responses.RequestsMock() as rsps:
        rsps.get(url, status=500, json=BOOM)
        with pytest.raises(SalesforceServerError) as info:
            make_bridge(sleeps).get("Account", "001x")
        assert len(rsps.calls) == 3  # first try + max_retries=2
    assert info.value.code == "UNKNOWN_EXCEPTION"
    assert sleeps == [0.5, 1.0]


def test_a_failed_query_page_is_retried_alone() -> None:
    sleeps: list[float] = []
    first = {
        "totalSize": 2,
        "done": False,
        "nextRecordsUrl": "/services/data/v62.0/query/01gX-1",
        "records": [{"Id": "001a"}],
    }
    with responses.RequestsMock(registry=responses.registries.OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/query/", json=first)
        rsps.get(f"{BASE}/query/01gX-1", body=requests.ConnectionError("reset"))
        rsps.get(f"{BASE}/query/01gX-1", status=503, json=[], headers={"Retry-After": "3"})
        rsps.get(f"{BASE}/query/01gX-1", json={"done": True, "records": [{"Id": "001b"}]})
        rows = [r["Id"] for r in make_bridge(sleeps).query("SELECT Id FROM Account")]
        assert len(rsps.calls) == 4  # the first page was not fetched again
    assert rows == ["001a", "001b"]
    assert sleeps == [0.5, 3.0]  # backoff, then the server's Retry-After


def lock_aware_callback(
    locked_rounds: dict[str, int],
) -> Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]:
    """Collections answer: a record is locked for its first ``locked_rounds[N]`` requests."""
    seen: dict[str, int] = {}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = request.body
        assert isinstance(body, bytes | str)
        out: list[dict[str, Any]] = []
        for record in json.loads(body)["records"]:
            key = str(record["Payment_ID__c"])
            seen[key] = seen.get(key, 0) + 1
            if seen[key] <= locked_rounds.get(key, 0):
                out.append({"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW"}]})
            else:
                out.append({"id": f"id-{key}", "success": True, "errors": [], "created": False})
        return 200, {}, json.dumps(out)

    return answer


def sent_keys(call: Any) -> list[str]:
    return [r["Payment_ID__c"] for r in json.loads(call.request.body)["records"]]


def test_locked_records_of_an_upsert_many_are_sent_again_alone() -> None:
    sleeps: list[float] = []
    records = [{"Payment_ID__c": f"P{i}"} for i in range(5)]
    with responses.RequestsMock() as rsps:
        rsps.add_callback(
            responses.PATCH,
            f"{BASE}/composite/sobjects/Payment__c/Payment_ID__c",
            callback=lock_aware_callback({"P1": 1, "P3": 2}),
        )
        results = make_bridge(sleeps).upsert_many("Payment__c", "Payment_ID__c", records)
        assert [sent_keys(c) for c in rsps.calls] == [
            ["P0", "P1", "P2", "P3", "P4"],
            ["P1", "P3"],
            ["P3"],
        ]
    assert [r.id for r in results] == [f"id-P{i}" for i in range(5)]  # input order kept
    assert all(r.success for r in results)
    assert sleeps == [0.5, 1.0]


def test_lock_retries_stop_at_the_budget_and_stay_data() -> None:
    sleeps: list[float] = []
    with responses.RequestsMock() as rsps:
        rsps.add_callback(
            responses.PATCH,
            f"{BASE}/composite/sobjects",
            callback=lock_aware_callback({"P1": 9}),
        )
        records = [{"Id": "a01", "Payment_ID__c": "P0"}, {"Id": "a02", "Payment_ID__c": "P1"}]
        results = make_bridge(sleeps).update_many("Payment__c", records)
        assert len(rsps.calls) == 3  # first try + max_retries=2
    assert [r.success for r in results] == [True, False]
    assert results[1].errors[0].code == "UNABLE_TO_LOCK_ROW"


def test_locked_records_of_a_create_are_not_sent_again() -> None:
    sleeps: list[float] = []
    with responses.RequestsMock() as rsps:
        rsps.add_callback(
            responses.POST, f"{BASE}/composite/sobjects", callback=lock_aware_callback({"P0": 1})
        )
        results = make_bridge(sleeps).create_many("Payment__c", [{"Payment_ID__c": "P0"}])
        assert len(rsps.calls) == 1
    assert not results[0].success
    assert sleeps == []
