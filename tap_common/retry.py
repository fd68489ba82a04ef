"""Retry timing shared by the taps: exponential backoff that honours Retry-After."""

from __future__ import annotations

import email.utils
import random
import time
import typing as t

import requests


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (Retry-After), or None when it did not say.

    Accepts both forms allowed by RFC 9110: delay-seconds and an HTTP date.
    """
    response = getattr(exc, "response", None)
    if not isinstance(response, requests.Response):
        return None
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_wait_generator(
    *,
    base_seconds: float,
    max_wait_seconds: float,
) -> t.Generator[float, BaseException | None, None]:
    """Backoff wait generator for ``backoff.on_exception``.

    The backoff library sends the raised exception into the generator before each wait.
    A Retry-After header wins; otherwise the wait doubles from ``base_seconds``. Every
    wait is capped at ``max_wait_seconds`` so a retry limit is also a time limit.
    """
    attempt = 0
    exc = yield  # type: ignore[misc]  # primed by backoff with None
    while True:
        asked = retry_after_seconds(exc)
        wait = asked if asked is not None else base_seconds * (2**attempt)
        attempt += 1
        exc = yield min(wait, max_wait_seconds)


def small_jitter(value: float) -> float:
    """Add up to 10% so parallel clients do not retry in lockstep; never wait less."""
    return value + random.random() * 0.1 * value
