"""Documents numbered the way paysync's use cases number them, reconciled end to end.

Use case 3 labels its PayTrace refunds ``RF-<sale>-<request>``, numbers its Fusion credit
memos ``CM-<refund id>`` and keeps the sale's ``Amount__c`` in Salesforce with
``Refunded_Amount__c``; use case 4 numbers chargeback memos ``CB-<case>``. The Fusion
documents are built with the use cases' own mapping functions and posted to the emulator.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from oracle_fusion_client import BasicAuth, FusionClient, NewStandardReceipt
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core.canonical import RefundRequest
from paysync_core.chargebacks import Chargeback, ChargebackConfig, chargeback_to_credit_memo
from paysync_core.mapping import FusionReceivablesConfig, credit_memo_to_fusion
from paysync_core.reconcile import (
    DiscrepancyClass,
    export_fusion,
    export_paytrace,
    export_salesforce,
    reconcile,
)
from paytrace_client import CreditCard, PayTraceClient
from paytrace_client.emulator import PayTraceEmulator
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    FieldDef,
    SalesforceEmulator,
    emulator_session,
)

FUSION_URL = "https://fusion.emulator"
CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


def _no_sleep(_seconds: float) -> None:
    return None


def _receipt(number: str, amount: str, day: object) -> NewStandardReceipt:
    return NewStandardReceipt(
        ReceiptNumber=number,
        ReceiptMethod="Manual",
        BusinessUnit="Vision Operations",
        Amount=Decimal(amount),
        Currency="USD",
        ReceiptDate=day,  # type: ignore[arg-type]
        RemittanceBankAccountNumber="10271-17621-619",
        CustomerAccountNumber="1008",
    )


class _World:
    def __init__(self) -> None:
        self.pt_emulator = PayTraceEmulator()
        self.paytrace = PayTraceClient(
            username="demo123",
            password="demo123",
            session=self.pt_emulator.session(),
            sleep=_no_sleep,
        )
        self.fusion = FusionClient(
            base_url=FUSION_URL,
            auth=BasicAuth("casey.brown", "pw"),
            session=FusionEmulator().session(FUSION_URL),
            sleep=_no_sleep,
        )
        base = SalesforceEmulator(seed=False)
        payment = base.org.obj("Payment__c").with_fields(FieldDef("Refunded_Amount__c", "currency"))
        grant = PasswordGrant(
            client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
        )
        self.bridge = SalesforceBridge(
            grant=grant, session=emulator_session(SalesforceEmulator(objects=[payment]))
        )
        self.today = self.pt_emulator.now().date()

    def web_sale(self, order: str, amount: str) -> str:
        """Use case 2: a sale with the order number as invoice, its receipt ``PT-<txid>``."""
        sale = self.paytrace.transactions.sale_keyed(
            Decimal(amount), CreditCard(CARD, 12, 2030), invoice_id=order
        )
        txid = str(sale.transaction_id)
        self.fusion.standard_receipts.create(_receipt(f"PT-{txid}", amount, self.today))
        return txid

    def refund(self, sale: str, request: str, amount: str) -> str:
        """Use case 3's effects: the PayTrace refund labelled ``RF-<sale>-<request>`` and the
        Fusion credit memo ``CM-<refund id>`` from ``credit_memo_to_fusion``."""
        done = self.paytrace.transactions.refund_transaction(
            int(sale), Decimal(amount), invoice_id=f"RF-{sale}-{request}"
        )
        refund_id = str(done.transaction_id)
        canonical = RefundRequest(
            request_id=request,
            original_transaction_id=sale,
            amount=Decimal(amount),
            salesforce_payment_key=sale,
            fusion_customer_account="1008",
            requested_at=datetime.now(timezone.utc),
        )
        memo = credit_memo_to_fusion(
            canonical,
            number=f"CM-{refund_id}",
            refund_transaction_id=refund_id,
            revenue_account="01-000-4110-0000",
            credit_date=datetime.now(timezone.utc),
            config=FusionReceivablesConfig(),
        )
        self.fusion.receivables_credit_memos.create(memo)
        return refund_id

    def payment(self, txid: str, amount: str, status: str, refunded: str) -> None:
        self.bridge.create_many(
            "Payment__c",
            [
                {
                    "Payment_ID__c": txid,
                    "Amount__c": float(amount),
                    "Status__c": status,
                    "Refunded_Amount__c": float(refunded),
                    "Processed_At__c": f"{self.today.isoformat()}T12:00:00.000+0000",
                }
            ],
        )

    def load(self, tmp_path: Path) -> dict[str, Path]:
        files = {n: tmp_path / f"{n}.csv" for n in ("paytrace", "fusion", "salesforce")}
        window = (self.today - timedelta(days=1), self.today + timedelta(days=1))
        export_paytrace(self.paytrace, *window, files["paytrace"])
        export_fusion(self.fusion, files["fusion"])
        export_salesforce(
            self.bridge,
            files["salesforce"],
            where="Processed_At__c != null",
            refunded_field="Refunded_Amount__c",
        )
        return files


@pytest.mark.parametrize("engine", ["python", "polars"])
def test_use_case_refund_memos_net_against_their_sale(tmp_path: Path, engine: str) -> None:
    world = _World()
    full = world.web_sale("WEB-2001", "89.50")
    partial = world.web_sale("WEB-2002", "40.00")
    world.pt_emulator.settle()
    world.refund(full, "RQ1", "30.00")
    world.refund(full, "RQ2", "59.50")
    world.refund(partial, "RQ3", "10.00")
    world.payment(full, "89.50", "Refunded", "89.50")
    world.payment(partial, "40.00", "Settled", "10.00")

    files = world.load(tmp_path)
    fusion_rows = files["fusion"].read_text().splitlines()
    assert sum(row.startswith(f"PT-{full},") for row in fusion_rows) == 3  # receipt, 2 memos

    result = reconcile(**files, engine=engine)  # type: ignore[arg-type]
    assert result.discrepancies == []
    assert result.matched == 2


@pytest.mark.parametrize("engine", ["python", "polars"])
def test_use_case_chargeback_memo_is_keyed_to_its_sale(tmp_path: Path, engine: str) -> None:
    world = _World()
    sale = world.web_sale("WEB-3001", "25.00")
    world.pt_emulator.settle()
    world.payment(sale, "25.00", "Settled", "0")
    chargeback = Chargeback(
        case_number="CASE-77",
        transaction_id=sale,
        amount=Decimal("25.00"),
        reason_code="10.4",
        dispute_date=world.today,
    )
    memo = chargeback_to_credit_memo(
        chargeback, invoice_number="WEB-3001", customer_account="1008", config=ChargebackConfig()
    )
    world.fusion.receivables_credit_memos.create(memo.value)

    result = reconcile(**world.load(tmp_path), engine=engine)  # type: ignore[arg-type]
    # The memo nets against the sale, not an unexplained "CB-CASE-77"; PayTrace's exports do
    # not carry the chargeback, so Fusion (net zero: refunded) disagrees with the settled sale.
    assert {(d.kind, d.key) for d in result.discrepancies} == {
        (DiscrepancyClass.AMOUNT_MISMATCH, sale),
        (DiscrepancyClass.STATUS_MISMATCH, sale),
    }
    amount = next(d for d in result.discrepancies if d.kind is DiscrepancyClass.AMOUNT_MISMATCH)
    assert (amount.paytrace_amount, amount.fusion_amount) == (Decimal("25.00"), Decimal("0.00"))
