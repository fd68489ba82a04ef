"""tap-webcasts: settings and the list of streams."""

from __future__ import annotations

import zoneinfo

from singer_sdk import typing as th
from typing_extensions import override

from tap_common.tap import COMMON_SETTINGS, VendorTap, check_http_url
from tap_webcasts import streams
from tap_webcasts.client import WebcastsRun


def _on_off(name: str, what: str) -> th.Property:
    return th.Property(
        name,
        th.BooleanType(),
        description=f"{what} Sent as '{name}=on|off'; unset leaves the API's default.",
    )


def _pipe_list(name: str, what: str) -> th.Property:
    return th.Property(
        name,
        th.ArrayType(th.StringType(min_length=1)),
        description=f"{what} Sent pipe-joined as '{name}'.",
    )


class TapWebcasts(VendorTap[WebcastsRun]):
    """Singer tap for the Webcasts.com Reporting API v2.0."""

    name = "tap-webcasts"
    # Children of `events` sync in this order for each event (the SDK keeps it). `audience`
    # goes last: its bookmark sets the next run's report window for all four report
    # streams, so it must not be committed before the others have emitted their rows from
    # the same report (tests/webcasts/test_sync.py checks the order).
    stream_types = (
        streams.EventsStream,
        streams.AudienceSessionsStream,
        streams.AudienceQuestionsStream,
        streams.AudienceSurveyAnswersStream,
        streams.AudienceStream,
    )
    # The API takes the password and the session (si, ui) in query strings.
    secret_query_params = ("password", "si", "ui")

    config_jsonschema = th.PropertiesList(
        th.Property(
            "username",
            th.StringType(min_length=1),
            required=True,
            title="Username",
            description="Reporting API account (an email), issued by Webcasts.com support.",
        ),
        th.Property(
            "password",
            th.StringType(min_length=1),
            required=True,
            secret=True,
            title="Password",
            description="Reporting API account password.",
        ),
        th.Property(
            "base_url",
            th.StringType(),
            default="https://api.webcasts.com",
            description="Scheme and host of the API; change only for a proxy or the sandbox.",
        ),
        th.Property(
            "response_format",
            th.StringType(allowed_values=["xml", "json", "csv"]),
            default="xml",
            description="Report format to request: xml (the API's default), csv (carries "
            "no Q&A or survey answers) or json; all three are streamed.",
        ),
        th.Property(
            "event_ids",
            th.ArrayType(th.IntegerType(minimum=1)),
            description="Only these 7-digit event ids (default: every event in the event list).",
        ),
        th.Property(
            "include_expired_events",
            th.BooleanType(),
            default=True,
            description="Also extract events the event list marks as expired.",
        ),
        th.Property(
            "tz",
            th.StringType(min_length=1),
            default="GMT",
            description="Time zone the reports are requested in (IANA name, e.g. "
            "America/New_York). Times are converted to UTC either way.",
        ),
        th.Property(
            "date_range_start",
            th.DateType(),
            description="First report day (ISO date) on a first run; later runs start from "
            "each event's bookmark. Sent as mm/dd/yyyy.",
        ),
        th.Property(
            "date_range_end",
            th.DateType(),
            description="Last report day (ISO date); unset means up to now.",
        ),
        _on_off("dr_regs", "Date range applies to registration dates (API default on)."),
        _on_off("dr_sessions", "Date range applies to viewing sessions (API default on)."),
        _pipe_list("sti_filter", "Only registrants with these source tracking ids."),
        _pipe_list("excl_domain", "Leave out registrants with emails on these domains."),
        _pipe_list("incl_domain", "Only registrants with emails on these domains."),
        _on_off("users_qa", "Only registrants who asked a question."),
        _on_off("user_survey", "Only registrants who answered a survey."),
        _on_off("no_shows", "Only registrants with no viewing session."),
        _on_off("live_viewers", "Only registrants with a live session."),
        _on_off("od_viewers", "Only registrants with an on-demand session."),
        _on_off("simlive_viewers", "Only registrants with a sim-live session."),
        *COMMON_SETTINGS,
    ).to_dict()

    @override
    def new_run(self) -> WebcastsRun:
        return WebcastsRun(self.config)

    @override
    def extra_config_errors(self) -> list[str]:
        errors = check_http_url(self.config, "base_url")
        if self.config.get("excl_domain") and self.config.get("incl_domain"):
            errors.append(
                "Settings 'excl_domain' and 'incl_domain' cannot both be set (the API "
                "accepts one or the other): keep one."
            )
        try:
            zoneinfo.ZoneInfo(self.config.get("tz") or "GMT")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors.append(
                f"Setting 'tz' must be an IANA time zone name such as 'America/New_York', "
                f"got {self.config.get('tz')!r}."
            )
        return errors


if __name__ == "__main__":
    TapWebcasts.cli()
