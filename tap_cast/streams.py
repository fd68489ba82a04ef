"""Cast.app streams: one class per documented endpoint, plus the timeline as rows.

Vendor field names are mapped to warehouse-safe snake_case here and nowhere else.
Cast sends timestamps without an offset (``2022-12-20T22:54:33``); the API does not say
which zone they are in, and we read them as UTC (docs/tap-cast.md, "Known unknowns of the
Cast API").
"""

from __future__ import annotations

import datetime as dt
import itertools
import typing as t
from dataclasses import dataclass, field
from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_cast.client import (
    CastPage,
    CastPagePaginator,
    CastStream,
    PageRequest,
    read_page,
    unique_cast_ids,
)
from tap_common.conform import text_value
from tap_common.errors import VendorDataError, partition_label
from tap_common.reconcile import PartitionRead, partition_read
from tap_common.records import parse_timestamp, split_unmapped, surrogate_key, utc_iso
from tap_common.schema import integer_property, unmapped_fields_property
from tap_common.sdk_internals import BookmarkOncePerPartition

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

EVENT_TYPES = ("delivered", "view", "play", "action", "feedback")
#: Child-context key that carries campaign_analytics' timeline to campaign_timeline.
TIMELINE = "timeline"

# Vendor name -> column, per endpoint.
CAMPAIGN_COLUMNS = {
    "id": "id",
    "org_id": "org_id",
    "cast_id": "cast_id",
    "name": "name",
    "generate_group": "generation_id",
    "condition_data": "condition_data",
    "PROCESSING": "processing_count",
    "FINISHED": "finished_count",
    "FAILED": "failed_count",
    "SKIPPED": "skipped_count",
    "TOTAL": "total_count",
    "error_message": "error_message",
    "status": "status",
    "is_archived": "is_archived",
    "created_at": "created_at",
    "delivery_reminders": "delivery_reminders",
    "delivery_date": "delivery_date",
    "scheduled_delivery_id": "scheduled_delivery_id",
    "scheduled_delivery_date": "scheduled_delivery_date",
    "schedule_delivery_occurred": "schedule_delivery_occurred",
}
CAMPAIGN_TIMESTAMPS = ("created_at", "delivery_date", "scheduled_delivery_date")

SUMMARY_COUNTERS = tuple(
    f"{kind}_{event}"
    for kind in ("unique", "total")
    for event in ("view", "play", "action", "feedback")
)
ANALYTICS_OBJECTS = (
    "timeline",
    "scenes_watched",
    "actions_clicked",
    "feedbacks",
    "user_agents",
    "languages",
)

EVENT_FIELDS = (
    "event_at",
    "event_type",
    "ip_address",
    "contact_id",
    "contact_email",
    "contact_name",
    "contact_phone",
    "device_type",
    "os_name",
    "browser_name",
    "status",
)
EVENT_FIELD_SET = frozenset(EVENT_FIELDS)
# The surrogate key hashes what identifies an event, not the contact's mutable details
# (email, name, phone, status), so a contact edit does not duplicate past events.
EVENT_KEY_FIELDS = (
    "event_at",
    "contact_id",
    "ip_address",
    "device_type",
    "os_name",
    "browser_name",
)

SUMMARY_COLUMNS = {
    "loadTime": "load_time",  # number of views
    "play": "play",
    "click.action": "click_action",
    "feedback": "feedback",
    "email_delivered": "email_delivered",
}

UNMAPPED = unmapped_fields_property()
# A JSON array column: its items undeclared, so loaders make it one JSON column (jsonb in
# PostgreSQL; with declared items target-postgres makes jsonb[], an array of JSON values).
JSON_ARRAY = th.CustomType({"type": ["array"]})


class CampaignsStream(CastStream):
    """GET /cast/{cast_id}/generation: the campaigns (generations) of each configured cast."""

    name = "campaigns"
    path = "/cast/{cast_id}/generation"
    primary_keys = ("id",)
    replication_key = None

    schema = th.PropertiesList(
        th.Property("id", th.IntegerType(), required=True, description="Campaign id."),
        integer_property("org_id"),
        th.Property("cast_id", th.IntegerType(), required=True, description="Cast (project) id."),
        th.Property("name", th.StringType()),
        th.Property(
            "generation_id",
            th.StringType(),
            required=True,
            description="The vendor's generate_group, used as generation_id by the analytics "
            "endpoints.",
        ),
        th.Property(
            "condition_data",
            th.ObjectType(
                th.Property("conditions", JSON_ARRAY),
                th.Property("how", th.StringType()),
                th.Property("type", th.StringType()),
            ),
            description="Delivery conditions; the documented keys, other keys kept too.",
        ),
        integer_property("processing_count", "Vendor PROCESSING."),
        integer_property("finished_count", "Vendor FINISHED."),
        integer_property("failed_count", "Vendor FAILED."),
        integer_property("skipped_count", "Vendor SKIPPED."),
        integer_property("total_count", "Vendor TOTAL."),
        th.Property("error_message", th.StringType()),
        th.Property("status", th.StringType()),
        th.Property("is_archived", th.BooleanType()),
        th.Property("created_at", th.DateTimeType()),
        th.Property("delivery_reminders", JSON_ARRAY),
        th.Property("delivery_date", th.DateTimeType()),
        th.Property("scheduled_delivery_id", th.StringType()),
        th.Property("scheduled_delivery_date", th.DateTimeType()),
        th.Property("schedule_delivery_occurred", th.BooleanType()),
        UNMAPPED,
    ).to_dict()

    @property
    @override
    def partitions(self) -> list[dict]:
        return [{"cast_id": cast_id} for cast_id in unique_cast_ids(self.config)]

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        campaigns = self.campaigns_in(body)
        if not campaigns:
            self.logger.info(
                "%s: cast %s lists no campaigns; its campaign streams have nothing to read.",
                self.name,
                self.listed_cast_id,
            )
        return self.listed_once(campaigns)

    @property
    def listed_cast_id(self) -> t.Any:
        """The cast whose campaign list this thread is reading (for messages)."""
        return (self.partition or {}).get("cast_id")

    @staticmethod
    def campaigns_in(body: t.Any) -> list:
        """The documented bare array; null, or the paging envelope holding every campaign,
        say the same without doubt. Anything else fails the cast's partition."""
        if body is None:
            return []
        if isinstance(body, dict) and "results" in {str(key).lower() for key in body}:
            page = read_page(body)
            if page.count is not None and page.count != len(page.results):
                msg = (
                    f"the campaign list came in pages (count={page.count}, "
                    f"{len(page.results)} on this page); this endpoint is documented unpaged"
                )
                raise VendorDataError(msg)
            body = page.results
        if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
            keys = f" with keys {sorted(body)[:10]}" if isinstance(body, dict) else ""
            msg = f"expected a JSON array of campaign objects, got {type(body).__name__}{keys}"
            raise VendorDataError(msg)
        return body

    def listed_once(self, campaigns: list[dict]) -> list[dict]:
        """Each campaign once: a campaign (id or generation id) listed again is skipped."""
        seen: set[tuple[str, t.Any]] = set()
        once = []
        for campaign in campaigns:
            keys = {("id", campaign.get("id")), ("generate_group", campaign.get("generate_group"))}
            if keys & seen:
                self.logger.warning(
                    "%s: cast %s lists campaign id=%s generation_id=%s more than once; it is "
                    "read once.",
                    self.name,
                    self.listed_cast_id,
                    campaign.get("id"),
                    campaign.get("generate_group"),
                )
                continue
            seen |= keys
            once.append(campaign)
        return once

    @override
    def to_record(self, row: dict, context: Context | None) -> dict:
        mapped, unmapped = split_unmapped(row, CAMPAIGN_COLUMNS)
        record = {CAMPAIGN_COLUMNS[k]: v for k, v in mapped.items()}
        record.setdefault("cast_id", context["cast_id"] if context else None)
        for name in CAMPAIGN_TIMESTAMPS:
            record[name] = utc_iso(record.get(name), field=name)
        record["unmapped_fields"] = unmapped
        return record

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {
            "cast_id": record["cast_id"],
            "generation_id": record["generation_id"],
            "campaign_id": record["id"],
        }

    def campaign_list(self, cast_id: int) -> list[dict]:
        """The raw campaign list of a cast, requested once per run for other streams' plans.

        analytics_events takes its partitions from it, and campaign_analytics the contexts
        it fetches ahead; this stream still emits what its own request returns.
        """
        lists = self.run.campaign_lists
        if cast_id not in lists:
            lists[cast_id] = list(self.request_records({"cast_id": cast_id}))
        return lists[cast_id]

    def child_contexts(self) -> list[dict]:
        """The contexts this stream will give its children, from the campaign lists.

        Records are mapped and conformed as the sync does (ids sent as text become
        numbers), so these contexts equal the ones the SDK builds. Stops at the first
        campaign that does not map: the run stops there too.
        """
        contexts: list[dict] = []
        for cast_id in unique_cast_ids(self.config):
            for row in self.campaign_list(cast_id):
                try:
                    record = self.map_row(dict(row), {"cast_id": cast_id})
                except VendorDataError:
                    return contexts
                if record is not None:
                    contexts.append(self.get_child_context(record, None))
        return contexts


class CampaignAnalyticsStream(CastStream):
    """GET .../generation/{generation_id}/analytics: one row per campaign."""

    name = "campaign_analytics"
    path = "/cast/{cast_id}/generation/{generation_id}/analytics"
    primary_keys = ("cast_id", "generation_id")
    replication_key = None
    parent_stream_type = CampaignsStream
    vanished_parent = "campaign"
    state_partitioning_keys: t.ClassVar[list[str]] = []  # full table: no per-campaign state
    prefetch_partitions = True

    schema = th.PropertiesList(
        th.Property("cast_id", th.IntegerType(), required=True),
        th.Property("generation_id", th.StringType(), required=True),
        integer_property("campaign_id"),
        *(integer_property(name) for name in SUMMARY_COUNTERS),
        th.Property("timeline", th.ObjectType(), description="Vendor timeline, verbatim."),
        th.Property("scenes_watched", JSON_ARRAY),
        th.Property("actions_clicked", JSON_ARRAY),
        th.Property("feedbacks", JSON_ARRAY),
        th.Property("user_agents", th.ObjectType()),
        th.Property("languages", th.ObjectType()),
        UNMAPPED,
    ).to_dict()

    @override
    def prefetch_contexts(self) -> list[dict]:
        return campaigns_stream(self).child_contexts()

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        if isinstance(body, list) and len(body) == 1:
            body = body[0]  # the one object, wrapped in a list
        if not isinstance(body, dict):
            msg = f"expected a JSON object of analytics, got {type(body).__name__}"
            raise VendorDataError(msg)
        summary = body.get("summary")
        if not isinstance(summary, dict) or not summary.keys() & set(SUMMARY_COUNTERS):
            # A row of empty figures would overwrite the campaign's good ones downstream.
            msg = (
                "the analytics object holds no summary counters "
                f"(keys {sorted(body)[:10]}); the partition stops rather than land empty figures"
            )
            raise VendorDataError(msg)
        return [body]

    @override
    def to_record(self, row: dict, context: Context | None) -> dict:
        assert context is not None
        mapped, unmapped = split_unmapped(row, ("summary", *ANALYTICS_OBJECTS))
        summary, unmapped_summary = split_unmapped(mapped.get("summary") or {}, SUMMARY_COUNTERS)
        if unmapped_summary:
            unmapped = {**(unmapped or {}), "summary": unmapped_summary}
        return {
            "cast_id": context["cast_id"],
            "generation_id": context["generation_id"],
            "campaign_id": context.get("campaign_id"),
            **{name: summary.get(name) for name in SUMMARY_COUNTERS},
            **{name: mapped.get(name) for name in ANALYTICS_OBJECTS},
            "unmapped_fields": unmapped,
        }

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        # The timeline rows come from this same response: they ride in the child context
        # (campaign_timeline keeps them out of its frozen context), no second request.
        return {
            "cast_id": record["cast_id"],
            "generation_id": record["generation_id"],
            TIMELINE: record["timeline"],
        }


class CampaignTimelineStream(CastStream):
    """The analytics timeline buckets as rows, so engagement charts need no JSON functions."""

    name = "campaign_timeline"
    path = "/cast/{cast_id}/generation/{generation_id}/analytics"
    primary_keys = ("cast_id", "generation_id", "event_type", "event_dt")
    replication_key = None
    parent_stream_type = CampaignAnalyticsStream
    state_partitioning_keys: t.ClassVar[list[str]] = []

    schema = th.PropertiesList(
        th.Property("cast_id", th.IntegerType(), required=True),
        th.Property("generation_id", th.StringType(), required=True),
        th.Property("event_type", th.StringType(), required=True),
        th.Property("event_dt", th.DateTimeType(), required=True, description="Bucket start."),
        integer_property("count", "Events in the bucket."),
        th.Property("frequency", th.StringType(), description="Bucket width, e.g. 1H."),
        UNMAPPED,
    ).to_dict()

    timeline: dict | None = None

    @override
    def preprocess_context(self, context: Context) -> Context:
        """Take the parent's timeline out of the context: the SDK freezes, logs and may
        store a context; it should hold ids only."""
        ids = dict(context)
        self.timeline = ids.pop(TIMELINE, None)
        return ids

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        timeline, self.timeline = self.timeline, None
        if not timeline:
            return
        for event_type, buckets in (timeline.get("items") or {}).items():
            for bucket in buckets or []:
                yield {"event_type": event_type, "frequency": timeline.get("frequency"), **bucket}

    @override
    def to_record(self, row: dict, context: Context | None) -> dict:
        assert context is not None
        mapped, unmapped = split_unmapped(row, ("event_type", "frequency", "event_dt", "count"))
        return {
            "cast_id": context["cast_id"],
            "generation_id": context["generation_id"],
            **mapped,
            "event_dt": utc_iso(mapped.get("event_dt"), field="event_dt"),
            "unmapped_fields": unmapped,
        }


class NewestFirstPaginator(CastPagePaginator):
    """Event pages, with an early stop once the pages reach events older than the bookmark.

    The API has no date filter and serves events newest first. We stop when a page's
    oldest event is older than ``since``, but only while every page read so far really
    was newest first (within the page and across the page boundary). Once a page breaks
    that order, the stream reads every page and filters on our side.
    """

    def __init__(self, stream: AnalyticsEventsStream, page_size: int, since: dt.datetime | None):
        super().__init__(stream, page_size)
        self.since = since
        self.ordered = True
        self.previous_oldest: dt.datetime | None = None

    @override
    def has_more(self, response: requests.Response) -> bool:
        if not super().has_more(response):
            return False
        if self.since is None:
            return True
        results = self.stream.parsed_body(response).results
        times = [parse_timestamp(event.get("event_at"), field="event_at") for event in results]
        page_ordered = all(a >= b for a, b in itertools.pairwise(times))
        if self.previous_oldest is not None and times[0] > self.previous_oldest:
            page_ordered = False
        if self.ordered and not page_ordered:
            self.ordered = False
            self.stream.logger.warning(
                "%s: events for %s are not newest first; reading every page instead of "
                "stopping at the bookmark.",
                self.stream.name,
                partition_label(self.stream.partition),
            )
        self.previous_oldest = times[-1]
        self.stopped_early = self.ordered and times[-1] < self.since
        return not self.stopped_early


@dataclass
class EventScan:
    """One partition's sync: where it starts, and which events it has seen.

    ``known_at_since`` are the keys already emitted at exactly the bookmark time (kept in
    the state), so a second run neither re-emits them nor loses a new event that shares
    that second.
    """

    since: dt.datetime | None
    known_at_since: set[str]
    #: The partition's passes, checked page by page and reconciled with Cast's count.
    read: PartitionRead
    seen: set[str] = field(default_factory=set)
    newest: dt.datetime | None = None
    keys_at_newest: set[str] = field(default_factory=set)
    #: The paginator of the partition's latest pass (set in the thread that requests it).
    paginator: NewestFirstPaginator | None = None

    def admit(self, key: str, event_at: dt.datetime) -> bool:
        """Whether to emit this event (already past the ``since`` filter)."""
        if key in self.seen:
            return False  # seen twice because the list shifted while we paged
        self.seen.add(key)
        if self.newest is None or event_at > self.newest:
            self.newest, self.keys_at_newest = event_at, {key}
        elif event_at == self.newest:
            self.keys_at_newest.add(key)
        return not (event_at == self.since and key in self.known_at_since)


class AnalyticsEventsStream(BookmarkOncePerPartition, CastStream):
    """GET .../analytics_events per campaign and event type, paged, incremental on event_at.

    Partitions are (cast_id, generation_id, event_type), read from the campaign lists, so
    each has its own bookmark. Events have no id: ``event_key`` hashes the partition and
    EVENT_KEY_FIELDS. Events at exactly the bookmark time are read again (>=) and only
    those not already emitted are emitted: see EventScan.
    """

    name = "analytics_events"
    path = "/cast/{cast_id}/generation/{generation_id}/analytics_events"
    primary_keys = ("event_key",)
    replication_key = "event_at"
    is_sorted = False  # newest first: the bookmark is committed when a partition completes
    vanished_parent = "campaign"
    # to_record emits exactly the schema's columns with their types (text_value), so the
    # SDK's generic per-field conformance, the largest CPU cost per event, is not needed.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    #: Partition state key holding the event keys at the bookmark time.
    BOOKMARK_KEYS = "bookmark_event_keys"

    schema = th.PropertiesList(
        th.Property(
            "event_key",
            th.StringType(),
            required=True,
            description="Surrogate key: hash of cast_id, generation_id, event_type, event_at, "
            "contact_id, ip_address, device_type, os_name, browser_name.",
        ),
        th.Property("cast_id", th.IntegerType(), required=True),
        th.Property("generation_id", th.StringType(), required=True),
        th.Property("event_type", th.StringType(), required=True),
        th.Property("event_at", th.DateTimeType(), required=True),
        th.Property("ip_address", th.StringType()),
        th.Property("contact_id", th.StringType()),
        th.Property("contact_email", th.StringType()),
        th.Property("contact_name", th.StringType()),
        th.Property("contact_phone", th.StringType()),
        th.Property("device_type", th.StringType()),
        th.Property("os_name", th.StringType()),
        th.Property("browser_name", th.StringType()),
        th.Property("status", th.StringType(), description="Contact status."),
        UNMAPPED,
    ).to_dict()

    prefetch_partitions = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.scans: dict[tuple, EventScan] = {}  # partitions prepared and not yet finished
        self._scan_context: Context | None = None
        self._scan: EventScan | None = None

    @cached_property
    @override
    def partitions(self) -> list[dict]:
        campaigns = campaigns_stream(self)
        event_types = self.config.get("event_types") or EVENT_TYPES
        return [
            {"cast_id": cast_id, "generation_id": generation_id, "event_type": kind}
            for cast_id in unique_cast_ids(self.config)
            for generation_id in generation_ids(campaigns.campaign_list(cast_id), cast_id)
            for kind in event_types
        ]

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        assert context is not None
        page = next_page_token or PageRequest(1, self.config["page_size"])
        return {"event_type": context["event_type"], "page": page.number, "page_size": page.size}

    @override
    def get_new_paginator(self) -> NewestFirstPaginator:  # type: ignore[override]
        scan = self.scans[scan_key(self.partition)]
        scan.paginator = NewestFirstPaginator(self, self.config["page_size"], scan.since)
        return scan.paginator

    @override
    def parse_body(self, response: requests.Response) -> CastPage:
        return read_page(super().parse_body(response))

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        """The page's events, checked first (a page repeated ends the pass, or stops the
        read when events are still missing: tap_common/reconcile.py)."""
        page = t.cast("CastPage", body)
        scan = self.scans[scan_key(self.partition)]
        asked = scan.paginator.current_value.number if scan.paginator else 1
        if not scan.read.page(page.results, page.count, where=f"page {asked}"):
            return []  # the same page again: the pass ends here, its events already read
        return page.results

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """The partition's events, read again when the pass cannot be trusted (the count
        moved while paging, or disagrees with the events read): tap_common/reconcile.py.

        Events read again are emitted once (EventScan.admit). Reads that disagree stop the
        run before the partition's bookmark moves.
        """
        scan = self.scans[scan_key(context)]
        while True:
            yield from super().request_records(context)
            paginator = scan.paginator
            if paginator is None or paginator.vanished:
                return
            if not scan.read.finish_pass(complete=not paginator.stopped_early):
                return

    @override
    def prepare_partition(self, context: Context | None) -> None:
        # Main thread, before the partition's requests start (possibly ahead of its turn).
        state = self.get_context_state(context)
        has_bookmark = state.get("replication_key_value") is not None
        self.scans[scan_key(context)] = EventScan(
            since=self.get_starting_timestamp(context),
            known_at_since=set(state.get(self.BOOKMARK_KEYS, [])) if has_bookmark else set(),
            read=partition_read(
                self,
                context,
                unit="events",
                total_name="count",
                # A server that ignores `page` answers its whole list (no count) each time.
                repeat_without_total_ends=True,
            ),
        )

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        if context is None:  # no partition at all: the configured casts list no campaigns
            self.logger.info("%s: the configured casts list no campaigns: no events.", self.name)
            return
        # The SDK writes STATE when the whole stream ends; commit the partitions finished so
        # far now, so a run that fails later resumes from them instead of from scratch.
        self.commit_state()
        yield from super().get_records(context)
        scan = self.scans.pop(scan_key(context))
        self._scan_context = None
        self.commit_partition_bookmark(context)
        if scan.newest is not None:
            self.get_context_state(context)[self.BOOKMARK_KEYS] = sorted(scan.keys_at_newest)

    def scan_of(self, context: Context) -> EventScan:
        """The scan of the partition being mapped (cached: one lookup per partition)."""
        scan = self._scan
        if context is not self._scan_context or scan is None:
            scan = self._scan = self.scans[scan_key(context)]
            self._scan_context = context
        return scan

    @override
    def to_record(self, row: dict, context: Context | None) -> dict | None:
        assert context is not None
        scan = self.scan_of(context)
        event_at = parse_timestamp(row.get("event_at"), field="event_at")
        if scan.since is not None and event_at < scan.since:
            return None  # older than the bookmark (or start_date)
        mapped, unmapped = split_unmapped(row, EVENT_FIELD_SET)
        record = {
            "cast_id": context["cast_id"],
            "generation_id": context["generation_id"],
            **mapped,
            "event_type": mapped.get("event_type") or context["event_type"],
            "event_at": event_at.astimezone(dt.timezone.utc).isoformat(),
            "unmapped_fields": unmapped,
        }
        if not _TEXT_TYPES.issuperset(map(type, mapped.values())) or (
            type(record["generation_id"]) is not str
        ):
            for name in TEXT_COLUMNS:
                value = record.get(name)
                if value is not None and type(value) is not str:
                    record[name] = text_value(value)
        record["event_key"] = event_key(record)
        return record if scan.admit(record["event_key"], event_at) else None


# Event columns typed as text; every other column is built by to_record itself.
TEXT_COLUMNS = ("generation_id", *(name for name in EVENT_FIELDS if name != "event_at"))
_TEXT_TYPES = frozenset((str, type(None)))


def generation_ids(campaigns: list[dict], cast_id: int) -> list[str]:
    """The generation ids of a raw campaign list (the analytics paths take them)."""
    ids = []
    for campaign in campaigns:
        generation_id = campaign.get("generate_group")
        if generation_id in (None, ""):
            msg = (
                f"stream 'campaigns' cast_id={cast_id}: campaign id={campaign.get('id')} has "
                "no generate_group, so its analytics cannot be requested"
            )
            raise VendorDataError(msg)
        ids.append(text_value(generation_id))
    return ids


def scan_key(context: Context | None) -> tuple:
    return tuple((context or {}).values())


def event_key(record: t.Mapping[str, t.Any]) -> str:
    """Deterministic surrogate key of one analytics event (see EVENT_KEY_FIELDS)."""
    parts = [record["cast_id"], record["generation_id"], record["event_type"]]
    parts += map(record.get, EVENT_KEY_FIELDS)
    return surrogate_key(parts)


def campaigns_stream(stream: CastStream) -> CampaignsStream:
    """The run's campaigns stream, whose campaign lists other streams plan from."""
    return t.cast("CampaignsStream", stream.run.streams["campaigns"])


class CrossCampaignSummaryStream(CastStream):
    """GET /cast/{cast_id}/cross_campaign_analytics_summary: counters per campaign."""

    name = "cross_campaign_summary"
    path = "/cast/{cast_id}/cross_campaign_analytics_summary"
    primary_keys = ("cast_id", "generation_id")
    replication_key = None

    schema = th.PropertiesList(
        th.Property("cast_id", th.IntegerType(), required=True),
        th.Property("generation_id", th.StringType(), required=True),
        integer_property("load_time", "Vendor loadTime: number of views."),
        integer_property("play", "Number of plays."),
        integer_property("click_action", "Vendor click.action: number of action clicks."),
        integer_property("feedback", "Number of feedbacks."),
        integer_property("email_delivered", "Number of emails delivered."),
        UNMAPPED,
    ).to_dict()

    @property
    @override
    def partitions(self) -> list[dict]:
        return [{"cast_id": cast_id} for cast_id in unique_cast_ids(self.config)]

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        return {"show_totals": "true"}  # the documented request

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        if not isinstance(body, dict):
            msg = f"expected a JSON object keyed by generation id, got {type(body).__name__}"
            raise VendorDataError(msg)
        if body and not any(isinstance(counters, dict) for counters in body.values()):
            msg = (
                f"the summary holds no campaign counters (keys {sorted(body)[:10]}); the "
                "partition stops rather than read it as no campaigns"
            )
            raise VendorDataError(msg)
        for generation_id, counters in body.items():
            if not isinstance(counters, dict):
                self.logger.warning(
                    "%s: key %r of cast %s holds %r, not a campaign's counters; skipped.",
                    self.name,
                    generation_id,
                    self.partition and self.partition.get("cast_id"),
                    counters,
                )
                continue
            yield {"generation_id": generation_id, "counters": counters}

    @override
    def to_record(self, row: dict, context: Context | None) -> dict:
        assert context is not None
        mapped, unmapped = split_unmapped(row["counters"], SUMMARY_COLUMNS)
        return {
            "cast_id": context["cast_id"],
            "generation_id": row["generation_id"],
            **{SUMMARY_COLUMNS[k]: v for k, v in mapped.items()},
            "unmapped_fields": unmapped,
        }
