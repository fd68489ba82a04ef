"""Every endpoint tap-rev-webcast calls, against Vbrick's OpenAPI (Rev 8.1) and JS client.

Per endpoint: the sandbox's success status and every key of the spec's 200 schema (the
spec marks no key required, so the sandbox serves them all), and the tap's handling of the
documented error statuses: 401 (a new login, nothing lost), 500 with the documented
serverErrorResponse body (one clear failure naming stream and partition), and each
endpoint's own 400. Where the spec and the JS client disagree, both are covered.
"""

from __future__ import annotations

import typing as t

import pytest
import requests
from singer_sdk.exceptions import FatalAPIError

from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import REV_API_KEY, REV_SECRET, SEQUENTIAL, Rev, catalog_selecting

EVENT = "/api/v2/scheduled-events/{id}"
# The property names of each 200 schema in the OpenAPI (components/schemas/...).
EVENT_LIST = {
    "id", "title", "description", "startDate", "endDate", "listingType", "eventUrl",
    "backgroundImages", "categories", "tags", "unlisted", "estimatedAttendees",
    "lobbyTimeMinutes", "preProduction", "shortcutName", "videoSourceType", "rtmp",
    "secondaryRtmp", "secondarySourceEnabled", "webcastType", "webexTeam", "zoom", "vodId",
    "presenterId", "presenterIds", "attendeeJoinMethod", "externalPresenters", "isFeatured",
}  # fmt: skip
EVENT_DETAILS = {
    "eventId", "title", "description", "htmlDescription", "startDate", "endDate",
    "presentationProfileId", "eventAdminIds", "primaryHostId", "automatedWebcast",
    "closedCaptionsEnabled", "pollsEnabled", "chatEnabled", "questionAndAnswerEnabled",
    "userIds", "groupIds", "moderatorIds", "accessControl", "eventUrl", "videoSourceType",
    "categories", "tags", "unlisted", "estimatedAttendees", "lobbyTimeMinutes", "isFeatured",
}  # fmt: skip
EVENT_STATUS = {
    "title", "startDate", "endDate", "status", "slideUrl", "isPreProduction", "sbmlResponse",
    "reason",
}  # fmt: skip
POST_EVENT_REPORT = {
    "totalSessions", "totalPublicCDNTime", "totalECDNTime", "hostCount", "moderatorCount",
    "attendeeCount", "experiencedRebufferingPercentage", "averageExperiencedRebufferDuration",
    "experiencedErrorsPerAttendees", "multicastErrorsPerAttendees", "sessions", "scrollId",
}  # fmt: skip
REALTIME = {
    "scrollId", "total", "hostCount", "moderatorCount", "attendeeCount", "attendees", "status",
    "experiencedRebufferingPercentage", "averageExperiencedRebufferDuration",
    "experiencedErrorsPerAttendees", "multicastErrorsPerAttendees",
}  # fmt: skip
COMMENT = {"commentId", "userId", "username", "date", "comment", "htmlComment", "hidden"}
QUESTION = {
    "questionId", "whenAsked", "question", "userName", "repliedUserName", "askedBy",
    "repliedBy", "whenReplied", "lastAction", "reply", "isPublic",
}  # fmt: skip
REACTION = {"webcastDate", "reaction", "unicode", "count"}
LOGIN = {"token", "issuer", "expiration"}
USER_LOGIN = LOGIN | {"email", "id", "username", "firstName", "lastName", "language"}


class Api:
    """Plain HTTP against the sandbox, the way Vbrick's client calls it."""

    def __init__(self, rev: Rev) -> None:
        self.rev = rev
        login = self.call(
            "POST", "/api/v2/authenticate", {"apiKey": REV_API_KEY, "secret": REV_SECRET}
        )
        assert login.status_code == 200
        self.token = login.json()["token"]

    def call(self, method: str, path: str, body: t.Any = None, **query: t.Any) -> requests.Response:
        token = getattr(self, "token", None)
        headers = {"Authorization": f"VBrick {token}"} if token else {}
        return requests.request(
            method, self.rev.server.url + path, json=body, params=query, headers=headers, timeout=5
        )

    def event(self, tail: str = "", *, live: bool = False) -> str:
        webcasts = self.rev.dataset.webcasts
        chosen = next(w for w in webcasts if (w.live if live else w.completed and w.runs.get(0)))
        return EVENT.format(id=chosen.id) + tail


def object_keys(response: requests.Response) -> set[str]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    return set(body)


def item_keys(response: requests.Response, key: str | None = None) -> set[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    items = body[key] if key else body
    assert isinstance(items, list)
    assert items
    return set().union(*items)


# --- success: status and shape -------------------------------------------------------------


def test_logins_and_extend_session_answer_the_documented_objects(rev: Rev):
    api = Api(rev)
    user = api.call(
        "POST",
        "/api/v2/user/login",
        {"username": rev.dataset.username, "password": rev.dataset.password},
    )
    assert object_keys(user) >= USER_LOGIN
    assert object_keys(api.call("POST", "/api/v2/user/extend-session")) >= {"expiration"}
    again = api.call("POST", "/api/v2/authenticate", {"apiKey": REV_API_KEY, "secret": REV_SECRET})
    assert object_keys(again) >= LOGIN


def test_logoffs_answer_200_without_a_body_and_the_token_stops_working(rev: Rev):
    api = Api(rev)
    logoff = api.call("DELETE", f"/api/v2/tokens/{REV_API_KEY}")
    assert (logoff.status_code, logoff.content) == (200, b"")
    after = api.call("GET", "/api/v2/scheduled-events")
    assert (after.status_code, after.content) == (401, b"")  # documented: 401, no body
    user = Api(rev)
    login = user.call(
        "POST",
        "/api/v2/user/login",
        {"username": rev.dataset.username, "password": rev.dataset.password},
    )
    user.token = login.json()["token"]
    logoff = user.call("POST", "/api/v2/user/logoff", {"userId": login.json()["id"]})
    assert (logoff.status_code, logoff.content) == (200, b"")
    assert user.call("GET", "/api/v2/scheduled-events").status_code == 401


def test_bad_credentials_answer_401_without_a_body(rev: Rev):
    api = Api(rev)
    api.token = None
    for path, body in [
        ("/api/v2/authenticate", {"apiKey": REV_API_KEY, "secret": "wrong"}),
        ("/api/v2/user/login", {"username": rev.dataset.username, "password": "wrong"}),
    ]:
        answer = api.call("POST", path, body)
        assert (answer.status_code, answer.content) == (401, b"")


def test_the_webcast_list_details_and_status_answer_the_documented_shapes(rev: Rev):
    api = Api(rev)
    assert item_keys(api.call("GET", "/api/v2/scheduled-events")) >= EVENT_LIST
    assert object_keys(api.call("GET", api.event())) >= EVENT_DETAILS
    assert object_keys(api.call("GET", api.event("/status"))) >= EVENT_STATUS


def test_the_report_endpoints_answer_the_documented_shapes(rev: Rev):
    api = Api(rev)
    report = api.call("GET", api.event("/post-event-report"), runNumber=0)
    assert object_keys(report) >= POST_EVENT_REPORT
    assert report.json()["sessions"]
    realtime = api.call(
        "POST", api.event("/real-time/attendees", live=True), {"attendeeDetails": "All"}
    )
    assert object_keys(realtime) >= REALTIME
    assert realtime.json()["attendees"]
    polls = api.call("GET", api.event("/poll-results"), runNumber=0)
    assert object_keys(polls) == {"polls"}
    assert rows_keys(api, "/comments") >= COMMENT
    assert rows_keys(api, "/questions") >= QUESTION
    assert rows_keys(api, "/reactions") >= REACTION


def rows_keys(api: Api, tail: str) -> set[str]:
    """The keys of the rows of a bare-array report over every completed webcast (run 0)."""
    keys: set[str] = set()
    for webcast in api.rev.dataset.webcasts:
        if webcast.completed:
            answer = api.call("GET", EVENT.format(id=webcast.id) + tail, runNumber=0)
            assert answer.status_code == 200
            assert isinstance(answer.json(), list)
            keys = keys.union(*answer.json())
    assert keys
    return keys


def test_registrations_answer_the_documented_scroll_and_end_with_a_null_scroll_id(rev: Rev):
    api = Api(rev)
    public = next(w for w in rev.dataset.webcasts if w.listing_type == "Public" and w.completed)
    path = EVENT.format(id=public.id) + "/registrations"
    first = api.call("GET", path, size=2)
    assert object_keys(first) == {"scrollId", "guestUsers"}  # no total, whatever the JS client
    seen = first.json()["guestUsers"]
    scroll_id = first.json()["scrollId"]
    while scroll_id:
        page = api.call("GET", path, size=2, scrollId=scroll_id).json()
        seen += page["guestUsers"]
        scroll_id = page["scrollId"]
    assert scroll_id is None
    assert len(seen) == len(rev.dataset.registrations(public))


# --- documented errors: what the tap does with them -----------------------------------------

ALL_STREAMS = (
    "webcasts",
    "attendee_sessions",
    "webcast_attendance_summary",
    "realtime_attendees",
    "comments",
    "registrations",
    "poll_results",
    "questions",
    "reactions",
)
# path ending -> the stream that reads it
READERS = {
    "/api/v2/scheduled-events": "webcasts",
    "/status": "webcasts",
    "/post-event-report": "attendee_sessions",
    "/real-time/attendees": "realtime_attendees",
    "/comments": "comments",
    "/registrations": "registrations",
    "/poll-results": "poll_results",
    "/questions": "questions",
    "/reactions": "reactions",
}


def answer_once(rev: Rev, ending: str, status: int, body: bytes) -> list[str]:
    """The first answer of a path ending in ``ending`` becomes ``status`` with ``body``."""
    done: list[str] = []

    def hook(request, response):
        if request.path.endswith(ending) and not done and response.status == 200:
            done.append(request.path)
            response.status, response.body = status, body
            response.headers.pop("Content-Type", None)

    rev.server.hooks.append(hook)
    return done


def records(run, streams=ALL_STREAMS) -> dict[str, list]:
    return {name: run.records(name) for name in streams}


@pytest.mark.parametrize("ending", list(READERS))
def test_a_401_on_any_endpoint_logs_in_again_and_loses_nothing(rev: Rev, ending: str):
    config = rev.config(**SEQUENTIAL)
    clean = records(rev.run(config))
    logins = rev.api.count("/api/v2/authenticate")
    hit = answer_once(rev, ending, 401, b"")  # documented: 401 without a body
    again = records(rev.run(config))
    assert hit
    assert rev.api.count("/api/v2/authenticate") == 2 * logins + 1
    for name in ALL_STREAMS:
        if name != "realtime_attendees":  # a live snapshot: its timestamps move
            assert again[name] == clean[name], name
    assert len(again["realtime_attendees"]) == len(clean["realtime_attendees"])


@pytest.mark.parametrize("ending", list(READERS))
def test_a_persistent_500_stops_naming_stream_partition_and_the_vendor_detail(
    rev: Rev, ending: str
):
    def fail(request, response):
        if request.path.endswith(ending) and request.method != "DELETE":
            response.status = 500  # documented: the serverErrorResponse body
            response.body = b'{"code": "InternalError", "detail": "Rev is down for upkeep"}'

    rev.server.hooks.append(fail)
    stream = READERS[ending]
    config = rev.config(max_retries=1, **SEQUENTIAL)
    with pytest.raises(FatalAPIError) as err:
        rev.run(config, catalog_selecting(TapRevWebcast, config, stream))
    message = str(err.value)
    assert f"stream '{stream}'" in message
    assert "Rev is down for upkeep" in message
    if ending != "/api/v2/scheduled-events":
        assert "webcast_id=" in message


def test_a_realtime_400_without_a_body_is_warned_and_the_run_goes_on(rev: Rev, caplog):
    hit = answer_once(rev, "/real-time/attendees", 400, b"")  # documented: no body
    config = rev.config(**SEQUENTIAL)
    run = rev.run(
        config, catalog_selecting(TapRevWebcast, config, "webcasts", "realtime_attendees")
    )
    assert hit
    assert "Rev answered 400" in caplog.text
    assert "webcast_id=" in caplog.text
    assert run.records("webcasts")


def test_a_comments_400_invalid_scroll_id_restarts_the_scroll_and_loses_nothing(rev: Rev):
    rev.api.comments_paging = "scroll"
    rev.api.comments_max_size = 4
    for webcast_id in rev.webcast_ids():
        rev.dataset.add_comments(webcast_id, 9)
    failed: list[str] = []

    def invalid_scroll(request, response):
        if request.path.endswith("/comments") and "scrollId" in request.query and not failed:
            failed.append(request.path)
            response.status, response.body = 400, b""  # documented: "Invalid scroll id error"

    rev.server.hooks.append(invalid_scroll)
    config = rev.config(**SEQUENTIAL)
    run = rev.run(config, catalog_selecting(TapRevWebcast, config, "comments"))
    assert failed
    truth = rev.dataset.ground_truth()["comments"]
    assert sorted(r["comment_id"] for r in run.records("comments")) == sorted(
        r["commentId"] for r in truth
    )


def test_an_extend_session_400_logs_in_again_and_loses_nothing(rev: Rev):
    # One GET a second of fake time: the run outlives the short token below.
    config = rev.config(include_realtime_attendees=False, get_requests_per_minute=60, **SEQUENTIAL)
    clean = records(rev.run(config))

    def refuse(request, response):
        if request.path.endswith("/extend-session"):
            response.status, response.body = 400, b""  # documented: "Bad request", no body

    rev.server.hooks.append(refuse)
    rev.api.token_lifetime = 4.0
    rev.api.calls.clear()
    short = records(rev.run(config))
    assert rev.server.count("/extend-session", status=400)
    assert rev.api.count("/api/v2/authenticate") > 1
    assert short == clean


@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("login", ["api_key", "user"])
def test_a_refused_logoff_never_fails_a_finished_run(rev: Rev, caplog, status: int, login: str):
    config = rev.config(include_realtime_attendees=False, **SEQUENTIAL)
    if login == "user":
        del config["api_key"], config["secret"]
        config.update(username=rev.dataset.username, password=rev.dataset.password)

    def refuse(request, response):
        if request.method == "DELETE" or request.path.endswith("/logoff"):
            response.status, response.body = status, b""

    rev.server.hooks.append(refuse)
    run = rev.run(config)
    assert run.records("attendee_sessions")
    assert "Rev did not log the session off" in caplog.text
    assert f"HTTP {status}" in caplog.text
