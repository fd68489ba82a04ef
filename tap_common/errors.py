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
