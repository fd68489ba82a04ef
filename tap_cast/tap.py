"""tap-cast: settings and the list of streams."""

from __future__ import annotations

from singer_sdk import typing as th
from typing_extensions import override

from tap_cast import streams
from tap_cast.client import CastRun
from tap_common.tap import COMMON_SETTINGS, VendorTap, check_http_url


class TapCast(VendorTap[CastRun]):
    """Singer tap for the Cast.app Analytics API."""

    name = "tap-cast"
    stream_types = (
        streams.CampaignsStream,
        streams.CampaignAnalyticsStream,
        streams.CampaignTimelineStream,
        streams.AnalyticsEventsStream,
        streams.CrossCampaignSummaryStream,
    )

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType(min_length=1),
            required=True,
            secret=True,
            title="API key",
            description="Cast Analytics API key (ask support@cast.app). Sent verbatim in the "
            "Authorization header.",
        ),
        th.Property(
            "org_slug",
            th.StringType(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$"),
            required=True,
            title="Organization slug",
            description="The <org_slug> in cast.app/designer/<org_slug>/cast/<cast_id>/...",
        ),
        th.Property(
            "cast_ids",
            th.ArrayType(th.IntegerType(minimum=1)),
            required=True,
            title="Cast (project) ids",
            description="Casts to extract, e.g. [1940, 11432]: the <cast_id> in the Designer "
            "URL. The API has no endpoint that lists casts.",
        ),
        th.Property(
            "base_url",
            th.StringType(),
            default="https://cast.app",
            title="Base URL",
            description="Scheme and host of the API; change only for a proxy or the sandbox.",
        ),
        th.Property(
            "event_types",
            th.ArrayType(th.StringType(allowed_values=list(streams.EVENT_TYPES))),
            default=list(streams.EVENT_TYPES),
            title="Event types",
            description="Which analytics_events types to extract: "
            + ", ".join(streams.EVENT_TYPES)
            + ".",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=10000),
            default=200,
            title="Page size",
            description="Events per analytics_events page (the API's default is 50; the "
            "documented example uses 200).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType(),
            title="Start date",
            description="Skip analytics events before this time on a first run (ISO 8601; "
            "Cast times are read as UTC).",
        ),
        *COMMON_SETTINGS,
    ).to_dict()

    @override
    def new_run(self) -> CastRun:
        return CastRun(self.config)

    @override
    def extra_config_errors(self) -> list[str]:
        errors = check_http_url(self.config, "base_url")
        if not self.config.get("cast_ids"):
            errors.append("Setting 'cast_ids' needs at least one cast id, e.g. [1940].")
        if self.config.get("event_types") == []:
            errors.append("Setting 'event_types' is empty; remove it to extract all types.")
        return errors


if __name__ == "__main__":
    TapCast.cli()
