"""GL daily rates (``currencyRates``): the client's typed lookup against the emulator, and the
emulator's rates used by foreign-currency receivables documents and GL journals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from oracle_fusion_client import (
    BasicAuth,
    FusionBadRequestError,
    FusionClient,
    FusionInputError,
    FusionRateNotFoundError,
    GlInterfaceLine,
    NewInvoice,
    NewStandardReceipt,
)
from oracle_fusion_client.emulator import EmulatorConfig, FusionEmulator

BASE = "https://fusion.emulator"
ROOT = f"{BASE}/fscmRestApi/resources/11.13.18.05"
DAY = date(2026, 11, 20)


def _rate(
    src: str, dst: str, value: str, day: date = DAY, kind: str = "Corporate"
) -> dict[str, str]:
    return {
        "FromCurrency": src,
        "ToCurrency": dst,
        "ConversionType": kind,
        "ConversionDate": day.isoformat(),
        "ConversionRate": value,
    }


@pytest.fixture
def emulator() -> FusionEmulator:
    return FusionEmulator(EmulatorConfig(today=lambda: DAY))


@pytest.fixture
def client(emulator: FusionEmulator) -> FusionClient:
    return FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))


def _seed(client: FusionClient, *rates: dict[str, str]) -> None:
    reply = client.http.session.post(
        f"{BASE}/__emulator__/seed", json={"currencyRates": list(rates)}
    )
    assert reply.status_code == 200


def test_get_rate_returns_a_decimal_and_the_inverse_row_exists(client: FusionClient) -> None:
    _seed(client, _rate("USD", "EUR", "0.9132"))
    rate = client.currency_rates.get_rate("USD", "EUR", DAY)
    assert rate.ConversionRate == Decimal("0.9132")
    assert isinstance(rate.ConversionRate, Decimal)
    assert (rate.FromCurrency, rate.ToCurrency, rate.ConversionType) == ("USD", "EUR", "Corporate")
    assert rate.ConversionDate == DAY
    inverse = client.currency_rates.get_rate("EUR", "USD", DAY)
    assert inverse.ConversionRate == (Decimal(1) / Decimal("0.9132")).quantize(Decimal("1e-10"))


def test_missing_rate_raises_a_typed_error_naming_pair_date_and_type(client: FusionClient) -> None:
    _seed(client, _rate("USD", "EUR", "0.9132"))
    with pytest.raises(FusionRateNotFoundError) as caught:
        client.currency_rates.get_rate("USD", "EUR", date(2026, 11, 21))
    error = caught.value
    assert str(error) == "no Corporate rate from USD to EUR on 2026-11-21 in currencyRates"
    assert (error.from_currency, error.to_currency) == ("USD", "EUR")
    assert error.conversion_date == date(2026, 11, 21)
    with pytest.raises(FusionRateNotFoundError, match="no Spot rate from USD to EUR"):
        client.currency_rates.get_rate("USD", "EUR", DAY, "Spot")
    assert isinstance(error, LookupError)


@pytest.mark.parametrize(
    ("src", "dst", "kind", "field"),
    [
        ("usd", "EUR", "Corporate", "from_currency"),
        ("USD", "EURO", "Corporate", "to_currency"),
        ("USD", "EUR", " ", "conversion_type"),
    ],
)
def test_bad_arguments_are_refused_before_sending(
    client: FusionClient, src: str, dst: str, kind: str, field: str
) -> None:
    with pytest.raises(FusionInputError, match=field):
        client.currency_rates.get_rate(src, dst, DAY, kind)


def test_a_rate_loaded_later_in_the_day_is_found_and_a_reload_replaces_it(
    client: FusionClient,
) -> None:
    with pytest.raises(FusionRateNotFoundError):
        client.currency_rates.get_rate("USD", "GBP", DAY)
    _seed(client, _rate("USD", "GBP", "0.7890"))
    assert client.currency_rates.get_rate("USD", "GBP", DAY).ConversionRate == Decimal("0.7890")
    _seed(client, _rate("USD", "GBP", "0.7900"))
    assert client.currency_rates.get_rate("USD", "GBP", DAY).ConversionRate == Decimal("0.7900")


def test_history_pages_through_every_date_oldest_first(client: FusionClient) -> None:
    days = [date(2026, 10, d) for d in range(1, 31)]
    _seed(client, *(_rate("USD", "CAD", f"1.{3000 + n}", day) for n, day in enumerate(days)))
    urls: list[str] = []

    def record(response: requests.Response, *_args: object, **_kwargs: object) -> None:
        urls.append(response.url)

    client.http.session.hooks["response"].append(record)
    found = list(client.currency_rates.history("USD", "CAD", page_size=7))
    assert len(urls) == 5  # 30 rows, 7 a page
    assert [r.ConversionDate for r in found] == days
    assert found[-1].ConversionRate == Decimal("1.3029")


def test_collection_shape_and_paging_on_the_wire(client: FusionClient) -> None:
    _seed(client, *(_rate("USD", "JPY", "150", date(2026, 9, d)) for d in range(1, 6)))
    reply = client.http.session.get(
        f"{ROOT}/currencyRates",
        params={
            "q": "FromCurrency='USD' and ToCurrency='JPY'",
            "limit": "2",
            "offset": "2",
            "orderBy": "ConversionDate:asc",
            "totalResults": "true",
        },
        headers={"Authorization": "Basic dTpw"},
    )
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith(
        "application/vnd.oracle.adf.resourcecollection+json"
    )
    body: dict[str, Any] = reply.json()
    assert (body["count"], body["hasMore"], body["limit"], body["offset"]) == (2, True, 2, 2)
    assert body["totalResults"] == 5
    assert [i["ConversionDate"] for i in body["items"]] == ["2026-09-03", "2026-09-04"]
    assert body["items"][0]["links"][0]["rel"] == "self"
    post = client.http.session.post(
        f"{ROOT}/currencyRates",
        json=_rate("USD", "JPY", "1"),
        headers={"Authorization": "Basic dTpw"},
    )
    assert post.status_code == 405  # read only, as in Fusion


@responses.activate
def test_get_rate_sends_one_q_query() -> None:
    responses.get(
        f"{ROOT}/currencyRates",
        json={"items": [], "count": 0, "hasMore": False},
        match=[
            matchers.query_param_matcher(
                {
                    "onlyData": "true",
                    "q": "FromCurrency='USD' and ToCurrency='EUR' and "
                    "ConversionDate='2026-11-20' and ConversionType='Corporate'",
                    "limit": "1",
                    "offset": "0",
                }
            )
        ],
    )
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"))
    with pytest.raises(FusionRateNotFoundError):
        client.currency_rates.get_rate("USD", "EUR", DAY)


def _eur_ledger(emulator: FusionEmulator) -> None:
    for bu in emulator.state.ref["businessUnits"]:
        bu["LedgerCurrency"] = "EUR"


def test_foreign_currency_receipt_takes_the_daily_rate(
    emulator: FusionEmulator, client: FusionClient
) -> None:
    _eur_ledger(emulator)
    _seed(client, _rate("USD", "EUR", "0.9132"))
    base = {
        "ReceiptNumber": "PT-1",
        "ReceiptMethod": "Manual",
        "BusinessUnit": "Vision Operations",
        "Amount": "100.00",
        "Currency": "USD",
        "ReceiptDate": DAY.isoformat(),
    }
    receipt = client.standard_receipts.create(
        NewStandardReceipt.model_validate({**base, "ConversionRateType": "Corporate"})
    )
    assert receipt.ConversionRate == Decimal("0.9132")
    assert receipt.ConversionDate == DAY
    assert receipt.AccountedAmount == Decimal("91.32")
    user = client.standard_receipts.create(
        NewStandardReceipt.model_validate(
            {
                **base,
                "ReceiptNumber": "PT-2",
                "ConversionRateType": "User",
                "ConversionRate": "0.9000",
                "ConversionDate": DAY.isoformat(),
            }
        )
    )
    assert user.AccountedAmount == Decimal("90.00")
    with pytest.raises(FusionBadRequestError, match="No Corporate conversion rate from USD"):
        client.standard_receipts.create(
            NewStandardReceipt.model_validate(
                {
                    **base,
                    "ReceiptNumber": "PT-3",
                    "ConversionRateType": "Corporate",
                    "ConversionDate": "2026-11-21",
                }
            )
        )


def test_foreign_currency_invoice_needs_a_conversion(
    emulator: FusionEmulator, client: FusionClient
) -> None:
    _eur_ledger(emulator)
    _seed(client, _rate("USD", "EUR", "0.9132"))
    body: dict[str, Any] = {
        "BusinessUnit": "Vision Operations",
        "TransactionSource": "Manual",
        "TransactionType": "Invoice",
        "TransactionDate": DAY.isoformat(),
        "BillToCustomerNumber": "1008",
        "InvoiceCurrencyCode": "USD",
        "PaymentTerms": "30 Net",
        "receivablesInvoiceLines": [
            {"LineNumber": 1, "Description": "x", "Quantity": 1, "UnitSellingPrice": 10}
        ],
    }
    with pytest.raises(FusionBadRequestError) as caught:
        client.receivables_invoices.create(NewInvoice.model_validate(body))
    assert caught.value.error_code == "AR_FUNC_CURRENCY_REQ"
    created = client.receivables_invoices.create(
        NewInvoice.model_validate({**body, "ConversionRateType": "Corporate"})
    )
    assert created.ConversionRate == Decimal("0.9132")


def test_gl_interface_line_writes_the_conversion_columns() -> None:
    line = GlInterfaceLine(
        ledger_id=1,
        accounting_date=DAY,
        source="PayTrace",
        category="Receipts",
        currency="USD",
        segments=["01", "000"],
        entered_dr=Decimal("100.00"),
        accounted_dr=Decimal("91.32"),
        conversion_type="User",
        conversion_date=DAY,
        conversion_rate=Decimal("0.9132"),
        group_id=7,
    )
    row = line.row()
    assert (row[38], row[40]) == (Decimal("100.00"), Decimal("91.32"))
    assert row[63:66] == ["User", DAY, Decimal("0.9132")]
    plain = GlInterfaceLine(
        ledger_id=1,
        accounting_date=DAY,
        source="PayTrace",
        category="Receipts",
        currency="USD",
        segments=["01"],
        entered_cr=Decimal("1.00"),
        group_id=7,
    )
    assert plain.row()[63:] == [None, None, None, 7]  # no conversion; GROUP_ID last
    with pytest.raises(FusionInputError, match="conversion_rate"):
        GlInterfaceLine(
            ledger_id=1,
            accounting_date=DAY,
            source="S",
            category="C",
            currency="USD",
            segments=["01"],
            entered_cr=Decimal(1),
            conversion_type="User",
            conversion_date=DAY,
        ).row()
