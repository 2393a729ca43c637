"""The reference data the emulator starts with: Oracle's documentation demo values.

Everything the example payloads of the reference use exists, so they run unchanged:
business unit ``Vision Operations`` (id 204, USD ledger), customer accounts ``1008``
(Total Internet, site ``1042``), ``1004`` (site ``Tulsa (OPS)``) and ``1006`` (party 1006,
bill-to site use 1025, ship-to site 1036), receipt method ``Manual`` with remittance bank
account ``10271-17621-619``, transaction sources ``Manual-NES`` and ``Manual``, transaction
types ``Invoice`` and ``Credit Memo``, payment terms ``30 Net``. Names not given by the
documentation (for example the names of accounts 1004 and 1006) are the emulator's own.
"""

from __future__ import annotations

from typing import Any

__all__ = ["default_seed"]


def default_seed() -> dict[str, Any]:
    """A fresh copy of the seed (callers may mutate it)."""
    return {
        "businessUnits": [
            {
                "BusinessUnitId": 204,
                "BusinessUnitName": "Vision Operations",
                "LedgerCurrency": "USD",
            }
        ],
        "customerAccounts": [
            {
                "AccountNumber": "1008",
                "CustomerAccountId": 1008,
                "PartyId": 1008,
                "PartyNumber": "1008",
                "CustomerName": "Total Internet",
                "sites": [{"SiteNumber": "1042", "SiteUseId": 1042, "SiteId": 1042}],
            },
            {
                "AccountNumber": "1004",
                "CustomerAccountId": 1004,
                "PartyId": 1004,
                "PartyNumber": "1004",
                "CustomerName": "Vision Customer 1004",
                "sites": [{"SiteNumber": "Tulsa (OPS)", "SiteUseId": 1004, "SiteId": 1004}],
            },
            {
                "AccountNumber": "1006",
                "CustomerAccountId": 1006,
                "PartyId": 1006,
                "PartyNumber": "1006",
                "CustomerName": "Vision Customer 1006",
                "sites": [{"SiteNumber": "1025", "SiteUseId": 1025, "SiteId": 1036}],
            },
        ],
        "receiptMethods": [
            {
                "ReceiptMethod": "Manual",
                "Electronic": False,
                "RemittanceBankAccountNumber": "10271-17621-619",
                "RemittanceBankName": "BofA-204",
                "RemittanceBankBranch": "BofA-New York",
            },
            {
                "ReceiptMethod": "Credit Card",
                "Electronic": True,
                "RemittanceBankAccountNumber": "10271-17621-619",
                "RemittanceBankName": "BofA-204",
                "RemittanceBankBranch": "BofA-New York",
            },
            {"ReceiptMethod": "Bills of Exchange", "BillsOfExchange": True},
        ],
        "transactionSources": ["Manual-NES", "Manual"],
        "transactionTypes": ["Invoice", "Credit Memo"],
        "paymentTerms": [{"Name": "30 Net", "DueDays": 30}, {"Name": "Immediate", "DueDays": 0}],
        "currencies": ["USD", "EUR", "GBP", "CAD", "JPY", "INR"],
        "currencyRates": [
            {
                "FromCurrency": "EUR",
                "ToCurrency": "USD",
                "ConversionType": "Corporate",
                "ConversionDate": "2018-02-20",
                "ConversionRate": "1.2345",
            },
            {
                "FromCurrency": "GBP",
                "ToCurrency": "USD",
                "ConversionType": "Corporate",
                "ConversionDate": "2018-02-20",
                "ConversionRate": "1.3960",
            },
        ],
    }
