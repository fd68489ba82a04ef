"""Routes of the Cast Analytics API: URL patterns, authorization, pagination."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from ..faults import FaultConfig
from ..server import SandboxRequest, SandboxResponse, SandboxServer, json_bytes
from .common import EVENT_TYPES
from .dataset import CastDataset

#: Route names of ``_match``.
ROUTES = ("campaigns", "cross", "analytics", "analytics_events")
#: Envelope variants of ``CastAPI.envelope_variant``.
ENVELOPE_VARIANTS = ("pascal_case", "bare_list", "null_for_empty")


def _match(path: str) -> tuple[str, str, str, str] | None:
    """(route, org slug, cast id, generation id or "") of a URL path; None for a 404.

    Routes: "campaigns", "cross", "analytics", "analytics_events".
    """
    segments = path.split("/")
    # ["", "designer", slug, "api", "cast", cast_id, *rest]
    if (
        len(segments) < 7
        or segments[0]
        or segments[1] != "designer"
        or not segments[2]
        or segments[3] != "api"
        or segments[4] != "cast"
    ):
        return None
    cast_text = segments[5]
    rest = segments[6:]
    # ASSUMPTION: strict URL patterns like Django's: int cast id, no trailing slash, no empty
    # segments.
    if not (cast_text.isascii() and cast_text.isdigit()):
        return None
    if rest == ["generation"]:
        return "campaigns", segments[2], cast_text, ""
    if rest == ["cross_campaign_analytics_summary"]:
        return "cross", segments[2], cast_text, ""
    if (
        len(rest) == 3
        and rest[0] == "generation"
        and rest[1]
        and rest[2] in ("analytics", "analytics_events")
    ):
        return rest[2], segments[2], cast_text, rest[1]
    return None


def _detail(status: int, detail: str) -> SandboxResponse:
    return SandboxResponse.json(status, {"detail": detail})


_NOT_FOUND = b'{"detail":"Not found."}'


def _not_found() -> SandboxResponse:
    return SandboxResponse(404, _NOT_FOUND)


class CastAPI:
    """Routes ``/designer/{org_slug}/api/cast/{cast_id}/...`` requests to a :class:`CastDataset`.

    Check order (Django/DRF-like): URL shape (404) -> Authorization (401) -> method (405) ->
    org/cast/generation lookup (404) -> query validation (400).

    Runtime switches:
      * ``event_order``: "newest_first" (documented sample order) or "shuffled" (a seeded, fixed
        permutation).
      * ``gone_generations``: generate_groups still listed but whose analytics/analytics_events 404.
      * ``max_page_size``: None = no cap (none is documented); else page_size is clamped to it
        silently
        (DRF max_page_size behaviour) and the envelope echoes the effective size (see
        ``page_size_echo`` and ``cap_offsets_from`` for other servers).
      * ``accept_campaign_id``: also accept the integer campaign ``id`` as {generation_id}
        (default False: the documented example uses the generate_group string).

    Vendor behaviours beyond the documented API, each off by default (see ``__init__``
    for what each one does): ``page_size_echo``, ``cap_offsets_from``, ``count_skew``,
    ``envelope_variant``, ``error_with_200`` (+ ``_routes``, ``_times``), ``numbers_as_text``,
    ``repeat_campaigns``, ``drip_routes`` (+ ``drip_seconds``), ``delete_while_paging``,
    ``stuck_from_page``.
    """

    def __init__(self, dataset: CastDataset | None = None) -> None:
        self.dataset = dataset if dataset is not None else CastDataset()
        self.event_order = "newest_first"
        self.gone_generations: set[str] = set()
        self.max_page_size: int | None = None
        self.accept_campaign_id = False
        # ASSUMPTION (all of the switches below): the docs are silent on each; they model what
        # a plausible server does, so clients can be tested against it. All off by default.
        # With max_page_size: what the envelope's page_size says ("served": the capped size,
        # DRF; "requested": the size asked for; "absent": no page_size key) ...
        self.page_size_echo = "served"
        # ... and which size the page offset is computed from ("served": (page-1) * capped
        # size, DRF; "requested": (page-1) * requested size, rows past the cap in each
        # requested page are only reachable with a smaller page_size).
        self.cap_offsets_from = "served"
        # Added to the reported count: negative understates the total, positive overstates it.
        self.count_skew = 0
        # None, or one of ENVELOPE_VARIANTS: "pascal_case" (Count/Page/PageSize/Results),
        # "bare_list" (analytics_events answers the whole partition as a bare JSON array,
        # paging ignored, as DRF without a paginator), "null_for_empty" (null where an empty
        # list belongs: an empty page's results, an empty campaign list).
        self.envelope_variant: str | None = None
        # A body (e.g. {"detail": "Invalid token."}) answered with 200 instead of the data, on
        # these routes, this many times (None: every time).
        self.error_with_200: Any = None
        self.error_with_200_routes: set[str] = set(ROUTES)
        self.error_with_200_times: int | None = None
        # Integers of campaigns, analytics summaries and the cross-campaign summary as text.
        self.numbers_as_text = False
        # The first N campaigns of each list are listed twice (again at the end of the list).
        self.repeat_campaigns = 0
        # Responses of these routes are sent one byte every drip_seconds (chunked).
        self.drip_routes: set[str] = set()
        self.drip_seconds = 1.0
        # (page, n): once page `page` of an events partition has been served (the first
        # time, per partition), its n newest events are deleted, as a user deleting
        # contacts would. Pages are offsets into the live list (as DRF pages a queryset),
        # so the events after them move n places towards the first page.
        self.delete_while_paging: tuple[int, int] | None = None
        #: Events deleted by delete_while_paging, by partition.
        self.deleted_while_paging: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
        # Every events page from this number on answers the page before it again (a cache
        # in front of the API keyed without the query string, say).
        self.stuck_from_page: int | None = None
        # (cast, gid, etype, order) -> (source dataset list, ordered list, encoded events)
        self._page_cache: dict[tuple, tuple[list, list[dict[str, Any]], list[bytes | None]]] = {}
        # (cast, gid) -> (analytics dict it was built from, encoded body)
        self._analytics_cache: dict[tuple[int, str], tuple[dict[str, Any], bytes]] = {}

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        matched = _match(request.path)
        if matched is None:
            return _not_found()
        route, org_slug, cast_text, generation_id = matched
        dataset = self.dataset
        # Exact, verbatim comparison: no "Bearer"/"Token" prefix, no URL-decoding.
        # ASSUMPTION (DRF-style, inferred): missing or wrong key -> 401
        # {"detail": "Invalid token."}.
        if request.headers.get("Authorization") != dataset.api_key:
            return _detail(401, "Invalid token.")
        if request.method not in ("GET", "HEAD"):
            return _detail(405, f'Method "{request.method}" not allowed.')
        if unquote(org_slug) != dataset.org_slug or not dataset.has_cast(cast_text):
            return _not_found()
        cast_id = int(cast_text)
        response = self._route(request, route, cast_id, generation_id)
        if response.status == 200:
            response = self._misbehave(route, response)
        return response

    def _route(
        self, request: SandboxRequest, route: str, cast_id: int, generation_id: str
    ) -> SandboxResponse:
        dataset = self.dataset
        if route == "campaigns":
            return SandboxResponse.json(200, self._campaign_list(cast_id))
        if route == "cross":
            # ASSUMPTION: the docs do not say what show_totals changes; the documented shape is
            # served for true, false or any other value.
            return SandboxResponse.json(200, dataset.cross_campaign_summary(cast_id))
        resolved = self._resolve_generation(cast_id, unquote(generation_id))
        if resolved is None or resolved in self.gone_generations:
            return _not_found()
        if route == "analytics":
            return SandboxResponse(200, self._analytics_body(cast_id, resolved))
        return self._events_page(request, cast_id, resolved)

    def _campaign_list(self, cast_id: int) -> list[dict[str, Any]] | None:
        campaigns = self.dataset.campaigns(cast_id)
        campaigns += campaigns[: self.repeat_campaigns]
        if not campaigns and self.envelope_variant == "null_for_empty":
            return None
        return campaigns

    def _misbehave(self, route: str, response: SandboxResponse) -> SandboxResponse:
        """The switched-on vendor behaviours that change a 200 answer as a whole."""
        if route in self.error_with_200_routes and self._take_error_with_200():
            response = SandboxResponse.json(200, self.error_with_200)
        elif self.numbers_as_text and route != "analytics_events":
            body = json.loads(response.body)  # type: ignore[arg-type]
            response = SandboxResponse.json(200, _numbers_as_text(route, body))
        if route in self.drip_routes:
            response.body = _drip(response.body, self.drip_seconds)  # type: ignore[arg-type]
        return response

    def _take_error_with_200(self) -> bool:
        if self.error_with_200 is None or self.error_with_200_times == 0:
            return False
        if self.error_with_200_times is not None:
            self.error_with_200_times -= 1
        return True

    def _analytics_body(self, cast_id: int, generation_id: str) -> bytes:
        """The encoded /analytics object, cached until the dataset recomputes it."""
        analytics = self.dataset.analytics(cast_id, generation_id)
        key = (cast_id, generation_id)
        hit = self._analytics_cache.get(key)
        if hit is None or hit[0] is not analytics:
            hit = self._analytics_cache[key] = (analytics, json_bytes(analytics))
        return hit[1]

    def _resolve_generation(self, cast_id: int, gid: str) -> str | None:
        dataset = self.dataset
        if dataset.has_generation(cast_id, gid):
            return gid
        if self.accept_campaign_id and gid.isascii() and gid.isdigit():
            for campaign in dataset.campaigns(cast_id):
                if campaign["id"] == int(gid):
                    return campaign["generate_group"]
        return None

    def _events_page(self, request: SandboxRequest, cast_id: int, gid: str) -> SandboxResponse:
        query = request.query
        etype = query.get("event_type", [""])[-1]  # last value wins, like Django's QueryDict.get
        if not etype:
            return _detail(400, "event_type is required: one of " + ", ".join(EVENT_TYPES) + ".")
        if etype not in EVENT_TYPES:
            return _detail(
                400,
                f"Invalid event_type {etype!r}: expected one of " + ", ".join(EVENT_TYPES) + ".",
            )
        page = _positive_int(query, "page", 1)
        if isinstance(page, SandboxResponse):
            return page
        served_page = page
        if self.stuck_from_page is not None and page >= self.stuck_from_page:
            page = self.stuck_from_page - 1
        size = _positive_int(query, "page_size", 50)  # documented default 50
        if isinstance(size, SandboxResponse):
            return size
        requested = size
        if self.max_page_size is not None:
            size = min(size, self.max_page_size)
        # One snapshot of the partition: count and results always agree.
        events, encoded = self._ordered(cast_id, gid, etype)
        if self.envelope_variant == "bare_list":
            return SandboxResponse(200, b"[" + b",".join(self._encoded(events, encoded)) + b"]")
        start = (page - 1) * (requested if self.cap_offsets_from == "requested" else size)
        end = min(start + size, len(events))
        # ASSUMPTION: a page past the end answers 200 with empty results (documented envelope).
        # DRF's PageNumberPagination would answer 404 "Invalid page."; the docs are silent.
        # Each event is encoded once (json_bytes) and cached: the body is byte-identical to
        # json_bytes(envelope), ~50x faster.
        rows = self._encoded(events, encoded, start, end)
        self._delete_while_paging(cast_id, gid, etype, served_page)
        if (
            self.envelope_variant is None
            and self.page_size_echo == "served"
            and not self.count_skew
        ):
            head = f'{{"count":{len(events)},"page":{page},"page_size":{size},"results":['
            return SandboxResponse(200, head.encode() + b",".join(rows) + b"]}")
        return SandboxResponse(200, self._envelope(len(events), page, size, requested, rows))

    def _delete_while_paging(self, cast_id: int, gid: str, etype: str, page: int) -> None:
        if self.delete_while_paging is None or page != self.delete_while_paging[0]:
            return
        key = (cast_id, gid, etype)
        if key not in self.deleted_while_paging:
            count = self.delete_while_paging[1]
            self.deleted_while_paging[key] = self.dataset.delete_events(*key, count)

    @staticmethod
    def _encoded(
        events: list[dict[str, Any]], encoded: list[bytes | None], start: int = 0, end: int = -1
    ) -> list[bytes]:
        """The encoded events[start:end], each encoded once and cached."""
        end = len(events) if end < 0 else end
        for index in range(start, end):
            if encoded[index] is None:
                encoded[index] = json_bytes(events[index])
        return encoded[start:end]  # type: ignore[return-value]

    def _envelope(
        self, count: int, page: int, size: int, requested: int, rows: list[bytes]
    ) -> bytes:
        """An events page as the switched-on envelope behaviours shape it."""
        keys = ("count", "page", "page_size", "results")
        if self.envelope_variant == "pascal_case":
            keys = ("Count", "Page", "PageSize", "Results")
        fields: dict[str, Any] = {keys[0]: count + self.count_skew, keys[1]: page}
        if self.page_size_echo != "absent":
            fields[keys[2]] = requested if self.page_size_echo == "requested" else size
        results = b"[" + b",".join(rows) + b"]"
        if not rows and self.envelope_variant == "null_for_empty":
            results = b"null"
        head = json_bytes(fields)[:-1] + f',"{keys[3]}":'.encode()
        return head + results + b"}"

    def clear_cache(self) -> None:
        """Forget cached serialisations. Only needed after mutating event dicts in place
        (CastDataset.add_events needs no call: it replaces the partition list)."""
        self._page_cache.clear()
        self._analytics_cache.clear()

    def _ordered(
        self, cast_id: int, gid: str, etype: str
    ) -> tuple[list[dict[str, Any]], list[bytes | None]]:
        events = self.dataset.events(cast_id, gid, etype)
        order = self.event_order
        if order not in ("newest_first", "shuffled"):
            raise ValueError(f"unknown event_order {order!r}")
        key = (cast_id, gid, etype, order)
        cached = self._page_cache.get(key)
        if cached is not None and cached[0] is events:
            return cached[1], cached[2]
        ordered = events
        if order == "shuffled":
            ordered = list(events)
            random.Random(f"{self.dataset.seed}:shuffle:{cast_id}:{gid}:{etype}").shuffle(ordered)
        encoded: list[bytes | None] = [None] * len(ordered)
        self._page_cache[key] = (events, ordered, encoded)
        return ordered, encoded


def _numbers_as_text(route: str, body: Any) -> Any:
    """The integers a body holds where the schema wants integers, as text ("3")."""
    if route == "campaigns":
        return [_ints_as_text(campaign) for campaign in body or []]
    if route == "analytics":
        return {**body, "summary": _ints_as_text(body["summary"])}
    return {gid: _ints_as_text(counters) for gid, counters in body.items()}


def _ints_as_text(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        for key, value in values.items()
    }


def _drip(body: bytes, seconds: float) -> Iterator[bytes]:
    """``body`` one byte at a time, ``seconds`` apart: a server that answers very slowly."""
    for index in range(len(body)):
        yield body[index : index + 1]
        time.sleep(seconds)


def _positive_int(query: dict[str, list[str]], name: str, default: int) -> int | SandboxResponse:
    values = query.get(name)
    if not values:
        return default
    raw = values[-1]
    # ASSUMPTION: non-integer or < 1 -> 400 {"detail": ...} (the docs do not describe invalid
    # values).
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        return _detail(400, f"Invalid {name} {raw!r}: must be an integer >= 1.")
    return int(raw)


def start_cast_sandbox(
    dataset: CastDataset | None = None,
    faults: FaultConfig | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
) -> tuple[SandboxServer, CastAPI]:
    """Start a Cast sandbox in-process (background thread).

    Returns (server, api); call server.stop() (or use the server as a context manager).
    """
    api = CastAPI(dataset)
    server = SandboxServer(api, host=host, port=port, faults=faults).start()
    return server, api
