"""Property tests: q/finder escaping round-trips and lossless paging."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle_fusion_client import (
    BasicAuth,
    Cond,
    FusionClient,
    NewSalesOrder,
    NewStandardReceipt,
    Query,
    finder,
    q_and,
    q_or,
)
from oracle_fusion_client.emulator import FusionEmulator
from oracle_fusion_client.emulator._qparse import compile_q, parse_finder

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
BASE = "https://fusion.emulator"


@given(value=TEXT, other=TEXT)
def test_q_string_literal_round_trips(value: str, other: str) -> None:
    predicate = compile_q(str(Cond("ReceiptNumber", "=", value)))
    assert predicate({"ReceiptNumber": value})
    assert predicate({"ReceiptNumber": other}) == (value == other)
    negated = compile_q(str(Cond("ReceiptNumber", "!=", value)))
    assert negated({"ReceiptNumber": value}) is False


@given(a=TEXT, b=TEXT, amount=st.decimals(min_value=-(10**6), max_value=10**6, places=2))
def test_q_combinations(a: str, b: str, amount: Decimal) -> None:
    record = {"A": a, "B": b, "Amount": amount}
    both = compile_q(q_and(Cond("A", "=", a), Cond("B", "=", b), Cond("Amount", ">=", amount)))
    assert both(record)
    either = compile_q(q_or(Cond("A", "=", a + "x"), q_and(Cond("B", "=", b))))
    assert either(record)
    assert not compile_q(str(Cond("Amount", ">", amount)))(record)


@given(number=TEXT, system=TEXT)
def test_finder_values_round_trip(number: str, system: str) -> None:
    name, values = parse_finder(
        finder(
            "findBySourceOrderNumberAndSystem",
            SourceTransactionNumber=number,
            SourceTransactionSystem=system,
        )
    )
    assert name == "findBySourceOrderNumberAndSystem"
    assert values == {"SourceTransactionNumber": number, "SourceTransactionSystem": system}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numbers=st.lists(TEXT, min_size=1, max_size=4, unique=True))
def test_find_by_number_through_the_emulator(numbers: list[str]) -> None:
    emulator = FusionEmulator()
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))
    for number in numbers:
        client.standard_receipts.create(
            NewStandardReceipt(
                ReceiptNumber=number,
                ReceiptMethod="Manual",
                BusinessUnit="Vision Operations",
                Amount=Decimal("1.00"),
                Currency="USD",
            )
        )
    for number in numbers:
        found = client.standard_receipts.find_by_number(number)
        assert found is not None
        assert found.ReceiptNumber == number


@settings(max_examples=25, deadline=None)
@given(
    initial=st.integers(0, 30),
    page_size=st.integers(1, 7),
    created_during=st.integers(0, 10),
)
def test_paging_loses_and_repeats_nothing(
    initial: int, page_size: int, created_during: int
) -> None:
    emulator = FusionEmulator()
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))

    def create(number: str) -> None:
        client.standard_receipts.create(
            NewStandardReceipt(
                ReceiptNumber=number,
                ReceiptMethod="Manual",
                BusinessUnit="Vision Operations",
                Amount=Decimal("2.50"),
                Currency="USD",
            )
        )

    for i in range(initial):
        create(f"I-{i}")
    seen: list[str] = []
    extra = 0
    for receipt in client.standard_receipts.list(Query(limit=page_size)):
        assert receipt.ReceiptNumber is not None
        seen.append(receipt.ReceiptNumber)
        if extra < created_during:
            create(f"N-{extra}")
            extra += 1
    assert len(seen) == len(set(seen))
    originals = [s for s in seen if s.startswith("I-")]
    assert originals == [f"I-{i}" for i in range(initial)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=TEXT, system=TEXT, other=TEXT)
def test_finder_through_the_emulator(number: str, system: str, other: str) -> None:
    emulator = FusionEmulator()
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))
    order = NewSalesOrder.model_validate(
        {
            "SourceTransactionNumber": number,
            "SourceTransactionSystem": system,
            "SourceTransactionId": "ID-1",
            "TransactionalCurrencyCode": "USD",
            "BusinessUnitId": 204,
            "BuyingPartyNumber": "1006",
            "lines": [
                {
                    "SourceTransactionLineId": "1",
                    "SourceTransactionLineNumber": "1",
                    "OrderedQuantity": 1,
                    "ProductNumber": "P",
                }
            ],
        }
    )
    created = client.sales_orders.create(order)
    found = client.sales_orders.find_by_source(number, system)
    assert found is not None
    assert found.OrderKey == created.OrderKey
    if other != number:
        assert client.sales_orders.find_by_source(other, system) is None
    assert client.sales_orders.get(system, "ID-1").model.SourceTransactionNumber == number
