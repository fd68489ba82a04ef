"""tap-rev-webcast: settings and the list of streams."""

from __future__ import annotations

import datetime as dt

from singer_sdk import typing as th
from typing_extensions import override

from tap_common.tap import COMMON_SETTINGS, VendorTap, check_http_url
from tap_rev_webcast import streams
from tap_rev_webcast.client import RevRun
from tap_rev_webcast.ratelimit import Clock, SystemClock


class TapRevWebcast(VendorTap[RevRun]):
    """Singer tap for Vbrick Rev webcast reports."""

    name = "tap-rev-webcast"
    # Parents before children. attendee_sessions hands each report's summary to
    # webcast_attendance_summary, its sibling, which the SDK syncs after it for the same
    # webcast run (tests/rev/test_sync.py checks the order).
    stream_types = (
        streams.RevWebcastsStream,
        streams.AttendeeSessionsStream,
        streams.AttendanceSummaryStream,
        streams.RealtimeAttendeesStream,
        streams.CommentsStream,
        streams.RegistrationsStream,
        streams.PollResultsStream,
        streams.PollAnswersStream,
        streams.QuestionsStream,
        streams.ReactionsStream,
    )

    #: Every wait (rate limits, 429 pauses, login retries) and every "now" goes through
    #: this clock; tests substitute a fake one.
    clock: Clock = SystemClock()

    config_jsonschema = th.PropertiesList(
        th.Property(
            "base_url",
            th.StringType(),
            required=True,
            title="Rev tenant URL",
            description="Your Rev tenant, e.g. https://company.rev.vbrick.com (scheme and "
            "host; the API lives under /api/v2).",
        ),
        th.Property(
            "api_key",
            th.StringType(min_length=1),
            secret=True,
            title="User API key",
            description="API key of a Rev user allowed to view webcast reports; use with "
            "'secret'. Alternatively set 'username' and 'password'.",
        ),
        th.Property(
            "secret",
            th.StringType(min_length=1),
            secret=True,
            title="API key secret",
            description="The secret of 'api_key' (Rev shows it once, when the key is made).",
        ),
        th.Property(
            "username",
            th.StringType(min_length=1),
            title="Username",
            description="Rev username, to log in with 'password' instead of an API key.",
        ),
        th.Property(
            "password",
            th.StringType(min_length=1),
            secret=True,
            title="Password",
            description="Password of 'username'.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType(),
            title="Start date",
            description="Read webcasts that end after this time (ISO 8601). Required unless "
            "'webcast_ids' is set. Later runs start from the state's bookmark instead "
            "(see 'report_lookback_days').",
        ),
        th.Property(
            "report_lookback_days",
            th.IntegerType(minimum=0),
            default=7,
            title="Report lookback (days)",
            description="Incremental runs read again the webcasts (and their reports) that "
            "ended within this many days before the run's start, for reports that change "
            "after the event, plus every webcast that ended after the bookmark. Older "
            "webcasts are not requested again; run with an empty state "
            "(meltano run --full-refresh) to read everything.",
        ),
        th.Property(
            "upcoming_days",
            th.IntegerType(minimum=0, maximum=365),
            default=90,
            title="Upcoming webcasts (days ahead)",
            description="Also list webcasts scheduled up to this many days ahead of now "
            "(their reports are read once they have completed); 0 lists up to now.",
        ),
        th.Property(
            "webcast_ids",
            th.ArrayType(th.StringType(min_length=1)),
            title="Webcast ids",
            description="Read only these webcasts (the GUID in a webcast's URL) instead of "
            "listing them by date.",
        ),
        th.Property(
            "window_days",
            th.IntegerType(minimum=1, maximum=365),
            default=30,
            title="Listing window (days)",
            description="Days covered by each webcast-list request (after/before window).",
        ),
        th.Property(
            "run_numbers",
            th.ArrayType(th.IntegerType(minimum=0)),
            default=[0],
            title="Run numbers",
            description="Runs to read for each webcast: 0 is the main event, 1 and up are "
            "pre-production (dry) runs. Rev has no endpoint that lists runs.",
        ),
        th.Property(
            "include_realtime_attendees",
            th.BooleanType(),
            default=False,
            title="Include real-time attendees",
            description="Also read the attendees of webcasts running now "
            "(realtime_attendees; Rev allows 2 such requests per minute).",
        ),
        th.Property(
            "reports_requests_per_minute",
            th.IntegerType(minimum=1),
            default=120,
            title="Report requests per minute",
            description="Client-side limit for the post-event report (attendee sessions), "
            "as in Vbrick's own PowerShell client (its 'viewReport' family).",
        ),
        th.Property(
            "realtime_requests_per_minute",
            th.IntegerType(minimum=1),
            default=2,
            title="Real-time requests per minute",
            description="Client-side limit for real-time attendee requests.",
        ),
        th.Property(
            "get_requests_per_minute",
            th.IntegerType(minimum=1),
            default=24000,
            title="Other GET requests per minute",
            description="Client-side limit for the other GETs (webcast list, details, status, "
            "comments, polls, Q&A, reactions, registrations), as in Vbrick's JS client.",
        ),
        th.Property(
            "throttle_wait_seconds",
            th.NumberType(minimum=0),
            default=60,
            title="Wait after a 429 (seconds)",
            description="How long to pause an endpoint family after a 429 without a "
            "Retry-After header (Rev documents none); each 429 also halves that family's "
            "pace for the rest of the run.",
        ),
        *COMMON_SETTINGS,
    ).to_dict()

    @override
    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), tz=dt.timezone.utc)

    @override
    def new_run(self) -> RevRun:
        return RevRun(self.config, clock=self.clock, logger=self.logger)

    @override
    def extra_config_errors(self) -> list[str]:
        config = self.config
        errors = check_http_url(config, "base_url")
        pairs = (("api_key", "secret"), ("username", "password"))
        given = [pair for pair in pairs if any(config.get(name) for name in pair)]
        if not given:
            errors.append(
                "Set 'api_key' and 'secret' (a Rev user API key), or 'username' and 'password'."
            )
        elif len(given) > 1:
            errors.append(
                "Set either 'api_key' and 'secret' or 'username' and 'password', not both."
            )
        for first, second in given:
            for name, other in ((first, second), (second, first)):
                if config.get(name) and not config.get(other):
                    errors.append(f"Setting '{other}' is required with '{name}'.")
        if config.get("webcast_ids") == []:
            errors.append("Setting 'webcast_ids' is empty; remove it to list webcasts by date.")
        elif not config.get("webcast_ids") and not config.get("start_date"):
            errors.append(
                "Setting 'start_date' is required unless 'webcast_ids' is set, "
                "e.g. '2026-01-01T00:00:00Z'."
            )
        if config.get("run_numbers") == []:
            errors.append("Setting 'run_numbers' is empty; use [0] for the main event.")
        return errors


if __name__ == "__main__":
    TapRevWebcast.cli()
