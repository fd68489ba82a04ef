"""Fault configuration and the fault decision logic of the sandbox servers.

This module is vendor-independent. :class:`FaultConfig` holds the knobs.
:class:`FaultInjector` decides, for each incoming request, which fault (if
any) to inject. Scripted faults come first, then seeded random faults.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

#: Every fault name the server knows how to perform.
FAULT_KINDS: tuple[str, ...] = (
    "429",  # 429 + Retry-After: <retry_after>, body {"detail": "Request was throttled."}
    "429-no-retry-after",  # the same, without a Retry-After header
    "500",
    "502",
    "503",
    "slow",  # sleep slow_seconds, then answer normally
    "drop",  # close the socket without sending anything
    "truncate",  # full headers (real Content-Length), half the body, then close
    "html",  # 200 text/html error page, like a misbehaving proxy
    # The app's status and headers, the body close-delimited (no Content-Length, no chunked
    # framing, as an HTTP/1.0 server sends it) and cut at a line end near its middle, then
    # a clean close: nothing at the HTTP level shows that the body is incomplete.
    "cut-at-line-end",
    # The app's answer with Content-Length framing, its body one byte every trickle_seconds:
    # each byte well within any per-read timeout, the whole far past any sensible deadline.
    "trickle",
    # The same for the whole answer: status line and headers too.
    "trickle-head",
    # The app's body followed by whitespace up to bomb_bytes, gzip-compressed (about a
    # thousandth of that on the wire), with Content-Encoding: gzip. Still valid JSON or XML.
    "gzip-bomb",
    # 200 with a JSON array nested deep_json_levels deep: valid JSON no parser can recurse into.
    "deep-json",
)

#: Scripted entries that mean "no fault for this request" (they still use up a script slot).
NO_FAULT: tuple[object, ...] = (None, "", "none", "ok")


def _check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}")


@dataclass
class FaultConfig:
    """Fault-injection settings. Read on every request, so they can change at runtime."""

    latency_ms: float = 0  # added to every response (faulty or not)
    rate: float = 0.0  # probability that a request gets a random fault from `kinds`
    kinds: tuple[str, ...] = ("429", "500", "502", "503", "drop", "truncate")
    retry_after: int = 1  # seconds, sent in Retry-After by the "429" fault
    slow_seconds: float = 5  # sleep of the "slow" fault
    trickle_seconds: float = 1.0  # between two bytes of the "trickle" faults
    bomb_bytes: int = 1 << 30  # what the "gzip-bomb" body expands to
    deep_json_levels: int = 100_000  # nesting of the "deep-json" body
    seed: int = 0  # seed of the random-fault generator

    def __post_init__(self) -> None:
        self.kinds = tuple(self.kinds)
        for kind in self.kinds:
            _check_kind(kind)
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {self.rate}")


# Hand-written: fault libraries (toxiproxy, chaos proxies) sit outside the process and cannot
# answer vendor-shaped error bodies or follow a per-request script a test sets up; this is a
# seeded random draw plus FIFO scripts, a few lines with no dependency.
class FaultInjector:
    """Decides the fault for each request. Thread-safe.

    Scripted faults (see :meth:`script`) take priority. Otherwise a fault is drawn
    with probability ``config.rate`` from a ``random.Random(config.seed)``. The
    generator is re-seeded whenever the config object or its seed changes, so a
    given request sequence always gets the same faults.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[tuple[str, deque[str | None]]] = []
        self._rng = random.Random(0)
        self._rng_key: tuple[int, int] | None = None

    def script(self, path_contains: str, faults: list[str | None]) -> None:
        """The next ``len(faults)`` requests whose path contains ``path_contains`` get these
        faults, in order.

        An entry of ``None``/``"none"`` lets that request through unharmed. It still
        uses up its slot and skips random faults, which lets a test target e.g. the
        2nd page: ``script("analytics_events", [None, "500"])``.
        """
        queue: deque[str | None] = deque()
        for fault in faults:
            if fault in NO_FAULT:
                queue.append(None)
            else:
                _check_kind(fault)  # type: ignore[arg-type]
                queue.append(fault)
        with self._lock:
            self._scripts.append((path_contains, queue))

    def clear_scripts(self) -> None:
        with self._lock:
            self._scripts.clear()

    def pending(self) -> int:
        """Number of scripted entries not used yet."""
        with self._lock:
            return sum(len(q) for _, q in self._scripts)

    def decide(self, path: str, config: FaultConfig) -> str | None:
        """Return the fault name for a request to ``path``, or None."""
        with self._lock:
            if self._scripts:
                for index, (needle, queue) in enumerate(self._scripts):
                    if needle in path:
                        fault = queue.popleft()
                        if not queue:
                            del self._scripts[index]
                        return fault
            if config.rate <= 0 or not config.kinds:
                return None
            key = (id(config), config.seed)
            if key != self._rng_key:
                self._rng = random.Random(config.seed)
                self._rng_key = key
            if self._rng.random() < config.rate:
                return self._rng.choice(config.kinds)
            return None
