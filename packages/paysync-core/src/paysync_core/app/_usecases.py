"""The seven use cases of issue 8 as registry entries (builders from ports + options)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from oracle_fusion_client import CRM_API, CrmAccounts
from paysync_core import Engine, FlowRecord, SubmitHook
from paysync_core.mapping import soql_source_fields, subscription_from_salesforce
from paysync_core.ports import SalesforcePort
from paysync_core.sources import (
    BillingContacts,
    ClosedWonOpportunities,
    CustomerAccounts,
    EventHandler,
    FusionChange,
    FusionResource,
    OrderCreated,
    fusion_change,
)
from paysync_core.sources.salesforce_events import OPPORTUNITY_BY_ID_SOQL, ORDER_BY_ID_SOQL
from paysync_core.usecases import (
    CHARGEBACKS_USE_CASE,
    CUSTOMER_SYNC_FUSION_USE_CASE,
    CUSTOMER_SYNC_PAYTRACE_USE_CASE,
    CUSTOMER_SYNC_USE_CASE,
    DECLINES_USE_CASE,
    ECOMMERCE_USE_CASE,
    FUSION_PAYMENT_STATUS_USE_CASE,
    RECURRING_USE_CASE,
    REFUNDS_USE_CASE,
    SETTLEMENT_USE_CASE,
    USE_CASE,
    CustomerSync,
    CustomerSyncConfig,
    DeclinesChargebacks,
    DeclinesChargebacksConfig,
    EcommerceConfig,
    EcommerceOrderToCash,
    FusionPaymentStatus,
    FusionPaymentStatusConfig,
    OrderToCash,
    OrderToCashConfig,
    PayTraceProfilePoller,
    PayTraceVoidPoller,
    RecurringBilling,
    RecurringBillingConfig,
    Refunds,
    RefundsConfig,
    SettlementToGl,
    SettlementToGlConfig,
)
from paysync_core.usecases.customer_sync import QueryAllPort
from paysync_core.xref import CustomerXrefTable
from paytrace_client.models import ExportedTransaction

from ._registry import Ports, Source, UseCase, UseCaseBuild, register
from ._sources import CallSource, SoqlSource, WindowSource

__all__ = [
    "ACCOUNT_TOPIC",
    "CONTACT_TOPIC",
    "CUSTOMER_SYNC",
    "DECLINES_CHARGEBACKS",
    "ECOMMERCE",
    "FUSION_PAYMENT_STATUS",
    "OPPORTUNITY_TOPIC",
    "ORDER_EVENT_CHANNEL",
    "ORDER_TOPIC",
    "ORDER_TO_CASH",
    "RECURRING_BILLING",
    "REFUNDS",
    "SETTLEMENT_GL",
    "FusionPartyChanges",
]

#: The Change Data Capture topics use cases 1 and 5 stream from (``[salesforce.events]``).
OPPORTUNITY_TOPIC = "/data/OpportunityChangeEvent"
ACCOUNT_TOPIC = "/data/AccountChangeEvent"
#: Use case 5: Contact changes (e-mail, billing flag) re-sync their Account.
CONTACT_TOPIC = "/data/ContactChangeEvent"
#: Use case 1's Order trigger (``triggers = ["order"]``): CDC and the platform event.
ORDER_TOPIC = "/data/OrderChangeEvent"
ORDER_EVENT_CHANNEL = "/event/Order_Event__e"

_ORDER_SOQL = (
    "SELECT Id, AccountId, OpportunityId, OrderNumber, Status, EffectiveDate, TotalAmount, "
    "CreatedDate FROM Order WHERE CreatedDate >= {} ORDER BY CreatedDate LIMIT 2000"
)

_OPPORTUNITY_SOQL = (
    "SELECT Id, Name, StageName, CloseDate, Amount, AccountId, LastModifiedDate "
    "FROM Opportunity WHERE StageName = {} AND LastModifiedDate >= {} "
    "ORDER BY LastModifiedDate LIMIT 2000"
)


def _selecting(soql: str, extra: Sequence[str]) -> str:
    """``soql`` with the ``extra`` fields added to its ``SELECT`` list (once each): the fields
    a use case's options read from the trigger's record (custom-field mapping, the payment
    method field) are selected without the user editing any query. The names were validated
    as Salesforce API names by the options."""
    head, sep, tail = soql.partition(" FROM ")
    have = [name.strip() for name in head.removeprefix("SELECT ").split(",")]
    names = dict.fromkeys([*have, *(name for name in extra if name)])
    return f"SELECT {', '.join(names)}{sep}{tail}"


def _order_to_cash_fields(options: OrderToCashConfig) -> tuple[str, ...]:
    """The trigger-record fields use case 1's options read (on the Opportunity and Order)."""
    return (*soql_source_fields(options.custom_fields), options.payment_method_field or "")


def _event_or_poll(ports: Ports, topic: str, handler: EventHandler, poll: Source) -> Source:
    """The event stream of ``topic`` when it is a configured channel, else ``poll``: a use
    case hears of a Salesforce change one way, never both."""
    if ports.events is not None:
        source = ports.events.source(topic, handler, ports.store)
        if source is not None:
            return source
    return poll


def _field(data: Mapping[str, Any], name: str, what: str) -> Any:
    if name not in data:
        raise ValueError(f"input: {name} is missing ({what})")
    return data[name]


def _only(flow: FlowRecord | None) -> list[FlowRecord]:
    return [] if flow is None else [flow]


# -- 1. Salesforce Opportunity -> cash ------------------------------------------------------
def _order_to_cash(ports: Ports, options: OrderToCashConfig) -> UseCaseBuild:
    name = "order_to_cash"
    usecase = OrderToCash(
        paytrace=ports.need_paytrace(name),
        fusion=ports.need_fusion(name),
        salesforce=ports.need_salesforce(name),
        config=options,
    )
    stage = options.closed_won_stage

    def submit(engine: Engine, row: Mapping[str, Any]) -> FlowRecord | None:
        return usecase.submit_opportunity(engine, row)

    salesforce = ports.need_salesforce(name)
    sources: list[Source] = []
    if "opportunity" in options.triggers:
        fields = _order_to_cash_fields(options)
        handler = ClosedWonOpportunities(
            usecase, salesforce, soql=_selecting(OPPORTUNITY_BY_ID_SOQL, fields)
        )
        poll = SoqlSource(
            "salesforce-opportunities",
            salesforce,
            _selecting(_OPPORTUNITY_SOQL, fields),
            submit,
            clock=ports.clock,
            soql_args=lambda since: (stage, since),
        )
        sources.append(_event_or_poll(ports, OPPORTUNITY_TOPIC, handler, poll))
    if "order" in options.triggers:
        sources.extend(_order_sources(ports, usecase, salesforce))

    def submit_json(engine: Engine, data: Mapping[str, Any]) -> list[FlowRecord]:
        if "TotalAmount" in data:  # a Salesforce Order (an Opportunity has Amount)
            return _only(usecase.submit_order(engine, data))
        return _only(usecase.submit_opportunity(engine, data))

    return UseCaseBuild(
        definitions=(usecase.definition(),),
        sources=tuple(sources),
        submit_json=submit_json,
        instance=usecase,
    )


def _order_sources(ports: Ports, usecase: OrderToCash, salesforce: SalesforcePort) -> list[Source]:
    """Created Orders: the CDC topic and the platform event when configured as channels,
    else SOQL polling by ``CreatedDate`` (every source submits the flow keyed by Order id)."""
    found: list[Source] = []
    if ports.events is not None:
        handler = OrderCreated(
            usecase,
            salesforce,
            soql=_selecting(ORDER_BY_ID_SOQL, _order_to_cash_fields(usecase.config)),
        )
        for topic in (ORDER_TOPIC, ORDER_EVENT_CHANNEL):
            source = ports.events.source(topic, handler, ports.store)
            if source is not None:
                found.append(source)
    if found:
        return found

    def submit(engine: Engine, row: Mapping[str, Any]) -> FlowRecord | None:
        return usecase.submit_order(engine, row)

    return [
        SoqlSource(
            "salesforce-orders",
            salesforce,
            _selecting(_ORDER_SOQL, _order_to_cash_fields(usecase.config)),
            submit,
            clock=ports.clock,
            cursor_field="CreatedDate",
        )
    ]


ORDER_TO_CASH = register(
    UseCase(
        1,
        "order_to_cash",
        "Salesforce Opportunity Closed Won to cash",
        ("salesforce", "paytrace", "fusion"),
        OrderToCashConfig,
        _order_to_cash,
        input_hint=(
            "an Opportunity record: Id, Name, StageName, CloseDate, Amount, AccountId; or an "
            "Order record: Id, AccountId, OpportunityId, EffectiveDate, TotalAmount"
        ),
        flows=(USE_CASE,),
    )
)


# -- 2. eCommerce order to cash -------------------------------------------------------------
def _ecommerce(ports: Ports, options: EcommerceConfig) -> UseCaseBuild:
    name = "ecommerce"
    usecase = EcommerceOrderToCash(
        fusion=ports.need_fusion(name), salesforce=ports.need_salesforce(name), config=options
    )
    ports.need_paytrace(name)

    def submit(engine: Engine, data: Mapping[str, Any]) -> Sequence[FlowRecord]:
        record = ExportedTransaction.model_validate(dict(data))
        return _only(usecase.submit_sale(engine, record, checkpoint=None))

    return UseCaseBuild(
        definitions=(usecase.definition(),),
        activity_handlers=(usecase.submit_sale,),
        submit_json=submit,
        instance=usecase,
    )


ECOMMERCE = register(
    UseCase(
        2,
        "ecommerce",
        "eCommerce order to cash (PayTrace web sale -> Fusion Order Hub -> cash)",
        ("paytrace", "fusion", "salesforce"),
        EcommerceConfig,
        _ecommerce,
        input_hint="a PayTrace export record (transactions/export) of a WEB- sale",
        flows=(ECOMMERCE_USE_CASE,),
    )
)


# -- 3. refunds and voids -------------------------------------------------------------------
def _refunds(ports: Ports, options: RefundsConfig) -> UseCaseBuild:
    name = "refunds"
    usecase = Refunds(
        paytrace=ports.need_paytrace(name),
        fusion=ports.need_fusion(name),
        salesforce=ports.need_salesforce(name),
        config=options,
        clock=ports.clock,
    )

    def submit(engine: Engine, data: Mapping[str, Any]) -> Sequence[FlowRecord]:
        payment = _field(data, "payment", "the Payment__c record")
        if not isinstance(payment, Mapping):
            raise ValueError("input: payment must be an object (the Payment__c record)")
        flow = usecase.submit_request(
            engine,
            dict(payment),  # pyright: ignore[reportUnknownArgumentType]
            request_id=str(_field(data, "request_id", "the refund request's id")),
            amount=Decimal(str(_field(data, "amount", "the amount to refund"))),
        )
        return [flow]

    sources: tuple[Source, ...] = ()
    requests = options.salesforce_requests
    if requests is not None:
        fields = options.payment_fields
        names = ["Id", fields.external_id, fields.account, fields.transaction_id]
        names += [requests.amount, requests.request_id, "LastModifiedDate"]
        # names come from the validated options; the date is quoted by the bridge
        soql = (
            f"SELECT {', '.join(dict.fromkeys(n for n in names if n))} "  # noqa: S608
            f"FROM {fields.sobject} WHERE {requests.amount} > 0 "
            "AND LastModifiedDate >= {} ORDER BY LastModifiedDate LIMIT 2000"
        )

        def from_payment(engine: Engine, row: Mapping[str, Any]) -> FlowRecord | None:
            asked = str((requests.request_id and row.get(requests.request_id)) or row["Id"])
            amount = Decimal(str(row[requests.amount]))
            return usecase.submit_request(engine, row, request_id=asked, amount=amount)

        sources = (
            SoqlSource(
                "salesforce-refund-requests",
                ports.need_salesforce(name),
                soql,
                from_payment,
                clock=ports.clock,
            ),
        )
    if options.detect_voids:
        # voids turn the sale's record Voided (no new transaction): a poller of their own
        voids = PayTraceVoidPoller(
            ports.need_paytrace(name),
            (usecase.submit_observed_void,),
            lookback=options.void_lookback,
            clock=ports.clock,
        )
        sources = (*sources, CallSource("paytrace-voids", voids.poll_flows))
    return UseCaseBuild(
        definitions=(usecase.definition(),),
        sources=sources,
        activity_handlers=(usecase.submit_observed,),
        submit_json=submit,
        instance=usecase,
    )


REFUNDS = register(
    UseCase(
        3,
        "refunds",
        "Refunds and voids (PayTrace -> Fusion credit memo / receipt reversal -> Salesforce)",
        ("paytrace", "fusion", "salesforce"),
        RefundsConfig,
        _refunds,
        input_hint='{"payment": <Payment__c record>, "request_id": "...", "amount": "10.00"}',
        flows=(REFUNDS_USE_CASE,),
    )
)


# -- 4. declines and chargebacks ------------------------------------------------------------
def _declines(ports: Ports, options: DeclinesChargebacksConfig) -> UseCaseBuild:
    name = "declines_chargebacks"
    paytrace = ports.need_paytrace(name)
    usecase = DeclinesChargebacks(
        paytrace=paytrace,
        fusion=ports.need_fusion(name),
        salesforce=ports.need_salesforce(name),
        xref=CustomerXrefTable(ports.store),
        config=options,
    )

    def today() -> date:
        return ports.clock().astimezone(paytrace.export_timezone).date()

    def submit(engine: Engine, data: Mapping[str, Any]) -> Sequence[FlowRecord]:
        if "dispute_file" in data:
            return usecase.import_dispute_file(engine, str(data["dispute_file"]))
        record = ExportedTransaction.model_validate(dict(_field(data, "declined", "an export")))
        return [usecase.submit_decline(engine, record)]

    return UseCaseBuild(
        definitions=tuple(usecase.definitions()),
        sources=(WindowSource("paytrace-declines", usecase.import_declines, today),),
        submit_json=submit,
        instance=usecase,
    )


DECLINES_CHARGEBACKS = register(
    UseCase(
        4,
        "declines_chargebacks",
        "Declines and chargebacks (PayTrace -> Salesforce Task / Case, Fusion credit memo)",
        ("paytrace", "salesforce", "fusion"),
        DeclinesChargebacksConfig,
        _declines,
        input_hint='{"declined": <export record>} or {"dispute_file": "<CSV text>"}',
        flows=(DECLINES_USE_CASE, CHARGEBACKS_USE_CASE),
    )
)


# -- 5. customer and vault sync -------------------------------------------------------------
_ACCOUNT_SOQL = (
    "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
    "BillingPostalCode, BillingCountry, Phone, LastModifiedDate FROM Account "
    "WHERE LastModifiedDate >= {} ORDER BY LastModifiedDate LIMIT 2000"
)
_ACCOUNT_BY_ID_SOQL = (
    "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
    "BillingPostalCode, BillingCountry, Phone FROM Account WHERE Id = {}"
)
_CHANGED_CONTACTS_SOQL = (
    "SELECT Id, AccountId, LastModifiedDate FROM Contact WHERE LastModifiedDate >= {} "
    "ORDER BY LastModifiedDate LIMIT 2000"
)
#: Contacts deleted since (``queryAll``: the recycle bin, ``SystemModstamp`` = deletion time)
_DELETED_CONTACTS_SOQL = (
    "SELECT Id, AccountId, SystemModstamp FROM Contact WHERE IsDeleted = true "
    "AND SystemModstamp >= {} ORDER BY SystemModstamp LIMIT 2000"
)
#: AccountContactRole rows deleted since (queryAll: the recycle bin)
_DELETED_ROLES_SOQL = (
    "SELECT Id, AccountId, SystemModstamp FROM AccountContactRole WHERE IsDeleted = true "
    "AND SystemModstamp >= {} ORDER BY SystemModstamp LIMIT 2000"
)
#: AccountContactRole rows changed since (use case 5's billing contact by role)
_CHANGED_ROLES_SOQL = (
    "SELECT Id, AccountId, LastModifiedDate FROM AccountContactRole "
    "WHERE LastModifiedDate >= {} ORDER BY LastModifiedDate LIMIT 2000"
)


class FusionPartyChanges:
    """Use case 5's handler of the CRM ``accounts`` polled by ``LastUpdateDate`` (a party
    renamed, or its site's address moved, in Fusion): each Receivables customer account of the
    party (``receivablesCustomerAccountActivities`` by ``CustomerId``) goes through
    :meth:`CustomerSync.submit_fusion_account_number`. Its synced state recognises paysync's
    own SOAP writes (same content: the flow that made them, nothing new); a party without a
    customer account is not this use case's business (``None``)."""

    def __init__(self, usecase: CustomerSync, crm: CrmAccounts) -> None:
        self.usecase = usecase
        self.crm = crm

    def resource(self) -> FusionResource:
        return FusionResource(
            "accounts",
            "PartyNumber",
            (self,),
            fields=("PartyId", "PartyNumber", "OrganizationName"),
            api=CRM_API,
        )

    def __call__(
        self, engine: Engine, change: FusionChange, /, *, checkpoint: SubmitHook | None
    ) -> FlowRecord | None:
        party_id = change.record.get("PartyId")
        if party_id in (None, ""):
            return None
        numbers = self.crm.account_numbers(int(str(party_id)))
        found: FlowRecord | None = None
        for index, number in enumerate(numbers):
            # the cursor moves with the last account's submission; the earlier ones are
            # idempotent (their synced state), so a crash in between repeats nothing
            last = index == len(numbers) - 1
            flow = self.usecase.submit_fusion_account_number(
                engine, number, checkpoint=checkpoint if last else None
            )
            if flow is not None:
                found = flow
            elif last and found is not None and checkpoint is not None:
                with engine.store.transaction() as tx:  # the last one adopted: move anyway
                    checkpoint(tx, found)
        return found


def _customer_sync(ports: Ports, options: CustomerSyncConfig) -> UseCaseBuild:
    name = "customer_sync"
    salesforce = ports.need_salesforce(name)
    usecase = CustomerSync(
        paytrace=ports.need_paytrace(name),
        fusion=ports.need_fusion(name),
        salesforce=salesforce,
        xref=CustomerXrefTable(ports.store),
        config=options,
    )

    def from_account(engine: Engine, account: Mapping[str, Any]) -> FlowRecord | None:
        contact = usecase.billing_contact(str(account.get("Id") or ""))
        # Polling sees paysync's own write-back as a change of LastModifiedDate: the version
        # is then the synced content only, so a write-back starts no new flow.
        synced = {k: v for k, v in account.items() if k not in ("LastModifiedDate", "attributes")}
        return usecase.submit_account(engine, synced, contact)

    def from_contact(engine: Engine, contact: Mapping[str, Any]) -> FlowRecord | None:
        # a Contact changed: its Account is synced again with its billing contact (the same
        # content as before, e.g. paysync's own e-mail write-back, returns the flow that
        # synced it: no new flow)
        flows = usecase.submit_contact_accounts(
            engine, [str(contact.get("AccountId") or "")], account_soql=_ACCOUNT_BY_ID_SOQL
        )
        return flows[-1] if flows else None

    def submit(engine: Engine, data: Mapping[str, Any]) -> Sequence[FlowRecord]:
        account = _field(data, "account", "the Account record")
        contact = data.get("contact")
        return [
            usecase.submit_account(
                engine,
                dict(account),
                dict(contact) if isinstance(contact, Mapping) else None,  # pyright: ignore[reportUnknownArgumentType]
            )
        ]

    # the same fields as the polled rows without LastModifiedDate: both transports give an
    # Account the same flow version, so switching transports starts no new flow
    source = _event_or_poll(
        ports,
        ACCOUNT_TOPIC,
        CustomerAccounts(usecase, salesforce, account_soql=_ACCOUNT_BY_ID_SOQL),
        SoqlSource(
            "salesforce-accounts", salesforce, _ACCOUNT_SOQL, from_account, clock=ports.clock
        ),
    )
    # Contact-only changes (an e-mail edited, the billing flag moved) re-sync the Account:
    # the ContactChangeEvent topic when it is a configured channel, else Contacts polled by
    # LastModifiedDate
    contacts = _event_or_poll(
        ports,
        CONTACT_TOPIC,
        BillingContacts(usecase, salesforce, account_soql=_ACCOUNT_BY_ID_SOQL),
        SoqlSource(
            "salesforce-contacts",
            salesforce,
            _CHANGED_CONTACTS_SOQL,
            from_contact,
            clock=ports.clock,
        ),
    )
    extra: list[Source] = []
    if isinstance(contacts, SoqlSource):
        # deletes never show in a LastModifiedDate poll: Contacts in the recycle bin
        # (queryAll) re-sync their Account with its next billing contact
        extra.append(
            SoqlSource(
                "salesforce-contact-deletes",
                QueryAllPort(salesforce.bridge),
                _DELETED_CONTACTS_SOQL,
                from_contact,
                clock=ports.clock,
                cursor_field="SystemModstamp",
            )
        )
    if options.billing_contact.role is not None:
        # a contact role added or changed can make another Contact the billing contact
        extra.append(
            SoqlSource(
                "salesforce-contact-roles",
                salesforce,
                _CHANGED_ROLES_SOQL,
                from_contact,
                clock=ports.clock,
            )
        )
        # a role removed (recycle bin, queryAll): the next holder, or the oldest Contact
        extra.append(
            SoqlSource(
                "salesforce-contact-role-deletes",
                QueryAllPort(salesforce.bridge),
                _DELETED_ROLES_SOQL,
                from_contact,
                clock=ports.clock,
                cursor_field="SystemModstamp",
            )
        )
    # vault profiles changed in PayTrace (customer/export has no timestamp: a digest each)
    profiles = PayTraceProfilePoller(usecase.paytrace, usecase.submit_paytrace_profile)
    # customers renamed or moved in Fusion: the CRM accounts, on the shared Fusion poller
    parties = FusionPartyChanges(usecase, CrmAccounts.from_client(usecase.fusion.client))
    return UseCaseBuild(
        definitions=usecase.definitions(),
        sources=(source, contacts, *extra, profiles),
        fusion_resources=(parties.resource(),),
        submit_json=submit,
        instance=usecase,
    )


CUSTOMER_SYNC = register(
    UseCase(
        5,
        "customer_sync",
        "Customer and vault sync (Salesforce Account <-> PayTrace vault <-> Fusion account)",
        ("salesforce", "paytrace", "fusion"),
        CustomerSyncConfig,
        _customer_sync,
        input_hint='{"account": <Account record>, "contact": <Contact record or null>}',
        flows=(
            CUSTOMER_SYNC_USE_CASE,
            CUSTOMER_SYNC_FUSION_USE_CASE,
            CUSTOMER_SYNC_PAYTRACE_USE_CASE,
        ),
    )
)


# -- 6. settlement batch -> GL journal -----------------------------------------------------
def _settlement(ports: Ports, options: SettlementToGlConfig) -> UseCaseBuild:
    name = "settlement_gl"
    paytrace = ports.need_paytrace(name)
    usecase = SettlementToGl(
        paytrace=paytrace, fusion=ports.need_fusion(name), config=options, sleep=ports.sleep
    )

    def today() -> date:
        return ports.clock().astimezone(paytrace.export_timezone).date()

    def submit(engine: Engine, data: Mapping[str, Any]) -> Sequence[FlowRecord]:
        number = _field(data, "batch_number", "the PayTrace settlement batch number")
        return _only(usecase.submit_batch(engine, int(number)))

    return UseCaseBuild(
        definitions=(usecase.definition(),),
        sources=(WindowSource("paytrace-settlements", usecase.submit_settled, today),),
        submit_json=submit,
        instance=usecase,
    )


SETTLEMENT_GL = register(
    UseCase(
        6,
        "settlement_gl",
        "PayTrace settlement batch to a GL journal (FBDI Journal Import)",
        ("paytrace", "fusion"),
        SettlementToGlConfig,
        _settlement,
        input_hint='{"batch_number": 123} (read from PayTrace; nothing is written)',
        flows=(SETTLEMENT_USE_CASE,),
    )
)


# -- 7. recurring billing and dunning -------------------------------------------------------
def _recurring(ports: Ports, options: RecurringBillingConfig) -> UseCaseBuild:
    name = "recurring_billing"
    usecase = RecurringBilling(
        paytrace=ports.need_paytrace(name),
        salesforce=ports.need_salesforce(name),
        config=options,
        clock=ports.clock,
    )

    def submit(engine: Engine, data: Mapping[str, Any]) -> Sequence[FlowRecord]:
        row = _field(data, "subscription", "the Subscription__c record")
        subscription = subscription_from_salesforce(dict(row), options.fields).value
        day = data.get("today")
        today = date.fromisoformat(str(day)) if day else usecase.today()
        return _only(usecase.submit(engine, subscription, today, raw=dict(row)))

    return UseCaseBuild(
        definitions=(usecase.definition(),),
        sources=(CallSource("salesforce-subscriptions", usecase.submit_due),),
        submit_json=submit,
        instance=usecase,
    )


RECURRING_BILLING = register(
    UseCase(
        7,
        "recurring_billing",
        "Recurring billing and dunning (Salesforce Subscription__c -> PayTrace -> Payment__c)",
        ("salesforce", "paytrace"),
        RecurringBillingConfig,
        _recurring,
        input_hint='{"subscription": <Subscription__c record>, "today": "2026-03-01"}',
        flows=(RECURRING_USE_CASE,),
    )
)


# -- 8. Fusion receivables state -> Salesforce ----------------------------------------------
def _fusion_payment_status(ports: Ports, options: FusionPaymentStatusConfig) -> UseCaseBuild:
    name = "fusion_payment_status"
    usecase = FusionPaymentStatus(
        salesforce=ports.need_salesforce(name), fusion=ports.need_fusion(name), config=options
    )

    def submit(engine: Engine, data: Mapping[str, Any]) -> Sequence[FlowRecord]:
        resource = str(_field(data, "resource", "standardReceipts or receivablesInvoices"))
        record = _field(data, "record", "the Fusion record as the REST API returns it")
        if not isinstance(record, Mapping):
            raise ValueError("input: record must be an object (the Fusion record)")
        found = {r.name: r for r in usecase.resources()}.get(resource)
        if found is None:
            raise ValueError(f"input: resource {resource!r} is not polled by fusion_payment_status")
        row: Mapping[str, Any] = record  # pyright: ignore[reportUnknownVariableType]
        change = fusion_change(resource, found.key, row)
        return _only(found.handlers[0](engine, change, checkpoint=None))

    return UseCaseBuild(
        definitions=(usecase.definition(),),
        fusion_resources=tuple(usecase.resources()),
        submit_json=submit,
        instance=usecase,
    )


FUSION_PAYMENT_STATUS = register(
    UseCase(
        8,
        "fusion_payment_status",
        "Fusion receipt reversals and paid invoices -> Salesforce Payment__c (Fusion polling)",
        ("fusion", "salesforce"),
        FusionPaymentStatusConfig,
        _fusion_payment_status,
        input_hint='{"resource": "standardReceipts", "record": <Fusion receipt with '
        "LastUpdateDate>}",
        flows=(FUSION_PAYMENT_STATUS_USE_CASE,),
    )
)
