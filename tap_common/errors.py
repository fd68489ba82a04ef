"""Errors and the words every message uses: where (stream, partition) and why, never a URL."""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError


class VendorDataError(FatalAPIError):
    """The vendor sent data this tap cannot map faithfully (wrong shape or type)."""


def partition_label(context: t.Mapping[str, t.Any] | None) -> str:
    """``cast_id=1940 generation_id=2024…`` for messages; contexts hold ids only."""
    if not context:
        return "(whole stream)"
    return " ".join(f"{key}={value}" for key, value in context.items())


def describe_exception(exc: BaseException) -> str:
    """A short cause without URLs: requests' messages embed the full URL and its query."""
    if isinstance(exc, RetriableAPIError | FatalAPIError):
        return str(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        return "the request timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection closed before the whole response arrived"
    if isinstance(exc, requests.exceptions.ConnectionError | ConnectionError):
        return "the connection failed or was reset"
    return type(exc).__name__


class IncompleteReadError(FatalAPIError):
    """What was read does not add up to what the vendor says it holds, even after reading
    the partition again: the run stops before a bookmark could pass the missing rows."""

    @classmethod
    def shortfall(
        cls,
        stream: str,
        context: t.Mapping[str, t.Any] | None,
        *,
        vendor: str,
        says: str,
        read: int,
        unit: str = "rows",
    ) -> IncompleteReadError:
        """``stream 'x' a=1: Rev says it holds 1230 sessions (totalSessions), 1030 were read``"""
        return cls(
            f"stream '{stream}' {partition_label(context)}: {vendor} says it holds {says}, "
            f"but {read} {unit} were read, also after reading it again. The run stops so "
            "that no bookmark passes the missing rows; run again later, and report it to "
            f"{vendor} if it persists."
        )
