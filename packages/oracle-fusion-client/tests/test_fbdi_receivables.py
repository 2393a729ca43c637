"""Receivables FBDI files: typed row builders, and their import through the emulator."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from oracle_fusion_client import (
    AUTOINVOICE_IMPORT_JOB,
    AUTOINVOICE_LINES,
    LOCKBOX_IMPORT_JOB,
    LOCKBOX_RECEIPTS,
    RECEIVABLES_IMPORT_ACCOUNT,
    ArInvoiceInterfaceLine,
    ArReceiptInterfaceLine,
    BasicAuth,
    FbdiLayout,
    FusionClient,
    FusionInputError,
    build_fbdi_zip,
)
from oracle_fusion_client.emulator import FusionEmulator

BASE = "https://fusion.emulator"


def _invoice_line(number: str, line: int, price: str, **changes: Any) -> ArInvoiceInterfaceLine:
    base = ArInvoiceInterfaceLine(
        business_unit="Vision Operations",
        transaction_source="Manual-NES",
        transaction_type="Invoice",
        transaction_number=number,
        transaction_date=date(2026, 1, 15),
        bill_to_account_number="1008",
        bill_to_site_number="1042",
        currency="USD",
        description=f"line {line}",
        line_context="PAYSYNC",
        line_reference=number,
        line_number=line,
        quantity=Decimal(2),
        unit_selling_price=Decimal(price),
        payment_terms="30 Net",
    )
    return replace(base, **changes)


def _receipt(number: str, amount: str, *apps: tuple[str, Decimal]) -> ArReceiptInterfaceLine:
    return ArReceiptInterfaceLine(
        lockbox_number="LB1",
        batch_name="B1",
        item_number=1,
        receipt_number=number,
        amount=Decimal(amount),
        receipt_date=date(2026, 1, 20),
        receipt_method="Manual",
        currency="USD",
        customer_account_number="1008",
        applications=apps,
    )


def _cells(data: bytes, name: str) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return list(csv.reader(io.StringIO(archive.read(name).decode())))


def test_invoice_row_layout() -> None:
    row = _invoice_line("INV-1", 1, "10.25").row()
    (cells,) = _cells(
        build_fbdi_zip({AUTOINVOICE_LINES.file_name: [row]}), "RaInterfaceLinesAll.csv"
    )
    named = AUTOINVOICE_LINES.read(cells)
    assert named["TRX_NUMBER"] == "INV-1"
    assert named["TRX_DATE"] == "2026/01/15"
    assert named["AMOUNT"] == "20.50"
    assert named["BILL_CUSTOMER_ACCOUNT_NUMBER"] == "1008"
    assert (named["INTERFACE_LINE_CONTEXT"], named["INTERFACE_LINE_ATTRIBUTE2"]) == ("PAYSYNC", "1")
    assert named["GL_DATE"] == ""
    assert len(cells) == len(AUTOINVOICE_LINES.columns)


def test_receipt_row_layout_and_limits() -> None:
    row = _receipt("R-1", "30.00", ("INV-1", Decimal("20.50"))).row()
    named = LOCKBOX_RECEIPTS.read([("" if v is None else str(v)) for v in row])
    assert (named["RECORD_TYPE"], named["CHECK_NUMBER"], named["REMITTANCE_AMOUNT"]) == (
        "6",
        "R-1",
        "30.00",
    )
    assert (named["INVOICE1"], named["AMOUNT_APPLIED1"], named["INVOICE2"]) == (
        "INV-1",
        "20.50",
        "",
    )
    with pytest.raises(FusionInputError):
        _receipt("R-2", "1.00", ("INV-1", Decimal("2.00"))).row()
    with pytest.raises(FusionInputError):
        _receipt("R-3", "100", *[(f"I{i}", Decimal(1)) for i in range(9)]).row()


def test_custom_layout_from_a_template() -> None:
    layout = FbdiLayout("RaInterfaceLinesAll.csv", ("TRX_NUMBER", "AMOUNT", "BU_NAME"))
    with pytest.raises(FusionInputError, match="no column"):
        _invoice_line("X", 1, "1").row(layout)
    with pytest.raises(FusionInputError, match="duplicate"):
        FbdiLayout("x.csv", ("A", "A"))
    assert layout.row({"AMOUNT": Decimal(3)}) == [None, Decimal(3), None]


def _import(client: FusionClient, files: Mapping[str, Sequence[Sequence[Any]]], job: str) -> str:
    erp = client.erp_integrations
    request_id = erp.import_bulk_data(
        document=build_fbdi_zip(files),
        file_name="ar.zip",
        document_account=RECEIVABLES_IMPORT_ACCOUNT,
        job_name=job,
        parameter_list="#NULL",
    )
    return erp.wait_for_job(request_id, sleep=lambda _: None)


def test_autoinvoice_then_lockbox_import_post_and_apply() -> None:
    emulator = FusionEmulator()
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))
    lines = [_invoice_line("INV-1", 1, "10.25").row(), _invoice_line("INV-1", 2, "5").row()]
    assert _import(client, {AUTOINVOICE_LINES.file_name: lines}, AUTOINVOICE_IMPORT_JOB) == (
        "SUCCEEDED"
    )
    invoice = client.receivables_invoices.find_by_number("INV-1")
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("30.50")
    receipts = [_receipt("LB-R-1", "40.00", ("INV-1", Decimal("30.50"))).row()]
    assert _import(client, {LOCKBOX_RECEIPTS.file_name: receipts}, LOCKBOX_IMPORT_JOB) == (
        "SUCCEEDED"
    )
    receipt = client.standard_receipts.find_by_number("LB-R-1")
    assert receipt is not None
    assert receipt.UnappliedAmount == Decimal("9.50")
    paid = client.receivables_invoices.find_by_number("INV-1")
    assert paid is not None
    assert paid.InvoiceBalanceAmount == Decimal(0)


def test_a_failing_row_fails_the_job_and_posts_nothing() -> None:
    emulator = FusionEmulator()
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))
    good = _invoice_line("INV-2", 1, "1").row()
    bad = _invoice_line("INV-3", 1, "1", bill_to_account_number="9999").row()
    erp = client.erp_integrations
    request_id = erp.import_bulk_data(
        document=build_fbdi_zip({AUTOINVOICE_LINES.file_name: [good, bad]}),
        file_name="ar.zip",
        document_account=RECEIVABLES_IMPORT_ACCOUNT,
        job_name=AUTOINVOICE_IMPORT_JOB,
        parameter_list="#NULL",
    )
    assert erp.wait_for_job(request_id, sleep=lambda _: None) == "ERROR"
    assert emulator.state.records["receivablesInvoices"] == {}
    with zipfile.ZipFile(io.BytesIO(erp.download_job_output(request_id))) as archive:
        assert "AR_BILL_TO_CUST_NOT_FOUND" in archive.read(archive.namelist()[0]).decode()
    receipts = [_receipt("LB-R-2", "5.00", ("NO-SUCH", Decimal(1))).row()]
    assert _import(client, {LOCKBOX_RECEIPTS.file_name: receipts}, LOCKBOX_IMPORT_JOB) == "ERROR"
    assert emulator.state.records["standardReceipts"] == {}
