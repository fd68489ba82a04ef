"""Errors and the words every message uses: where (stream, partition) and why, never a URL."""

from __future__ import annotations

import re
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
    if (tls := tls_failure(exc)) is not None:
        return f"the TLS connection failed: {tls}"
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


# OpenSSL's reason, e.g. "certificate verify failed: self-signed certificate (_ssl.c:1006)".
_VERIFY_FAILED = re.compile(r"certificate verify failed: ([^()]*?)\.? \(_ssl")


def tls_failure(exc: BaseException) -> str | None:
    """What went wrong in a TLS handshake ("its certificate could not be verified:
    self-signed certificate"), or None when ``exc`` is no TLS failure. Only OpenSSL's
    reason is kept: the exception's text holds the URL and its query."""
    if not isinstance(exc, requests.exceptions.SSLError):
        return None
    text = str(exc)
    if match := _VERIFY_FAILED.search(text):
        return f"its certificate could not be verified ({match.group(1).strip()})"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return "its certificate could not be verified"
    return "the TLS handshake failed"


def retry_advice(exc: BaseException, request_timeout: float) -> str:
    """What to change after retries ran out, by the cause of the last failure."""
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in describe_exception(exc):
        return (
            f"Every attempt timed out ('request_timeout' is {request_timeout:g} s): raise "
            "'request_timeout' if the API is slow, or check 'base_url' if it never answers."
        )
    return "Raise 'max_retries' if the API is busy or failing for a while."


def host_and_port(url: str) -> str:
    """``cast.app:443``: where a connection to ``url`` goes, for error messages."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


class UnreachableError(FatalAPIError):
    """The API's host could not be reached at all: a setting to fix, not a fault to retry."""

    @classmethod
    def of(cls, where: str, url: str, cause: str, base_url: str) -> UnreachableError:
        """``stream 'campaigns' cast_id=1: cannot connect to cast.app:443 (unknown host)``"""
        host = host_and_port(url)
        return cls(
            f"{where}: cannot connect to {host} ({cause}). Check the 'base_url' setting "
            f"('{base_url}'): scheme, host and port must reach the API from this machine. "
            "Nothing was retried: retries are for a server that has answered."
        )


class CertificateError(FatalAPIError):
    """The API's TLS certificate could not be verified: a setting or a CA bundle to fix,
    never retried, and verification is never turned off."""

    @classmethod
    def of(cls, where: str, url: str, tls: str, base_url: str) -> CertificateError:
        """``stream 'campaigns' cast_id=1: the TLS connection to cast.app:443 failed: ...``"""
        host = host_and_port(url)
        return cls(
            f"{where}: the TLS connection to {host} failed: {tls}. It is a certificate "
            f"problem, so nothing was sent and nothing was retried. Check the 'base_url' "
            f"setting ('{base_url}'); if the API's certificate comes from your own "
            "certificate authority, set REQUESTS_CA_BUNDLE to a CA bundle file that "
            "holds it. Certificate checks are never turned off."
        )


def stop_before_retrying(
    exc: BaseException, *, answered: bool, where: str, url: str, base_url: str
) -> FatalAPIError | None:
    """The error that ends a request at once, without retries, or None to retry it: a
    TLS failure (any time), or a host never reached while nothing has answered yet."""
    tls = tls_failure(exc)
    if tls is not None:
        return CertificateError.of(where, url, tls, base_url)
    cause = unreachable_cause(exc)
    if cause is not None and not answered:
        return UnreachableError.of(where, url, cause, base_url)
    return None


class IncompleteReadError(FatalAPIError):
    """What was read does not add up to what the vendor says it holds, even after reading
    the partition again: the partition fails before its bookmark could pass the missing rows."""

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
            f"but {read} {unit} were read, also after reading it again. The partition stops "
            "so that no bookmark passes the missing rows; run again later, and report it to "
            f"{vendor} if it persists."
        )
