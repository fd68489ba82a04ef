"""Schema building blocks shared by the taps: one name per kind of column."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

UNMAPPED_DESCRIPTION = "Fields the vendor sent that this tap does not map yet, kept verbatim."


def unmapped_fields_property(description: str = UNMAPPED_DESCRIPTION) -> th.Property:
    """The ``unmapped_fields`` column: vendor fields we do not map yet are kept, not lost."""
    return th.Property("unmapped_fields", th.ObjectType(), description=description)


def text_property(name: str, description: str | None = None, **kwargs: t.Any) -> th.Property:
    return th.Property(name, th.StringType(), description=description, **kwargs)


def integer_property(name: str, description: str | None = None) -> th.Property:
    return th.Property(name, th.IntegerType(), description=description)


def number_property(name: str, description: str | None = None) -> th.Property:
    return th.Property(name, th.NumberType(), description=description)


def boolean_property(name: str, description: str | None = None) -> th.Property:
    return th.Property(name, th.BooleanType(), description=description)


def datetime_property(name: str, description: str | None = None) -> th.Property:
    return th.Property(name, th.DateTimeType(), description=description)
