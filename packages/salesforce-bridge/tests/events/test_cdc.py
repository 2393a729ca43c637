"""CDC header parsing, bitmap decoding (reference examples + round trips), echo suppression."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesforce_bridge.events import (
    CdcDecodeError,
    ChangeEventHeader,
    SchemaField,
    change_origin_client,
    decode_field_bitmaps,
    encode_field_bitmaps,
    is_echo,
    schema_fields,
)

ADDRESS = {
    "type": "record",
    "name": "Address",
    "fields": [
        {"name": n, "type": ["null", "string"]}
        for n in ("Street", "City", "State", "PostalCode", "Country")
    ],
}


def account_schema() -> dict[str, Any]:
    """32 top-level fields; 4 (BillingAddress) and 7 (ShippingAddress) are compound."""
    names = [f"F{i}" for i in range(32)]
    fields: list[dict[str, Any]] = [{"name": n, "type": ["null", "string"]} for n in names]
    fields[4] = {"name": "BillingAddress", "type": ["null", ADDRESS], "default": None}
    fields[7] = {"name": "ShippingAddress", "type": ["null", "string", ADDRESS]}
    fields[5] = {"name": "LastModifiedDate", "type": ["null", "long"]}
    return {"type": "record", "name": "AccountChangeEvent", "fields": fields}


def test_reference_bitmap_example_decodes_top_level_and_compound_elements() -> None:
    schema = account_schema()
    names = decode_field_bitmaps(["0x650004E0", "4-0x10", "7-0x06"], schema)
    # 0x650004E0 sets bits 5, 6, 7, 10, 24, 26, 29, 30 (least-significant bit first)
    top = ["LastModifiedDate", "F6", "ShippingAddress", "F10", "F24", "F26", "F29", "F30"]
    assert names == (
        *top,
        "BillingAddress.Country",
        "ShippingAddress.City",
        "ShippingAddress.State",
    )


def test_pozil_update_example_names() -> None:
    schema = account_schema()
    encoded = encode_field_bitmaps(
        ["LastModifiedDate", "BillingAddress.City", "BillingAddress.State"], schema
    )
    assert encoded == ["0x20", "4-0x06"]
    assert decode_field_bitmaps(encoded, schema) == (
        "LastModifiedDate",
        "BillingAddress.City",
        "BillingAddress.State",
    )


def test_names_pass_through_and_bitmaps_need_a_schema() -> None:
    assert decode_field_bitmaps(["Name", "BillingAddress.City"], None) == (
        "Name",
        "BillingAddress.City",
    )
    with pytest.raises(CdcDecodeError, match="schema"):
        decode_field_bitmaps(["0x01"], None)


@pytest.mark.parametrize(
    ("bitmap", "message"),
    [("0x100000000", "past the schema"), ("0-0x01", "not a compound"), ("4-0x20", "past")],
)
def test_bitmaps_that_do_not_fit_the_schema_raise(bitmap: str, message: str) -> None:
    with pytest.raises(CdcDecodeError, match=message):
        decode_field_bitmaps([bitmap], account_schema())


def test_schema_fields_unwraps_unions() -> None:
    fields = schema_fields(account_schema())
    assert fields[4] == SchemaField(
        "BillingAddress", ("Street", "City", "State", "PostalCode", "Country")
    )
    assert fields[7].children == fields[4].children
    assert fields[0] == SchemaField("F0")


PUBSUB_CREATE = json.loads(
    '{"entityName":"Account","recordIds":["0015f00002J9YYEAA3"],"changeType":"CREATE",'
    '"changeOrigin":"com/salesforce/api/soap/60.0;client=SfdcInternalAPI/",'
    '"transactionKey":"0001ade9-3f74-0b99-dbc4-42e73424b774","sequenceNumber":1,'
    '"commitTimestamp":1712693965000,"commitNumber":1082985383811,'
    '"commitUser":"0055f000005mc66AAA","nulledFields":[],"diffFields":[],"changedFields":[]}'
)
COMETD_CREATE = json.loads(
    '{"entityName":"Account","recordIds":["<record_ID>"],"changeType":"CREATE",'
    '"changeOrigin":"com.salesforce.core","transactionKey":"001b7375-0086-250e-e6ca-b99bc3a8b69f",'
    '"sequenceNumber":1,"isTransactionEnd":true,"commitTimestamp":1501010206653,'
    '"commitNumber":92847272780,"commitUser":"<User_ID>"}'
)


def test_header_from_reference_pubsub_fixture() -> None:
    header = ChangeEventHeader.from_wire(PUBSUB_CREATE, account_schema())
    assert header.entity_name == "Account"
    assert header.record_ids == ("0015f00002J9YYEAA3",)
    assert header.change_type == "CREATE"
    assert header.sequence_number == 1
    assert header.commit_number == 1082985383811
    assert header.commit_user == "0055f000005mc66AAA"
    assert header.changed_fields == header.nulled_fields == header.diff_fields == ()
    assert header.committed_at == datetime(2024, 4, 9, 20, 19, 25, tzinfo=timezone.utc)
    assert not header.is_gap
    assert change_origin_client(header.change_origin) == "SfdcInternalAPI"


def test_header_from_reference_cometd_fixture_keeps_extra_fields() -> None:
    header = ChangeEventHeader.from_wire(COMETD_CREATE)
    assert header.transaction_key == "001b7375-0086-250e-e6ca-b99bc3a8b69f"
    assert header.model_extra == {"isTransactionEnd": True}
    assert header.committed_at.tzinfo is timezone.utc
    assert change_origin_client(header.change_origin) is None


def test_header_decodes_bitmaps_from_pubsub() -> None:
    raw = {**PUBSUB_CREATE, "changeType": "UPDATE", "changedFields": ["0x20", "4-0x06"]}
    raw["nulledFields"] = ["0x40"]
    header = ChangeEventHeader.from_wire(raw, account_schema())
    assert header.changed_fields == (
        "LastModifiedDate",
        "BillingAddress.City",
        "BillingAddress.State",
    )
    assert header.nulled_fields == ("F6",)


def test_echo_suppression_matches_only_our_client() -> None:
    ours = ChangeEventHeader.from_wire(
        {**PUBSUB_CREATE, "changeOrigin": "com/salesforce/api/rest/66.0;client=SalesforceListener"}
    )
    assert is_echo(ours, "SalesforceListener")
    assert not is_echo(ours, "Salesforce")
    assert not is_echo(ChangeEventHeader.from_wire(PUBSUB_CREATE), "SalesforceListener")
    assert not is_echo(ChangeEventHeader.from_wire(COMETD_CREATE), "SalesforceListener")


@st.composite
def schema_and_names(draw: st.DrawFn) -> tuple[list[SchemaField], list[str]]:
    count = draw(st.integers(min_value=1, max_value=70))
    fields: list[SchemaField] = []
    for i in range(count):
        children = draw(st.integers(min_value=0, max_value=12))
        fields.append(SchemaField(f"F{i}", tuple(f"C{j}" for j in range(children))))
    all_names = [f.name for f in fields] + [
        f"{f.name}.{child}" for f in fields for child in f.children
    ]
    chosen = draw(st.sets(st.sampled_from(all_names)))
    return fields, sorted(chosen)


@given(schema_and_names())
def test_encode_decode_round_trip(case: tuple[list[SchemaField], list[str]]) -> None:
    fields, names = case
    encoded = encode_field_bitmaps(names, fields)
    assert all(len(e.partition("0x")[2]) % 2 == 0 for e in encoded)
    decoded = decode_field_bitmaps(encoded, fields)
    assert sorted(decoded) == names
    assert len(decoded) == len(set(decoded))
    assert encode_field_bitmaps(decoded, fields) == encoded
