"""Errors and the words every message uses: where (stream, partition) and why, never a URL."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from urllib3.exceptions import NameResolutionError, NewConnectionError


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


def unreachable_cause(exc: BaseException) -> str | None:
    """Why a request never reached a server ("unknown host", "connection refused"), or
    None when a server was reached (it may still have failed or been slow)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, NameResolutionError):
        return "unknown host"
    if isinstance(reason, NewConnectionError):
        return "connection refused or no route to it"
    return None


def retry_advice(exc: BaseException, request_timeout: float) -> str:
    """What to change after retries ran out, by the cause of the last failure."""
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in describe_exception(exc):
        return (
            f"Every attempt timed out ('request_timeout' is {request_timeout:g} s): raise "
            "'request_timeout' if the API is slow, or check 'base_url' if it never answers."
        )
    return "Raise 'max_retries' if the API is busy or failing for a while."


class UnreachableError(FatalAPIError):
    """The API's host could not be reached at all: a setting to fix, not a fault to retry."""

    @classmethod
    def of(cls, where: str, url: str, cause: str, base_url: str) -> UnreachableError:
        """``stream 'campaigns' cast_id=1: cannot connect to cast.app:443 (unknown host)``"""
        parts = urlsplit(url)
        host = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        return cls(
            f"{where}: cannot connect to {host} ({cause}). Check the 'base_url' setting "
            f"('{base_url}'): scheme, host and port must reach the API from this machine. "
            "Nothing was retried: retries are for a server that has answered."
        )


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
