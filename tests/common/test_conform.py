"""tap_common.conform: each declared type's policy, value by value."""

from __future__ import annotations

import decimal

import pytest
from singer_sdk import typing as th

from tap_common.conform import RecordConformer, clean_text
from tap_common.errors import VendorDataError

SCHEMA = th.PropertiesList(
    th.Property("id", th.StringType(), required=True),
    th.Property("count", th.IntegerType()),
    th.Property("ratio", th.NumberType()),
    th.Property("flag", th.BooleanType()),
    th.Property("label", th.StringType()),
    th.Property("items", th.ArrayType(th.ObjectType(th.Property("votes", th.IntegerType())))),
    th.Property("free", th.ObjectType()),
    th.Property("json_list", th.CustomType({"type": ["array"]})),
).to_dict()
conform = RecordConformer(SCHEMA)


def test_values_of_the_declared_type_pass_unchanged():
    record = {"id": "a", "count": 3, "ratio": 0.5, "flag": True, "label": "x", "free": {"k": 1}}
    assert conform(dict(record)) == record


@pytest.mark.parametrize(
    ("field", "sent", "landed"),
    [
        ("count", " 12 ", 12),
        ("count", 12.0, 12),
        ("ratio", "1.25", decimal.Decimal("1.25")),
        ("flag", "TRUE", True),
        ("label", 12345, "12345"),
        ("label", False, "false"),
        ("label", {"a": [1]}, '{"a": [1]}'),
        ("id", 7, "7"),
    ],
)
def test_values_sent_as_another_type_are_coerced(field, sent, landed):
    assert conform({"id": "a", field: sent})[field] == landed


@pytest.mark.parametrize(
    ("field", "sent"),
    [("count", "n/a"), ("count", 1.5), ("count", True), ("ratio", "NaN"), ("flag", "yes")],
)
def test_values_that_cannot_be_the_declared_type_stop_naming_the_field(field, sent):
    with pytest.raises(VendorDataError, match=f"field '{field}' holds"):
        conform({"id": "a", field: sent})


def test_nested_members_follow_the_same_rules():
    assert conform({"id": "a", "items": [{"votes": "4"}]})["items"] == [{"votes": 4}]
    with pytest.raises(VendorDataError, match=r"field 'items\[0\]\.votes' holds 'many'"):
        conform({"id": "a", "items": [{"votes": "many"}]})
    with pytest.raises(VendorDataError, match="field 'items' holds"):
        conform({"id": "a", "items": "none"})


def test_a_required_column_without_a_value_stops():
    with pytest.raises(VendorDataError, match="field 'id' has no value"):
        conform({"id": None, "count": 1})


def test_text_the_writer_cannot_hold_is_cleaned():
    assert clean_text({"k\ud800": ["a\x00b\udfff", 1]}) == {"k\ufffd": ["ab\ufffd", 1]}
    assert clean_text("tab\tbell\x07") == "tab\tbell\x07"  # other control characters stay


def test_objects_and_lists_without_declared_members_still_have_their_shape():
    record = {"id": "a", "free": {"any": [1]}, "json_list": [{"k": 1}, "x"]}
    assert conform(dict(record)) == record
    with pytest.raises(VendorDataError, match="field 'json_list' holds"):
        conform({"id": "a", "json_list": {"k": 1}})
    with pytest.raises(VendorDataError, match="field 'free' holds"):
        conform({"id": "a", "free": [1]})
