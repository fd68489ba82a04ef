"""Records that match their SCHEMA whatever the vendor sends, or a clear stop.

The policy, per declared type (docs/reliability.md, "Hostile or broken payloads"):

- text: a number or boolean is written as its text ("12", "true"), an object or list as
  JSON; text itself is kept as sent (see ``clean_text`` for what the writer does
  with characters no JSON line or warehouse can hold).
- integer: a whole number sent as text ("12", " 12 ") or as 12.0 becomes 12; anything else
  stops, naming the field.
- number: a number sent as text becomes an exact decimal; text that is no number, NaN and
  infinities stop.
- boolean: true/false, also as text in any case; anything else stops.
- object and array: a value of another shape stops; declared members and items follow the
  same rules, undeclared ones are kept as sent.
- a required column with no value stops.

A stop fails the row's partition (``VendorStream.map_row``); the run reads the others.
"""

from __future__ import annotations

import decimal
import json
import re
import typing as t

from tap_common.errors import VendorDataError

Check = t.Callable[[t.Any, str], t.Any]
_JSON = json.JSONEncoder(default=str)  # json.dumps(..., default=str), built once
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_SURROGATES = re.compile("[\ud800-\udfff]")


def text_value(value: t.Any) -> str:
    """A non-text value in a text column: 12345 -> "12345", objects as JSON."""
    if isinstance(value, dict | list):
        return _JSON.encode(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def clean_text(value: t.Any) -> t.Any:
    """``value`` with every string made writable: an unpaired surrogate becomes U+FFFD and
    NUL (U+0000) is dropped (no JSON encoder writes the first, PostgreSQL text cannot hold
    the second). Other control characters are kept; JSON escapes them."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value).replace("\x00", "")
    if isinstance(value, dict):
        return {clean_text(key): clean_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_text(item) for item in value]
    return value


def _not(kind: str, value: t.Any, field: str) -> VendorDataError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return VendorDataError(f"field '{field}' holds {shown}, not {kind}")


def _as_text(value: t.Any, field: str) -> t.Any:
    return value if type(value) is str else text_value(value)


def _as_integer(value: t.Any, field: str) -> int:
    if type(value) is int:
        return value
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    if isinstance(value, float | decimal.Decimal) and _whole(value):
        return int(value)
    raise _not("an integer", value, field)


def _whole(value: float | decimal.Decimal) -> bool:
    return decimal.Decimal(value).is_finite() and value == int(value)


def _as_number(value: t.Any, field: str) -> t.Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float | decimal.Decimal | str):
        try:
            number = decimal.Decimal(value.strip() if isinstance(value, str) else value)
        except (decimal.InvalidOperation, ValueError):
            raise _not("a number", value, field) from None
        if number.is_finite():
            return number if isinstance(value, str) else value
    raise _not("a finite number", value, field)


def _as_boolean(value: t.Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _not("a boolean", value, field)


def compile_check(schema: dict) -> Check | None:
    """The check for values of ``schema`` (None: any value matches, nothing to do)."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    nullable = "null" in types or not types
    check = _scalar_check(types) or _nested_check(schema, types)
    if check is None:
        return None if nullable else _required(lambda value, field: value)
    return _or_null(check) if nullable else _required(check)


def _scalar_check(types: list[str]) -> Check | None:
    for kind, check in (
        ("string", _as_text),
        ("integer", _as_integer),
        ("number", _as_number),
        ("boolean", _as_boolean),
    ):
        if kind in types:
            return check
    return None


def _nested_check(schema: dict, types: list[str]) -> Check | None:
    """Objects and lists: the shape always, declared members and items by their rules."""
    if "object" in types:
        members = {
            name: check
            for name, spec in (schema.get("properties") or {}).items()
            if (check := compile_check(spec)) is not None
        }
        return _object_check(members, set(schema.get("required", [])))
    if "array" in types:
        items = schema.get("items")
        return _array_check(compile_check(items) if isinstance(items, dict) else None)
    return None


def _or_null(check: Check) -> Check:
    return lambda value, field: None if value is None else check(value, field)


def _required(check: Check) -> Check:
    def required(value: t.Any, field: str) -> t.Any:
        if value is None:
            raise VendorDataError(f"field '{field}' has no value, and the schema requires one")
        return check(value, field)

    return required


def _object_check(members: dict[str, Check], required: set[str]) -> Check:
    def check_object(value: t.Any, field: str) -> dict:
        if not isinstance(value, dict):
            raise _not("an object", value, field)
        return conform_members(value, members, required, prefix=f"{field}.")

    return check_object


def _array_check(item_check: Check | None) -> Check:
    def check_array(value: t.Any, field: str) -> list:
        if not isinstance(value, list):
            raise _not("a list", value, field)
        if item_check is None:
            return value
        return [item_check(item, f"{field}[{index}]") for index, item in enumerate(value)]

    return check_array


def conform_members(
    record: dict, members: dict[str, Check], required: set[str], *, prefix: str = ""
) -> dict:
    """``record`` with each member checked (and converted where the policy says so)."""
    for name, check in members.items():
        value = record.get(name)
        if value is None and name not in required:
            continue
        converted = check(value, prefix + name)
        if converted is not value:
            record[name] = converted
    return record


class RecordConformer:
    """The checks of one stream's schema, compiled once."""

    def __init__(self, schema: dict) -> None:
        self.members = {
            name: check
            for name, spec in schema.get("properties", {}).items()
            if (check := compile_check(spec)) is not None
        }
        self.required = set(schema.get("required", []))

    def __call__(self, record: dict) -> dict:
        return conform_members(record, self.members, self.required)
