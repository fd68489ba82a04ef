"""Routes of the Rev API: authentication, rate limits, scrolls and the report endpoints."""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..faults import FaultConfig
from ..server import SandboxRequest, SandboxResponse, SandboxServer, json_bytes
from .common import (
    COMMENTS_DEFAULT_SIZE,
    DEFAULT_RATE_LIMITS,
    REALTIME_DEFAULT_COUNT,
    REALTIME_MAX_COUNT,
    REGISTRATIONS_DEFAULT_SIZE,
    REGISTRATIONS_MAX_SIZE,
    REPORT_ENDPOINTS,
    REPORT_PAGE_SIZE,
    TOKEN_CHARS,
    iso,
    parse_iso,
    shaped,
)
from .dataset import RevDataset
from .model import Webcast

#: Paths of the unauthenticated login calls.
_AUTH_ROUTES = (("authenticate",), ("user", "login"))
#: Authenticated session calls: path -> (route name, method, family, webcast id).
_SESSION_ROUTES: dict[tuple[str, ...], tuple[str, str, str | None, str | None]] = {
    ("user", "extend-session"): ("extend-session", "POST", None, None),
    ("user", "logoff"): ("logoff-user", "POST", None, None),
    ("user", "session"): ("session", "GET", None, None),
}


@dataclass
class ApiCall:
    """One request the simulator answered (injected server faults are not seen here)."""

    method: str
    path: str
    query: dict[str, list[str]]
    family: str | None  # rate-limit family: "reports", "realtime", "get" or None (auth)
    status: int
    at: float  # RevAPI.clock() on arrival
    throttled: bool = False  # a 429 served because the family's limit was reached


@dataclass
class _Scroll:
    kind: str  # "report", "realtime", "comments" or "registrations"
    webcast_id: str
    run: int
    offset: int
    issued_at: float
    request: dict[str, Any] = field(default_factory=dict)  # realtime search parameters
    scroll_id: str = ""  # the id this scroll was last handed out under
    ids: dict[int, str] = field(default_factory=dict)  # offset -> id ("cycle" scrolls)


@dataclass
class _LateAnswer(SandboxResponse):
    """A response the route has already produced (its scroll cursor moved on), sent only
    after ``seconds`` of real time, outside the API's lock."""

    seconds: float = 0.0


class RevAPI:
    """Routes ``/api/v2/...`` requests to a :class:`RevDataset`.

    Check order: route (404) -> method (405) -> ``Authorization: VBrick <token>`` (401, no
    body) -> per-family rate limit (429) -> webcast lookup (404) -> parameters (400).

    Switches (plain attributes, read on every request):
      * ``token_lifetime``: seconds a token lives after login or extend-session.
      * ``scroll_ttl``: seconds a scroll id stays valid after it was issued.
      * ``last_page``: how the last page of a scroll says so: "null" (scrollId null),
        "absent" (no scrollId key), "empty_page" (a live scrollId whose next page is empty)
        or "count" (a scrollId that no longer works: only totalSessions/total tell).
      * ``attendee_casing``: "pascal" (the OpenAPI) or "camel" (Vbrick's TypeScript client).
      * ``rate_limits``: requests per minute per family; ``rate_limit_retry_after`` adds a
        Retry-After header to those 429s (the docs publish none).
      * ``accept_tokens``: False makes every authenticated call answer 401, even with a
        fresh token (a user whose API access was withdrawn mid-run).

    Fault switches (vendor behaviour beyond the documented API; all off by default):
      * ``total_sessions_offset``: added to every post-event report's ``totalSessions``:
        negative, a total that understates the report; positive, one that overstates it.
        The pages served (and their scroll ids) still follow the real sessions.
      * ``scroll_ids``: "per_page" (default, a new id on every page) or "cursor": one id
        for the whole report whose cursor lives on the server, so every request with it
        returns the page after the last one served, even if that one never arrived.
      * ``late_pages`` / ``late_seconds``: the post-event report pages with these numbers
        (1 = the first page) are answered ``late_seconds`` (real time) after the cursor
        moved past them, the first time each report serves them.
      * ``drip_reports`` / ``drip_seconds``: the next ``drip_reports`` answers of the report
        endpoints send their body one byte every ``drip_seconds`` (real time).
      * ``vanished_webcasts``: ids still listed by GET /scheduled-events that answer 404 on
        every other endpoint (deleted between the list and the next request).
      * ``session_throttle_seconds``: the first extend-session starts a throttle of this
        many seconds (API clock) in which extend-session and the logins answer 429.
      * ``extend_session_empty``: extend-session answers 200 with an empty body, and the
        token's expiry does not move.
      * ``single_session``: a login invalidates every earlier token of the same API key or
        user (the API-key session is revoked per key, DELETE /api/v2/tokens/{apiKey}, which
        suggests one session per key). Pair it with a short ``token_lifetime``.
      * ``reports_family``: "post_event_report" (default: the post-event report in the
        120-a-minute family, every other report GET in the GET family, as Vbrick's clients
        apply them) or "all_reports" (every report endpoint in the 120-a-minute family:
        stricter than either client).
      * ``comments_paging``: "array" (default: the documented bare array of at most
        ``size`` comments; a scrollId is ignored) or "scroll": ASSUMPTION: the answer is
        ``{"totalComments", "scrollId", "comments"}`` and the scrollId (forward only) pages
        on, as the spec's description says, never as its 200 schema shows.
        ``comments_max_size`` caps the comments of one answer below ``size`` (any cap).
      * ``registrations_max_size``: the most registrations one page holds, whatever
        ``size`` asks (ASSUMPTION: 500 by default; undocumented).
      * ``registrations_non_public``: what GET .../registrations answers for a webcast that
        is not Public (undocumented): "bad_request" (default; ASSUMPTION: the {code,
        detail} 400 Rev uses for requests it refuses), "empty" (200 without guests),
        "forbidden" (403) or "not_found" (404).
      * ``scroll_stuck``: None (default), "same" or "cycle": every scroll (reports,
        comments, registrations, real-time attendees) stops advancing after its first
        page. "same": the scroll id a page hands out is the one it was asked with, and it
        answers the same page again; "cycle": the last page hands out the second page's
        scroll id again, so the ids go round (A, B, A, B, ...) and so do their pages.
      * ``field_names``: "openapi" (default) or "js_client": the names in Vbrick's JS
        client types where they differ from the OpenAPI: /status ``eventTitle``, sessions'
        ``multicastErrorsPerAttendees``, categories' ``fullpath``, and list items with
        ``eventAdmin``, ``autoAssociateVod`` and ``redirectVod``.
    """

    def __init__(
        self, dataset: RevDataset | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.dataset = dataset if dataset is not None else RevDataset()
        self.clock: Callable[[], float] = clock or time.time
        self.token_lifetime = 600.0  # ASSUMPTION: set by each tenant's admin; V2 assumes 10 min
        self.scroll_ttl = 60.0  # ASSUMPTION: the video search docs state 60 s for scroll ids
        self.last_page = "null"
        self.attendee_casing = "pascal"
        self.rate_limits = dict(DEFAULT_RATE_LIMITS)
        self.rate_limit_retry_after = False
        self.accept_tokens = True
        self.total_sessions_offset = 0
        self.scroll_ids = "per_page"
        self.late_pages: frozenset[int] = frozenset()
        self.late_seconds = 0.0
        self.drip_reports = 0
        self.drip_seconds = 0.0
        self.vanished_webcasts: set[str] = set()
        self.session_throttle_seconds = 0.0
        self.extend_session_empty = False
        self.single_session = False
        self.reports_family = "post_event_report"
        self.comments_paging = "array"
        self.comments_max_size: int | None = None
        self.registrations_max_size = REGISTRATIONS_MAX_SIZE
        self.registrations_non_public = "bad_request"
        self.field_names = "openapi"
        self.scroll_stuck: str | None = None
        self.logoffs: list[str] = []  # "token" or "user" per logoff answered
        self.calls: list[ApiCall] = []
        self.tokens: dict[str, float] = {}  # token -> expiry
        self.issued_tokens: list[str] = []  # every token ever issued (tests look for leaks)
        self._token_owners: dict[str, str] = {}  # token -> "key:<apiKey>" or "user:<id>"
        self._scrolls: dict[str, _Scroll] = {}
        self._answered_late: set[tuple[str, int, int]] = set()
        self._session_throttle_until: float | None = None
        self._windows: dict[str, deque[float]] = {}
        self._rng = random.Random(f"{self.dataset.seed}:tokens")
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ inspection
    def count(self, path_contains: str = "", status: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for c in self.calls
                if path_contains in c.path and (status is None or c.status == status)
            )

    def throttled(self, family: str | None = None) -> int:
        """429s served because a client exceeded a family's limit."""
        with self._lock:
            return sum(1 for c in self.calls if c.throttled and family in (None, c.family))

    def max_per_minute(self, family: str) -> int:
        """The most accepted requests of ``family`` within any 60 s of API time."""
        with self._lock:
            times = [c.at for c in self.calls if c.family == family and not c.throttled]
        best, low = 0, 0
        for high, arrived in enumerate(times):
            while arrived - times[low] >= 60:
                low += 1
            best = max(best, high - low + 1)
        return best

    def revoke_tokens(self) -> None:
        """Every issued token stops working (as after a server-side session reset)."""
        with self._lock:
            self.tokens.clear()

    # ------------------------------------------------------------------ routing
    def handle(self, request: SandboxRequest) -> SandboxResponse:
        with self._lock:
            now = self.clock()
            response, family, throttled = self._route(request, now)
            self.calls.append(
                ApiCall(
                    request.method,
                    request.path,
                    request.query,
                    family,
                    response.status,
                    now,
                    throttled,
                )
            )
            body = response.body
            if family == "reports" and isinstance(body, bytes) and self.drip_reports > 0:
                self.drip_reports -= 1
                response.body = _dripped(body, self.drip_seconds)
        if isinstance(response, _LateAnswer):
            time.sleep(response.seconds)  # other requests are answered meanwhile
        return response

    def _route(
        self, request: SandboxRequest, now: float
    ) -> tuple[SandboxResponse, str | None, bool]:
        """(response, rate-limit family, throttled) of a request."""
        # Each segment is percent-decoded after the split, as web servers do: an escaped
        # "/" stays inside its segment (a webcast id may hold any character).
        segments = [unquote(segment) for segment in request.path.split("/")[1:]]
        if segments[:2] != ["api", "v2"]:
            return _error(404, "NotFound", "Not found."), None, False
        rest = segments[2:]
        if tuple(rest) in _AUTH_ROUTES:
            return self._route_auth(request, tuple(rest), now), None, False
        route = self._match(rest)
        if route is None:
            # Includes the deprecated /api/v2/events/{id}/report and
            # /api/v2/scheduled-events/{id}/report: the tap must not use them.
            return _error(404, "NotFound", "Not found."), None, False
        name, expected, family, webcast_id = route
        family = self._family(family)
        if request.method != expected:
            return _error(405, "MethodNotAllowed", "Method not allowed."), family, False
        if not self._authorized(request, now):
            return SandboxResponse(401, b"", {}), family, False
        if family is not None:
            limited = self._admit(family, now)
            if limited is not None:
                return limited, family, True
        return self._route_authorized(request, name, webcast_id, now), family, False

    def _route_auth(
        self, request: SandboxRequest, route: tuple[str, ...], now: float
    ) -> SandboxResponse:
        """The unauthenticated calls that log in (POST only)."""
        if request.method != "POST":
            # ASSUMPTION: a wrong method answers 405 with the {code, detail} body.
            return _error(405, "MethodNotAllowed", "Method not allowed.")
        throttled = self._session_throttled(now)
        if throttled is not None:
            return throttled
        if route == ("authenticate",):
            return self._authenticate(request, now)
        return self._user_login(request, now)

    def _route_authorized(
        self, request: SandboxRequest, name: str, webcast_id: str | None, now: float
    ) -> SandboxResponse:
        """An authorized, admitted call to route ``name`` (see :meth:`_match`)."""
        if name == "extend-session":
            return self._extend_session(request, now)
        if name in ("logoff-token", "logoff-user"):
            return self._logoff(request, name, webcast_id or "")
        if name == "session":
            return SandboxResponse(200, b"", {})
        if name == "list":
            return self._list(request)
        webcast = self.dataset.webcast(webcast_id or "")
        if webcast is None or webcast.id in self.vanished_webcasts:
            # ASSUMPTION: an unknown webcast id answers 404 {code, detail} on every endpoint.
            return _error(404, "WebcastNotFound", "Webcast not found.")
        handlers: dict[str, Callable[[SandboxRequest, Webcast, float], SandboxResponse]] = {
            "details": lambda r, w, t: SandboxResponse.json(200, self.dataset.details(w)),
            "status": lambda r, w, t: SandboxResponse.json(200, self._status(w)),
            "registrations": self._registrations,
            "post-event-report": self._post_event_report,
            "real-time/attendees": self._realtime_attendees,
            "comments": self._comments,
            "poll-results": self._poll_results,
            "questions": self._questions,
            "reactions": self._reactions,
        }
        return handlers[name](request, webcast, now)

    @staticmethod
    def _match(rest: list[str]) -> tuple[str, str, str | None, str | None] | None:
        """(route name, method, rate-limit family, webcast id) of an authenticated path.

        ASSUMPTION: each request counts toward exactly one family. Reports = the post-event
        report (Vbrick's PowerShell client puts it in its 120-a-minute viewReport bucket; the
        JS client puts every report GET in its GET bucket), realtime = real-time attendees,
        get = every other GET (comments, polls, Q&A, reactions and registrations included;
        see ``reports_family`` for the stricter model). Session calls are not limited.
        For the logoff of an API-key session the key rides in the webcast id's place.
        """
        session = _SESSION_ROUTES.get(tuple(rest))
        if session is not None:
            return session
        if len(rest) == 2 and rest[0] == "tokens" and rest[1]:
            return "logoff-token", "DELETE", None, rest[1]
        if rest == ["scheduled-events"]:
            return "list", "GET", "get", None
        if len(rest) < 2 or rest[0] != "scheduled-events" or not rest[1]:
            return None
        webcast_id, tail = rest[1], "/".join(rest[2:])
        if tail == "":
            return "details", "GET", "get", webcast_id
        if tail == "status":
            return "status", "GET", "get", webcast_id
        if tail == "real-time/attendees":
            return tail, "POST", "realtime", webcast_id
        if tail == "post-event-report":
            return tail, "GET", "reports", webcast_id
        if tail in REPORT_ENDPOINTS:
            return tail, "GET", "report-get", webcast_id  # resolved by _family
        return (tail, "GET", "get", webcast_id) if tail == "registrations" else None

    def _family(self, family: str | None) -> str | None:
        """The rate-limit family of a report GET other than the post-event report."""
        if family != "report-get":
            return family
        return "reports" if self.reports_family == "all_reports" else "get"

    # ------------------------------------------------------------------ auth
    def _issue_token(self, now: float, owner: str) -> tuple[str, str]:
        token = "".join(self._rng.choice(TOKEN_CHARS) for _ in range(40))
        if self.single_session:
            self._revoke(owner)
        self._token_owners[token] = owner
        self.tokens[token] = now + self.token_lifetime
        self.issued_tokens.append(token)
        return token, iso(now + self.token_lifetime)

    def _credentials(self, request: SandboxRequest) -> dict[str, Any] | None:
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        # ASSUMPTION: keys match case-insensitively: the portal's example sends ApiKey/Secret,
        # the OpenAPI apiKey/secret (.NET model binding ignores case).
        return {str(k).lower(): v for k, v in body.items()}

    def _authenticate(self, request: SandboxRequest, now: float) -> SandboxResponse:
        body = self._credentials(request)
        if body is None:
            return _error(400, "BadRequest", "The request body must be a JSON object.")
        dataset = self.dataset
        if body.get("apikey") != dataset.api_key or body.get("secret") != dataset.secret:
            return SandboxResponse(401, b"", {})  # documented: 401 without a body
        token, expiration = self._issue_token(now, f"key:{dataset.api_key}")
        values = {"token": token, "issuer": "VBrick", "expiration": expiration}
        return SandboxResponse.json(200, shaped(dataset.fixtures["authenticate_response"], values))

    def _user_login(self, request: SandboxRequest, now: float) -> SandboxResponse:
        body = self._credentials(request)
        if body is None:
            return _error(400, "BadRequest", "The request body must be a JSON object.")
        dataset = self.dataset
        if body.get("username") != dataset.username or body.get("password") != dataset.password:
            return SandboxResponse(401, b"", {})
        user_id = dataset.fixtures["user_login_response"]["id"]
        token, expiration = self._issue_token(now, f"user:{user_id}")
        values = {"token": token, "issuer": "VBrick", "expiration": expiration}
        return SandboxResponse.json(200, shaped(dataset.fixtures["user_login_response"], values))

    def _revoke(self, owner: str) -> None:
        for token in [t for t, o in self._token_owners.items() if o == owner]:
            self.tokens.pop(token, None)

    def _logoff(self, request: SandboxRequest, name: str, api_key: str) -> SandboxResponse:
        """DELETE /api/v2/tokens/{apiKey} or POST /api/v2/user/logoff {userId}: the session's
        tokens stop working. Documented: 200 without a body."""
        if name == "logoff-token":
            owner = f"key:{api_key}"
        else:
            body = self._credentials(request) or {}
            owner = f"user:{body.get('userid')}"
        token = (request.headers.get("Authorization") or "")[len("VBrick ") :]
        if self._token_owners.get(token) != owner:
            # ASSUMPTION: a session may only log itself off (another key or user: 401).
            return SandboxResponse(401, b"", {})
        self._revoke(owner)
        self.logoffs.append("token" if name == "logoff-token" else "user")
        return SandboxResponse(200, b"", {})

    def _authorized(self, request: SandboxRequest, now: float) -> bool:
        header = request.headers.get("Authorization") or ""
        # ASSUMPTION: the "VBrick " prefix is matched exactly (case and single space).
        if not header.startswith("VBrick ") or not self.accept_tokens:
            return False
        expiry = self.tokens.get(header[len("VBrick ") :])
        return expiry is not None and now < expiry

    def _extend_session(self, request: SandboxRequest, now: float) -> SandboxResponse:
        if self.session_throttle_seconds and self._session_throttle_until is None:
            self._session_throttle_until = now + self.session_throttle_seconds
        throttled = self._session_throttled(now)
        if throttled is not None:
            return throttled
        if self.extend_session_empty:
            # ASSUMPTION: an empty answer means the extension did not take effect.
            return SandboxResponse(200, b"", {"Content-Type": "application/json"})
        # ASSUMPTION: the token stays the same; only its expiry moves (the docs return just
        # the new expiration).
        token = (request.headers.get("Authorization") or "")[len("VBrick ") :]
        self.tokens[token] = now + self.token_lifetime
        values = {"expiration": iso(now + self.token_lifetime)}
        return SandboxResponse.json(
            200, shaped(self.dataset.fixtures["extend_session_response"], values)
        )

    def _session_throttled(self, now: float) -> SandboxResponse | None:
        """The 429 of a login or extension during a session throttle, else None.

        ASSUMPTION: logins and extensions share one per-account budget (Vbrick's clients
        count every POST in one 'post' bucket), so while extensions are throttled, so are
        logins. The body is the plain text of the rate-limit 429s.
        """
        until = self._session_throttle_until
        if until is None or now >= until:
            return None
        headers = {"Content-Type": "text/plain"}
        if self.rate_limit_retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(until - now)))
        return SandboxResponse(429, b"Too Many Requests", headers)

    # ------------------------------------------------------------------ rate limits
    def _admit(self, family: str, now: float) -> SandboxResponse | None:
        """None if the request may proceed, else the 429 to send.

        ASSUMPTION: a sliding 60 s window per family and account (the strictest reading of
        "per minute"); throttled requests do not count. The body is the plain text V2's
        client falls back to for a non-JSON 429.
        """
        limit = self.rate_limits.get(family)
        if limit is None:
            return None
        # Hand-written rather than a rate-limit library (limits, pyrate-limiter): the window
        # must run on RevAPI.clock (a fake clock in tests) and answer the vendor's 429 body.
        window = self._windows.setdefault(family, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) < limit:
            window.append(now)
            return None
        headers = {"Content-Type": "text/plain"}
        if self.rate_limit_retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(window[0] + 60 - now)))
        return SandboxResponse(429, b"Too Many Requests", headers)

    # ------------------------------------------------------------------ listing
    def _list(self, request: SandboxRequest) -> SandboxResponse:
        query = request.query
        try:
            after = parse_iso(query["after"][-1]) if query.get("after") else None
            before = parse_iso(query["before"][-1]) if query.get("before") else None
        except ValueError:
            return _error(400, "InvalidDate", "after and before must be ISO 8601 date-times.")
        now = self.clock()
        year = 365 * 86400
        # Documented defaults: after = before - 12 months or now; before = after + 12 months
        # or now + 12 months.
        if after is None:
            after = before - year if before is not None else now
        if before is None:
            before = after + year if query.get("after") else now + year
        sort_field = (query.get("sortField") or ["startDate"])[-1]
        direction = (query.get("sortDirection") or ["asc"])[-1]
        if sort_field not in ("startDate", "title") or direction not in ("asc", "desc"):
            return _error(400, "InvalidSort", "sortField: startDate|title, sortDirection: asc|desc")
        featured = (query.get("isFeatured") or [""])[-1]
        rows = [
            self.dataset.listing(webcast)
            for webcast in self.dataset.webcasts
            if webcast.end > after
            and webcast.start <= before  # "end date after", "start date on or before"
        ]
        if featured in ("true", "false"):
            rows = [r for r in rows if r["isFeatured"] == (featured == "true")]
        rows.sort(key=lambda r: r[sort_field], reverse=direction == "desc")
        if self.field_names == "js_client":
            rows = [_js_client_listing(row) for row in rows]
        return SandboxResponse.json(200, rows)

    # ------------------------------------------------------------------ scrolls
    def _new_scroll(self, scroll: _Scroll) -> str:
        # ASSUMPTION: every page hands out a new scroll id, and each works once ("forward
        # only"); Elasticsearch-style APIs may repeat one id, which the tap also copes with.
        # With scroll_ids "cursor" they do: the id stays, the cursor behind it moves on.
        if self.scroll_ids == "cursor" and scroll.scroll_id:
            scroll_id = scroll.scroll_id
        else:
            scroll_id = f"scr_{self._rng.getrandbits(96):024x}"
        scroll.scroll_id = scroll_id
        self._scrolls[scroll_id] = scroll
        return scroll_id

    def _take_scroll(self, scroll_id: str, kind: str, webcast: Webcast, now: float) -> _Scroll:
        """The scroll a request continues; forward only, so each id works once.

        Raises LookupError for an unknown, used, expired or foreign scroll id.
        """
        scroll = self._scrolls.pop(scroll_id, None)
        if scroll is None or scroll.kind != kind or scroll.webcast_id != webcast.id:
            raise LookupError(scroll_id)
        if now - scroll.issued_at > self.scroll_ttl:
            raise LookupError(scroll_id)
        return scroll

    def _finish_page(
        self,
        body: dict[str, Any],
        scroll: _Scroll,
        served: int,
        total: int,
        now: float,
        *,
        counted: bool = True,
    ) -> dict[str, Any]:
        """Set ``scrollId`` for the page that ends at ``scroll.offset + served``.

        ``counted``: the answer carries a total. ASSUMPTION: a scroll without one never ends
        on a dead scroll id (the "count" variant), only on an empty page.
        """
        end = scroll.offset + served
        last_page = self.last_page if counted or self.last_page != "count" else "empty_page"
        if self.scroll_stuck and scroll.scroll_id and served:
            return self._stuck_page(body, scroll, end, total, now)
        if end < total:
            scroll.offset, scroll.issued_at = end, now
            body["scrollId"] = self._new_scroll(scroll)
        elif last_page == "absent":
            body.pop("scrollId", None)
        elif last_page == "empty_page" and served:
            scroll.offset, scroll.issued_at = end, now
            body["scrollId"] = self._new_scroll(scroll)  # the next page is empty
        elif last_page == "count" and served:
            body["scrollId"] = f"scr_{self._rng.getrandbits(96):024x}"  # already dead
        else:
            body["scrollId"] = None
        return body

    def _stuck_page(
        self, body: dict[str, Any], scroll: _Scroll, end: int, total: int, now: float
    ) -> dict[str, Any]:
        """A page after the first of a scroll that does not advance (``scroll_stuck``).

        ASSUMPTION: no documented behaviour; it models a server whose scroll cursor is
        lost or reset (an Elasticsearch-style scroll id that keeps its position), which
        clients must survive without reading forever.
        """
        scroll.issued_at = now
        if self.scroll_stuck == "same":
            self._scrolls[scroll.scroll_id] = scroll  # the cursor stays on this page
            body["scrollId"] = scroll.scroll_id
            return body
        scroll.ids.setdefault(scroll.offset, scroll.scroll_id)
        if end < total and end not in scroll.ids:
            scroll.offset = end
            scroll.ids[end] = scroll.scroll_id = f"scr_{self._rng.getrandbits(96):024x}"
        else:  # back to the second page, under its id
            scroll.offset = min(scroll.ids)
            scroll.scroll_id = scroll.ids[scroll.offset]
        self._scrolls[scroll.scroll_id] = scroll
        body["scrollId"] = scroll.scroll_id
        return body

    # ------------------------------------------------------------------ reports
    def _post_event_report(
        self, request: SandboxRequest, webcast: Webcast, now: float
    ) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _bad_report("runNumber must be an integer.")
        scroll_id = (request.query.get("scrollId") or [""])[-1]
        if scroll_id:
            try:
                scroll = self._take_scroll(scroll_id, "report", webcast, now)
            except LookupError:
                # ASSUMPTION: an expired, used or unknown scrollId gets the documented 400
                # envelope (V2 models scroll expiry as its own error; the docs are silent).
                return _bad_report("The scrollId is invalid or has expired.")
            if scroll.run != run:
                return _bad_report("The scrollId belongs to another run.")
        else:
            if not webcast.completed:
                return _bad_report(f"Webcast is not completed (status {webcast.status}).")
            if run not in webcast.runs:
                return _bad_report(f"No report for run number {run} of this webcast.")
            scroll = _Scroll("report", webcast.id, run, 0, now)
        total = self.dataset.session_count(webcast, run)
        sessions = (
            self.dataset.session_page(webcast, run, scroll.offset // REPORT_PAGE_SIZE)
            if scroll.offset < total
            else []  # past the last page: the "empty_page" variant
        )
        body = {
            k: v
            for k, v in self.dataset.fixtures["post_event_report"].items()
            if k not in ("sessions", "scrollId")
        }
        body.update(self.dataset.report_summary(webcast, run))
        if self.total_sessions_offset:
            body["totalSessions"] = max(0, body["totalSessions"] + self.total_sessions_offset)
        if self.field_names == "js_client":
            sessions = [
                _renamed(row, "multicastErrors", "multicastErrorsPerAttendees") for row in sessions
            ]
        body["sessions"] = sessions
        body["scrollId"] = None
        page = scroll.offset // REPORT_PAGE_SIZE + 1
        content = json_bytes(self._finish_page(body, scroll, len(sessions), total, now))
        if page in self.late_pages and (webcast.id, run, page) not in self._answered_late:
            self._answered_late.add((webcast.id, run, page))
            return _LateAnswer(200, content, seconds=self.late_seconds)
        return SandboxResponse(200, content)

    def _realtime_attendees(
        self, request: SandboxRequest, webcast: Webcast, now: float
    ) -> SandboxResponse:
        try:
            raw = json.loads(request.body or b"{}")
        except ValueError:
            return _error(400, "BadRequest", "The request body must be JSON.")
        search = {str(k).lower(): v for k, v in (raw or {}).items()}
        scroll_id = search.get("scrollid")
        if scroll_id:
            try:
                scroll = self._take_scroll(str(scroll_id), "realtime", webcast, now)
            except LookupError:
                # ASSUMPTION: the general {code, detail} error with V2's ScrollExpired code.
                return _error(400, "ScrollExpired", "The scrollId is invalid or has expired.")
        else:
            started = _new_realtime_scroll(search, webcast, now)
            if isinstance(started, SandboxResponse):
                return started
            scroll = started
        return self._realtime_page(webcast, scroll, now)

    def _realtime_page(self, webcast: Webcast, scroll: _Scroll, now: float) -> SandboxResponse:
        wanted = scroll.request
        # ASSUMPTION: the live run is the main event (0); other run numbers have no one.
        attendees = webcast.realtime_attendees if scroll.run == 0 else 0
        everyone = [self.dataset.realtime_attendee(webcast, i) for i in range(attendees)]
        if wanted["status"] in ("Online", "Offline"):
            everyone = [a for a in everyone if a["Status"] == wanted["status"]]
        page = everyone[scroll.offset : scroll.offset + wanted["count"]]
        if wanted["details"] == "Base":
            base = ("UserId", "Username", "Email", "StartTime", "SessionId", "FullName")
            page = [{k: a[k] for k in base if k in a} for a in page]
        elif wanted["details"] == "Counts":
            page = []  # ASSUMPTION: "Counts" answers the totals with an empty attendee list
        if self.attendee_casing == "camel":
            page = [{k[:1].lower() + k[1:]: v for k, v in a.items()} for a in page]
        types = [a["AttendeeType"] for a in everyone]
        values = {
            "total": len(everyone),
            "hostCount": types.count("Host"),
            "moderatorCount": types.count("Moderator"),
            "attendeeCount": types.count("Attendee") + types.count("AccountAdmin"),
            "attendees": page,
            "status": "Active",  # ASSUMPTION: aggregation is always running ("Initiated" never)
        }
        body = shaped(self.dataset.fixtures["realtime_attendees"], values)
        served = len(page) if wanted["details"] != "Counts" else len(everyone)
        return SandboxResponse.json(
            200, self._finish_page(body, scroll, served, len(everyone), now)
        )

    def _status(self, webcast: Webcast) -> dict[str, Any]:
        status = self.dataset.status(webcast)
        if self.field_names == "js_client":
            status = _renamed(status, "title", "eventTitle")
        return status

    def _comments(self, request: SandboxRequest, webcast: Webcast, now: float) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _error(400, "BadRequest", "runNumber must be an integer.")
        size_values = request.query.get("size") or [str(COMMENTS_DEFAULT_SIZE)]
        size = int(size_values[-1]) if size_values[-1].isdigit() else COMMENTS_DEFAULT_SIZE
        comments = self.dataset.comments(webcast, run)
        if self.comments_paging != "scroll":
            # The documented bare array: the first `size` comments; a scrollId is ignored.
            return SandboxResponse.json(200, comments[:size])
        size = min(size, self.comments_max_size or size)
        scroll_id = (request.query.get("scrollId") or [""])[-1]
        if scroll_id:
            try:
                scroll = self._take_scroll(scroll_id, "comments", webcast, now)
            except LookupError:
                # Documented: 400 "Invalid scroll id error" (no body documented).
                return _error(400, "InvalidScrollId", "The scrollId is invalid or has expired.")
        else:
            scroll = _Scroll("comments", webcast.id, run, 0, now)
        page = comments[scroll.offset : scroll.offset + size]
        body = {"totalComments": len(comments), "scrollId": None, "comments": page}
        return SandboxResponse.json(
            200, self._finish_page(body, scroll, len(page), len(comments), now)
        )

    def _registrations(
        self, request: SandboxRequest, webcast: Webcast, now: float
    ) -> SandboxResponse:
        """Guest registrations: `size` per page (default 10), forward-only scrollId, no total."""
        if webcast.listing_type != "Public":
            return self._registrations_refused(webcast)
        size_values = request.query.get("size") or [str(REGISTRATIONS_DEFAULT_SIZE)]
        if not size_values[-1].isdigit() or int(size_values[-1]) < 1:
            return _error(400, "BadRequest", "size must be a positive integer.")
        size = min(int(size_values[-1]), self.registrations_max_size)
        scroll_id = (request.query.get("scrollId") or [""])[-1]
        if scroll_id:
            try:
                scroll = self._take_scroll(scroll_id, "registrations", webcast, now)
            except LookupError:
                # ASSUMPTION: the {code, detail} 400 of the other scrolls.
                return _error(400, "ScrollExpired", "The scrollId is invalid or has expired.")
        else:
            scroll = _Scroll("registrations", webcast.id, 0, 0, now)
        guests = self.dataset.registrations(webcast)
        page = guests[scroll.offset : scroll.offset + size]
        body = {"scrollId": None, "guestUsers": page}
        return SandboxResponse.json(
            200, self._finish_page(body, scroll, len(page), len(guests), now, counted=False)
        )

    def _registrations_refused(self, webcast: Webcast) -> SandboxResponse:
        """What a webcast that is not Public answers (undocumented: registrations_non_public)."""
        variant = self.registrations_non_public
        if variant == "empty":
            return SandboxResponse.json(200, {"scrollId": None, "guestUsers": []})
        if variant == "forbidden":
            return _error(403, "Forbidden", "Registrations are for Public webcasts only.")
        if variant == "not_found":
            return _error(404, "NotFound", "Not found.")
        return _error(400, "WebcastNotPublic", f"Webcast is {webcast.listing_type}, not Public.")

    def _poll_results(
        self, request: SandboxRequest, webcast: Webcast, now: float
    ) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _error(400, "BadRequest", "runNumber must be an integer.")
        if not webcast.completed or not webcast.runs.get(run):
            # A run that never happened answers 200 with an EMPTY body, not JSON (V2's
            # "workaround for event that never happened returning blank response").
            # ASSUMPTION: the same for runs that do not exist and webcasts not completed.
            return SandboxResponse(200, b"", {"Content-Type": "application/json"})
        return SandboxResponse.json(200, {"polls": self.dataset.polls(webcast, run)})

    def _questions(self, request: SandboxRequest, webcast: Webcast, now: float) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _error(400, "BadRequest", "runNumber must be an integer.")
        return SandboxResponse.json(200, self.dataset.questions(webcast, run))

    def _reactions(self, request: SandboxRequest, webcast: Webcast, now: float) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _error(400, "BadRequest", "runNumber must be an integer.")
        return SandboxResponse.json(200, self.dataset.reactions(webcast, run))


def _new_realtime_scroll(
    search: dict[str, Any], webcast: Webcast, now: float
) -> _Scroll | SandboxResponse:
    """The scroll a first real-time attendees request opens, or its 400."""
    if not webcast.live:
        # ASSUMPTION: real-time attendees exist only while a webcast runs.
        return _error(400, "WebcastNotRunning", f"Webcast status is {webcast.status}.")
    count = search.get("count", REALTIME_DEFAULT_COUNT)
    if not isinstance(count, int) or count < 1:
        return _error(400, "BadRequest", "count must be an integer from 1 to 500.")
    request_values = {
        # ASSUMPTION: a count above the documented maximum of 500 is clamped.
        "count": min(count, REALTIME_MAX_COUNT),
        "details": str(search.get("attendeedetails") or "Base"),
        "status": str(search.get("status") or "All"),
    }
    run = search.get("runnumber") or 0
    if not isinstance(run, int) or run < 0:
        return _error(400, "BadRequest", "runNumber must be an integer >= 0.")
    scroll = _Scroll("realtime", webcast.id, run, 0, now)
    scroll.request = request_values
    return scroll


def _renamed(row: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """``row`` with key ``old`` named ``new``, in the same place."""
    return {new if key == old else key: value for key, value in row.items()}


def _js_client_listing(row: dict[str, Any]) -> dict[str, Any]:
    """A list item as Vbrick's JS client types it (v0.25.1): categories' ``fullpath`` and
    three more keys."""
    row = dict(row)
    row["categories"] = [_renamed(c, "fullPath", "fullpath") for c in row["categories"] or []]
    row["eventAdmin"] = {"userId": row["id"][:8], "name": "Ada Lovelace", "userName": "ada"}
    row["autoAssociateVod"] = False
    row["redirectVod"] = False
    return row


def _dripped(body: bytes, pause: float) -> Iterator[bytes]:
    """``body`` one byte at a time, ``pause`` seconds apart (streamed, chunked)."""
    for index in range(len(body)):
        time.sleep(pause)
        yield body[index : index + 1]


def _run_number(query: dict[str, list[str]]) -> int | None:
    """runNumber of a report request: documented default 0; None when not an integer."""
    raw = (query.get("runNumber") or ["0"])[-1]
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _error(status: int, code: str, detail: str) -> SandboxResponse:
    # The documented serverErrorResponse shape; ASSUMPTION: 4xx errors use it too.
    return SandboxResponse.json(status, {"code": code, "detail": detail})


def _bad_report(description: str) -> SandboxResponse:
    """The documented post-event-report 400 (postEventSessionsBadRequest)."""
    return SandboxResponse.json(
        400, {"sessions": [], "totalSessions": 0, "errorDescription": description}
    )


def start_rev_sandbox(
    dataset: RevDataset | None = None,
    faults: FaultConfig | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    clock: Callable[[], float] | None = None,
) -> tuple[SandboxServer, RevAPI]:
    """Start a Rev sandbox in-process (background thread); returns (server, api)."""
    api = RevAPI(dataset, clock=clock)
    server = SandboxServer(api, host=host, port=port, faults=faults).start()
    return server, api
