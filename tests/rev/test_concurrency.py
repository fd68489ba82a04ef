"""max_concurrency: reports fetched ahead in threads change nothing but the wall time.

Records (and their order), the final STATE, failures, re-logins and the rate limits must be
those of a run with max_concurrency 1, and the tap never has more requests in flight than
the setting. These runs use the real clock (see SEQUENTIAL in tests/helpers.py) with raised
limits, so they take seconds.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import typing as t

import pytest
from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override

from sandbox import FaultConfig, SandboxServer
from sandbox.rev import RevAPI, start_rev_sandbox
from tap_rev_webcast.auth import ApiKeyLogin, RevAuthenticator
from tap_rev_webcast.ratelimit import SAFETY_MARGIN, RateLimiter, SystemClock
from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import REV_API_KEY as API_KEY
from tests.helpers import REV_SECRET as SECRET
from tests.helpers import TapRun, catalog_selecting, rev_config, rev_dataset, run_tap

LOGIN = "/api/v2/authenticate"
LOGGER = logging.getLogger("tests.rev.concurrency")
REPORTS_PER_MINUTE = 3000  # 50 a second: a run of about a hundred reports takes 2 s
LIMITS = {"reports": REPORTS_PER_MINUTE, "realtime": 600, "get": 24000}
#: The tap's limiter sends one report request every REPORT_GAP_MS (21 ms). Sandbox answers
#: that take several gaps make report requests overlap whenever the tap fetches ahead;
#: 5 ms answers leave it to chance (a quick run sends them one at a time).
REPORT_GAP_MS = 60_000 / REPORTS_PER_MINUTE * (1 + SAFETY_MARGIN)


class LiveRev(t.NamedTuple):
    server: SandboxServer
    api: RevAPI

    def config(self, **overrides: t.Any) -> dict:
        return rev_config(
            self.server,
            reports_requests_per_minute=LIMITS["reports"],
            realtime_requests_per_minute=LIMITS["realtime"],
            **overrides,
        )

    def run(self, max_concurrency: int, **kwargs: t.Any) -> TapRun:
        config = {**self.config(), **kwargs.pop("config", {}), "max_concurrency": max_concurrency}
        return run_tap(TapRevWebcast, config, **kwargs)

    def reset(self) -> None:
        self.server.reset_log()
        self.api.calls.clear()

    def completed(self) -> list[str]:
        return [w.id for w in self.api.dataset.webcasts if w.status == "Completed"]

    def report_calls(self) -> list:
        return [c for c in self.api.calls if c.family == "reports"]


@pytest.fixture
def live_rev() -> t.Iterator[LiveRev]:
    # 10 webcasts x runs 0 and 1, multi-page session reports, 5 ms per response; the
    # sandbox answers 429 as soon as the tap exceeds the limits it was given.
    dataset = rev_dataset(webcasts=10, sessions=600)
    server, api = start_rev_sandbox(dataset, faults=FaultConfig(latency_ms=5))
    api.rate_limits = dict(LIMITS)
    yield LiveRev(server, api)
    server.stop()


def watch_report_concurrency(rev: LiveRev) -> list[int]:
    """The most requests in flight while a report was being answered (list of one)."""
    peak = [0]

    def hook(request, response):
        if "/scheduled-events/" in request.path and not request.path.endswith("/status"):
            peak[0] = max(peak[0], rev.server.in_flight)

    rev.server.hooks.append(hook)
    return peak


def test_same_records_order_and_state_as_sequential(live_rev: LiveRev):
    rev = live_rev
    sequential = rev.run(1)
    assert rev.server.peak_in_flight == 1
    reports = len(rev.report_calls())
    rev.reset()
    report_peak = watch_report_concurrency(rev)
    rev.server.faults = FaultConfig(latency_ms=4 * REPORT_GAP_MS)  # changes no output
    concurrent = rev.run(6)
    assert 1 < rev.server.peak_in_flight <= 6
    assert report_peak[0] > 1  # the reports themselves, not only the status lookups
    assert concurrent.output == sequential.output
    assert len(rev.report_calls()) == reports  # nothing fetched twice or for nothing
    assert rev.api.throttled() == 0
    truth = rev.api.dataset.ground_truth()
    assert len(concurrent.records("attendee_sessions")) == len(truth["attendee_sessions"])
    assert len(concurrent.records("poll_answers")) == len(truth["poll_answers"])
    # Reports of webcasts that have not completed are not requested by any worker either.
    skipped = {w.id for w in rev.api.dataset.webcasts if w.status != "Completed"}
    assert not [c for c in rev.report_calls() if c.path.split("/")[-2] in skipped]


def test_the_summary_alone_is_fetched_ahead_too(live_rev: LiveRev):
    """Without attendee_sessions, the summary stream reads the first pages itself."""
    rev = live_rev
    catalog = catalog_selecting(
        TapRevWebcast, rev.config(), "webcast_attendance_summary", "poll_results", "poll_answers"
    )
    sequential = rev.run(1, catalog=catalog)
    reports = len(rev.report_calls())
    rev.reset()
    concurrent = rev.run(6, catalog=catalog)
    assert 1 < rev.server.peak_in_flight <= 6
    assert concurrent.output == sequential.output
    assert len(rev.report_calls()) == reports
    assert concurrent.records("webcast_attendance_summary")


def test_a_failing_report_fails_alone_with_the_output_of_a_sequential_run(live_rev: LiveRev):
    rev = live_rev
    target = rev.completed()[3]
    runs = {}
    for n in (1, 6):
        rev.reset()
        rev.server.clear_scripts()
        rev.server.script(f"{target}/comments", ["503"] * 50)
        runs[n] = rev.run(n, config={"max_retries": 1}, expect_error=True)
    for run in runs.values():
        assert f"stream 'comments' webcast_id={target} run_number=0" in str(run.error)
        assert "gave up after 2 attempts" in str(run.error)
    assert str(runs[6].error) == str(runs[1].error)
    assert runs[6].output == runs[1].output
    assert runs[1].records("comments")  # the failure came after other webcasts' reports


def test_a_scroll_that_expires_while_its_worker_waits_for_its_turn_restarts(monkeypatch):
    """A worker ahead holds a report's first page until the main thread takes it; meanwhile
    the scroll id can expire. The report is read again; nothing is lost or emitted twice."""
    # A 0.2 s scroll lifetime on a loaded machine can expire one report's scroll more often
    # than a real tenant's would: allow more restarts than the 3 the tap stops after.
    monkeypatch.setattr("tap_rev_webcast.client.MAX_SCROLL_RESTARTS", 20)
    # Reports of about 1500 sessions: a worker holds two pages' rows at most, then waits.
    server, api = start_rev_sandbox(
        rev_dataset(webcasts=8, sessions=1500), faults=FaultConfig(latency_ms=5)
    )
    api.rate_limits = dict(LIMITS)
    rev = LiveRev(server, api)
    try:
        catalog = catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions")
        sequential = rev.run(1, catalog=catalog)
        rev.reset()
        rev.api.scroll_ttl = 0.2
        concurrent = rev.run(6, catalog=catalog)
    finally:
        server.stop()
    restarts = [
        c
        for c in rev.report_calls()
        if c.status == 400 and "scrollId" in c.query  # an expired scroll id
    ]
    assert restarts  # otherwise this test proves nothing
    assert concurrent.output == sequential.output


def test_a_401_seen_by_several_threads_costs_one_login(live_rev: LiveRev):
    rev = live_rev
    sequential = rev.run(1)
    rev.reset()

    first = threading.Lock()  # never released: only the first hook to get it revokes

    def revoke_after_eighth_report(request, response):
        # Once, on '>= 8' (two threads can both pass 8 before either hook runs): other
        # requests must not revoke the token of the new login too.
        if len(rev.report_calls()) >= 8 and first.acquire(blocking=False):
            rev.api.revoke_tokens()

    rev.server.hooks.append(revoke_after_eighth_report)
    concurrent = rev.run(6)
    assert rev.api.count("", status=401) >= 1
    assert rev.api.count(LOGIN) == 2
    assert concurrent.output[0] == sequential.output[0]


def test_a_fresh_token_rejected_too_stops_the_run(live_rev: LiveRev):
    rev = live_rev

    def withdraw_access(request, response):
        if request.path.endswith("/comments"):
            rev.api.accept_tokens = False

    rev.server.hooks.append(withdraw_access)
    run = rev.run(6, expect_error=True)
    assert "rejected a freshly issued session token" in str(run.error)
    assert rev.api.count(LOGIN) == 2


class RecordingLimiter(RateLimiter):
    """The tap's limiter, keeping the slot it gives each report request."""

    slots: t.ClassVar[list[float]] = []

    @override
    def _reserve(self, family: str) -> tuple[float, int]:
        slot, pauses = super()._reserve(family)
        if family == "reports":
            self.slots.append(slot)
        return slot, pauses


def most_in_a_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    return max(sum(1 for at in times[i:] if at - start < seconds) for i, start in enumerate(times))


def test_the_rate_limit_holds_with_concurrency(live_rev: LiveRev, monkeypatch):
    """The limit as Rev applies it (per minute, at arrival), and the tap's own schedule at
    any scale.

    Arrivals are not checked per second: the limiter spaces the slots of a family
    60 / limit * 1.05 apart (21 ms here), and a thread reaches the socket a few ms to tens
    of ms after its slot (GIL and OS scheduling with six workers parsing pages), so two
    requests can arrive together. Over Rev's one-minute window the 5% margin absorbs 3 s of
    such delay; scaled to one second it absorbs 50 ms, which a busy 2-core machine exceeds
    now and then (51 arrivals in a second, about 1 run in 8). That is no excess for Rev.
    """
    rev = live_rev
    RecordingLimiter.slots = []
    monkeypatch.setattr("tap_rev_webcast.client.RateLimiter", RecordingLimiter)
    report_peak = watch_report_concurrency(rev)
    rev.server.faults = FaultConfig(latency_ms=40)  # several report requests in flight at once
    rev.run(6)
    assert report_peak[0] > 1
    # As Rev applies it: no 60 s window of arrivals over the limit, and no 429.
    assert rev.api.throttled() == 0
    assert rev.api.max_per_minute("reports") <= REPORTS_PER_MINUTE
    arrivals = sorted(c.at for c in rev.report_calls())
    assert len(arrivals) > 15  # post-event report pages: the only 'reports' requests
    # The tap's schedule: one slot per report request, the limit scaled to one second over
    # every window that starts at a slot.
    assert len(RecordingLimiter.slots) == len(arrivals)
    assert most_in_a_window(RecordingLimiter.slots, 1.0) <= REPORTS_PER_MINUTE / 60


# --- the shared rate limiter and session, under threads ---------------------------------


class FrozenClock:
    """Time stands still; a sleep only records when the sleeping thread would wake.

    ``now`` yields to other threads, so an unlocked limiter would hand two threads the same
    slot.
    """

    def __init__(self) -> None:
        self.woke_at = threading.local()

    def now(self) -> float:
        time.sleep(0.0001)
        return 1000.0

    def sleep(self, seconds: float) -> None:
        self.woke_at.value = self.now() + seconds


def test_the_limiter_gives_threads_distinct_evenly_spaced_slots():
    clock = FrozenClock()
    limiter = RateLimiter({"reports": 120, "get": 24000}, clock, logger=LOGGER)
    sent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            clock.woke_at.value = clock.now()
            limiter.acquire("reports")
            with lock:
                sent.append(clock.woke_at.value)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.sort()
    interval = 60 / 120 * (1 + SAFETY_MARGIN)
    assert len(sent) == 200
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert min(gaps) == pytest.approx(interval)
    assert limiter.stats["reports"].requests == 200
    assert limiter.stats["reports"].waits == 199


class _SteppedClock:
    """Real sleeping is replaced by: the first sleep blocks until ``wake``; time moves to
    each sleep's end."""

    def __init__(self) -> None:
        self._now = 0.0
        self.asleep = threading.Event()
        self.wake = threading.Event()
        self.woken_at: list[float] = []

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if not self.asleep.is_set():
            self.asleep.set()
            self.wake.wait(5)
        else:
            self._now += seconds
        self.woken_at.append(self._now)


def test_a_request_waiting_for_its_slot_also_waits_out_a_429_pause():
    clock = _SteppedClock()
    limiter = RateLimiter({"reports": 120}, clock, logger=LOGGER)
    limiter.acquire("reports")  # the first slot is now; the next one 0.525 s later
    waiting = threading.Thread(target=limiter.acquire, args=("reports",))
    waiting.start()
    clock.asleep.wait(5)
    limiter.pause("reports", 30)  # a 429 arrives while the second request waits
    clock.wake.set()
    waiting.join(5)
    assert clock.woken_at[-1] >= 30


def test_threads_rejected_with_the_same_token_share_one_login(live_rev: LiveRev):
    rev = live_rev
    auth = RevAuthenticator(
        base_url=rev.server.url,
        credentials=ApiKeyLogin(API_KEY, SECRET),
        clock=SystemClock(),
        logger=LOGGER,
    )
    stale = auth.token()
    start = threading.Barrier(8)

    def rejected() -> None:
        start.wait()
        auth.renew(stale=stale)

    threads = [threading.Thread(target=rejected) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert rev.api.count(LOGIN) == 2
    assert auth.token() != stale
    auth.renew(stale=stale)  # a late 401 for the old token: already replaced
    assert rev.api.count(LOGIN) == 2


def test_a_refused_login_is_not_repeated_by_other_threads(live_rev: LiveRev):
    rev = live_rev
    auth = RevAuthenticator(
        base_url=rev.server.url,
        credentials=ApiKeyLogin(API_KEY, "wrong-secret"),
        clock=SystemClock(),
        logger=LOGGER,
    )
    errors: list[str] = []

    def first_request() -> None:
        try:
            auth.token()
        except FatalAPIError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=first_request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 6
    assert "rejected the credentials" in errors[0]
    assert rev.api.count(LOGIN) == 1
