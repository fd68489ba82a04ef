"""Every wait of every tap: exponential backoff that honours Retry-After, capped.

The stream's requests (``VendorStream.backoff_wait_generator``), the logins and Rev's
session extensions (``retrying``) and Rev's rate-limit pauses all take their waits from
``retry_wait_generator``, so a Retry-After header (seconds or an HTTP date) is honoured and
``retry_max_wait_seconds`` caps a wait everywhere.
"""

from __future__ import annotations

import email.utils
import random
import time
import typing as t
from dataclasses import dataclass

import requests

T = t.TypeVar("T")
Waits = t.Generator[float, BaseException | None, None]


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
    growth: float = 2.0,
) -> Waits:
    """Backoff wait generator for ``backoff.on_exception`` and ``retrying``.

    The raised exception is sent into the generator before each wait (prime it with
    ``next``). A Retry-After header wins; otherwise the wait is ``base_seconds`` times
    ``growth`` per earlier wait (1: the same pause each time). Every wait is capped at
    ``max_wait_seconds`` so a retry limit is also a time limit.
    """
    attempt = 0
    exc = yield  # type: ignore[misc]  # primed with None
    while True:
        asked = retry_after_seconds(exc)
        wait = asked if asked is not None else float(base_seconds) * (growth**attempt)
        attempt += 1
        exc = yield min(wait, float(max_wait_seconds))


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a request is retried: the settings every tap shares."""

    max_tries: int
    base_seconds: float
    max_wait_seconds: float

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> RetryPolicy:
        return cls(
            max_tries=int(config.get("max_retries", 5)) + 1,
            base_seconds=float(config.get("retry_base_seconds", 2)),
            max_wait_seconds=float(config.get("retry_max_wait_seconds", 120)),
        )

    def waits(self) -> Waits:
        """A primed exponential wait generator: ``waits.send(exc)`` is the next wait."""
        waits = retry_wait_generator(
            base_seconds=self.base_seconds, max_wait_seconds=self.max_wait_seconds
        )
        next(waits)
        return waits

    def pauses(self, seconds: float) -> Waits:
        """A primed generator of ``seconds`` each time (Retry-After wins), capped alike:
        the pause after a 429 that the vendor documents no Retry-After for."""
        waits = retry_wait_generator(
            base_seconds=seconds, max_wait_seconds=self.max_wait_seconds, growth=1
        )
        next(waits)
        return waits


def retrying(
    attempt: t.Callable[[], T],
    *,
    tries: int,
    waits: Waits,
    retry_if: t.Callable[[BaseException], bool],
    sleep: t.Callable[[float], None] = time.sleep,
    on_retry: t.Callable[[BaseException, int, float], None] | None = None,
) -> T:
    """``attempt()`` until it returns: an exception ``retry_if`` accepts is retried after
    the next wait of ``waits``, at most ``tries`` attempts in all; any other exception,
    and the last attempt's, is raised. ``on_retry(exc, attempt number, wait)`` is called
    before each wait. For the requests outside a stream's pages (logins, extensions)."""
    for number in range(1, tries + 1):
        try:
            return attempt()
        except Exception as exc:
            if number >= tries or not retry_if(exc):
                raise
            wait = waits.send(exc)
            if on_retry is not None:
                on_retry(exc, number, wait)
            sleep(wait)
    msg = "tries must be at least 1"
    raise ValueError(msg)


def small_jitter(value: float) -> float:
    """Add up to 10% so parallel clients do not retry in lockstep; never wait less."""
    return value + random.random() * 0.1 * value
