"""A recording fake ``Requester`` and PayTrace's verbatim response fixtures (reference 8).

Test modules import the class for annotations only (``if TYPE_CHECKING``): with pytest's
importlib mode this directory is not on ``sys.path``, and the fixture hands out instances.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from paytrace_client._requester import CallKind, JSONObject, RequestOptions, WriteCorrelation

APPROVED_F1: JSONObject = {
    "success": True,
    "response_code": 101,
    "status_message": "Your transaction was successfully approved.",
    "transaction_id": 395970044,
    "approval_code": "TAS679",
    "approval_message": "  NO  MATCH - Approved and completed",
    "avs_response": "No Match",
    "csc_response": "",
    "external_transaction_id": "",
    "masked_card_number": "xxxxxxxxxxxx5439",
}
CAPTURED_F4: JSONObject = {
    "success": True,
    "response_code": 112,
    "status_message": "Your transaction was successfully captured.",
    "transaction_id": 392442990,
    "external_transaction_id": "",
}
REFUNDED_F5: JSONObject = {
    "success": True,
    "response_code": 106,
    "status_message": "Your transaction was successfully refunded.",
    "transaction_id": 179066852,
    "external_transaction_id": "",
    "masked_card_number": "xxxxxxxxxxxx5439",
}
VOIDED_F6: JSONObject = {
    "success": True,
    "response_code": 109,
    "status_message": "Your transaction was successfully voided.",
    "transaction_id": 395971574,
}
CUSTOMER_CREATED_F7: JSONObject = {
    "success": True,
    "response_code": 160,
    "status_message": "The customer profile for customerTest150/Steve Smith was successfully "
    "created",
    "customer_id": "customerTest150",
    "masked_card_number": "xxxxxxxxxxxx1111",
}
LEVEL3_F9: JSONObject = {
    "success": True,
    "response_code": 170,
    "status_message": "Visa/MasterCard enhanced data was successfully added to Transaction ID "
    "392483066. 1 line item records were created.",
}
CHECK_F10: JSONObject = {
    "success": True,
    "response_code": 120,
    "status_message": "Your check was successfully processed.",
    "check_transaction_id": 981619,
}


@dataclass(frozen=True)
class Call:
    path: str
    body: JSONObject
    kind: CallKind
    correlation: WriteCorrelation | None
    options: RequestOptions | None


class FakeRequester:
    """Records every call and answers with the queued bodies, in order."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._replies: deque[JSONObject] = deque()

    def reply(self, *bodies: Mapping[str, Any]) -> FakeRequester:
        self._replies.extend(copy.deepcopy(dict(b)) for b in bodies)
        return self

    @property
    def last(self) -> Call:
        return self.calls[-1]

    @property
    def pending(self) -> int:
        return len(self._replies)

    def call(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        kind: CallKind,
        correlation: WriteCorrelation | None = None,
        options: RequestOptions | None = None,
    ) -> JSONObject:
        # A deep copy, so a test sees exactly what was handed over at call time.
        self.calls.append(Call(path, copy.deepcopy(dict(body)), kind, correlation, options))
        if not self._replies:
            raise AssertionError(f"unexpected call to {path}")
        return self._replies.popleft()


@dataclass(frozen=True)
class Fixtures:
    """The reference's verbatim success bodies; each access returns the shared dict, so
    tests must not mutate them (``FakeRequester.reply`` copies)."""

    approved: JSONObject
    captured: JSONObject
    refunded: JSONObject
    voided: JSONObject
    customer_created: JSONObject
    level3: JSONObject
    check: JSONObject


@pytest.fixture
def fixtures() -> Fixtures:
    return Fixtures(
        approved=APPROVED_F1,
        captured=CAPTURED_F4,
        refunded=REFUNDED_F5,
        voided=VOIDED_F6,
        customer_created=CUSTOMER_CREATED_F7,
        level3=LEVEL3_F9,
        check=CHECK_F10,
    )


@pytest.fixture
def fake() -> Iterator[FakeRequester]:
    requester = FakeRequester()
    yield requester
    assert requester.pending == 0, "queued replies were never requested"
