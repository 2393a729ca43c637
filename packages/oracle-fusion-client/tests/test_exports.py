"""Pins the public surface: adding or removing a public name is a deliberate change."""

from __future__ import annotations

import oracle_fusion_client

EXPECTED = frozenset(
    {
        "ActionResult",
        "ApplyReceipt",
        "BasicAuth",
        "BatchPart",
        "BatchResult",
        "BearerTokenAuth",
        "ClientAssertion",
        "ClientSecret",
        "Cond",
        "ConnectionFailure",
        "CreditMemo",
        "CreditMemoDistribution",
        "CreditMemoLine",
        "CreditMemos",
        "CurrencyRate",
        "CurrencyRates",
        "CustomerAccountActivities",
        "CustomerAccountActivity",
        "ErpIntegrationSoap",
        "ErpIntegrations",
        "ErrorDetail",
        "Fetched",
        "FusionAuth",
        "FusionAuthError",
        "FusionBadRequestError",
        "FusionBatchError",
        "FusionClient",
        "FusionConflictError",
        "FusionConnectionError",
        "FusionDuplicateError",
        "FusionError",
        "FusionInputError",
        "FusionJWTAuth",
        "FusionJobTimeoutError",
        "FusionModel",
        "FusionNotFoundError",
        "FusionPreconditionFailedError",
        "FusionRateLimitError",
        "FusionServerError",
        "FusionSoapFaultError",
        "FusionStatusError",
        "FusionTimeoutError",
        "GlInterfaceLine",
        "IDCSClientCredentialsAuth",
        "IDCSUserAssertionAuth",
        "Invoice",
        "InvoiceDistribution",
        "InvoiceLine",
        "Invoices",
        "Item",
        "NewCreditMemo",
        "NewInvoice",
        "NewSalesOrder",
        "NewStandardReceipt",
        "ORACLE_MESSAGES",
        "Page",
        "PaymentSchedule",
        "Query",
        "RemittanceReference",
        "RetryConfig",
        "SalesOrder",
        "SalesOrderBillTo",
        "SalesOrderLine",
        "SalesOrderShipTo",
        "SalesOrders",
        "SigningKey",
        "StandardReceipt",
        "StandardReceipts",
        "TERMINAL_JOB_STATES",
        "Timeouts",
        "WSGIAdapter",
        "__version__",
        "build_fbdi_zip",
        "bundled_wsdl",
        "finder",
        "fusion_scope",
        "order_key",
        "parameter_list",
        "q_and",
        "q_literal",
        "q_or",
        "retry_delay",
        "x5t_thumbprint",
    }
)


def test_all_is_pinned() -> None:
    assert len(oracle_fusion_client.__all__) == len(set(oracle_fusion_client.__all__))
    assert set(oracle_fusion_client.__all__) == EXPECTED


def test_every_public_attribute_is_exported() -> None:
    public = {n for n in vars(oracle_fusion_client) if not n.startswith("_")}
    # subpackages imported by tests (``emulator``) are modules, not re-exported names
    public.discard("emulator")
    assert public | {"__version__"} == set(oracle_fusion_client.__all__)
