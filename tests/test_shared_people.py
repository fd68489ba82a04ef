"""The sandboxes' opt-in shared people: the same people in all three vendors' data.

Off by default, and on it only adds rows: every default row is still served unchanged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from sandbox import CastDataset, RevDataset, WebcastsDataset, start_webcasts_sandbox
from sandbox.shared_people import DOMAIN, shared_people
from tap_webcasts.tap import TapWebcasts
from tests.helpers import ROOT, WEBCASTS_PASSWORD, WEBCASTS_USERNAME, run_tap, webcasts_config

PEOPLE = 5


def rows(items: list[dict[str, Any]]) -> Counter[str]:
    return Counter(json.dumps(item, sort_keys=True) for item in items)


def normalised(email: str) -> str:
    return email.strip().lower()


def is_shared(email: str) -> bool:
    return normalised(email).endswith("@" + DOMAIN)


@pytest.fixture(scope="module")
def truths() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """vendor -> (default ground truth, ground truth with PEOPLE shared people)."""
    return {
        "cast": (CastDataset().ground_truth(), CastDataset(shared_people=PEOPLE).ground_truth()),
        "webcasts": (
            WebcastsDataset().ground_truth(),
            WebcastsDataset(shared_people=PEOPLE).ground_truth(),
        ),
        "rev": (RevDataset().ground_truth(), RevDataset(shared_people=PEOPLE).ground_truth()),
    }


def test_default_data_has_no_shared_person(truths):
    cast, _ = truths["cast"]
    webcasts, _ = truths["webcasts"]
    rev, _ = truths["rev"]
    emails = [e["contact_email"] for e in cast["analytics_events"]]
    emails += [r["email"] for r in webcasts["audience"]]
    emails += [s["email"] for s in rev["attendee_sessions"]]
    emails += [r["email"] for r in rev["registrations"]]
    assert emails
    assert not [email for email in emails if is_shared(email)]


def test_cast_only_adds_the_shared_contacts_rows(truths):
    default, shared = truths["cast"]
    events = shared["analytics_events"]
    theirs = [e for e in events if is_shared(e["contact_email"])]
    assert rows([e for e in events if not is_shared(e["contact_email"])]) == rows(
        default["analytics_events"]
    )
    # A recipient more on each campaign they were added to; the counters still add up.
    added = Counter(e["generation_id"] for e in theirs if e["event_type"] == "delivered")
    assert sum(added.values()) == 2 * PEOPLE
    for before, after in zip(default["campaigns"], shared["campaigns"], strict=True):
        more = added[after["generate_group"]]
        assert after["TOTAL"] == before["TOTAL"] + more
        assert after["FINISHED"] == before["FINISHED"] + more
        assert {k: v for k, v in after.items() if k not in ("TOTAL", "FINISHED")} == {
            k: v for k, v in before.items() if k not in ("TOTAL", "FINISHED")
        }
    # Their views count in Cast's own counters.
    for entry in shared["campaign_analytics"]:
        viewers = {
            e["contact_id"]
            for e in events
            if e["generation_id"] == entry["generation_id"] and e["event_type"] == "view"
        }
        assert entry["analytics"]["summary"]["unique_view"] == len(viewers)


def test_webcasts_only_adds_the_shared_registrants(truths):
    default, shared = truths["webcasts"]
    audience = shared["audience"]
    assert rows([r for r in audience if not is_shared(r["email"])]) == rows(default["audience"])
    theirs = [r for r in audience if is_shared(r["email"])]
    assert len(theirs) == 2 * PEOPLE
    assert all(any(s["type"] == "live" for s in r["sessions"]) for r in theirs)
    expired = {e["ei"] for e in shared["events"] if e["expired"]}
    assert not [r for r in theirs if r["ei"] in expired]  # the tap skips expired events
    assert [e["registrants"] for e in shared["events"]] == [
        e["registrants"] + sum(r["ei"] == e["ei"] for r in theirs) for e in default["events"]
    ]


def test_rev_only_adds_rows_and_its_summary_counts_them(truths):
    default, shared = truths["rev"]
    for stream in ("attendee_sessions", "registrations"):
        kept = [r for r in shared[stream] if not is_shared(r["email"])]
        assert rows(kept) == rows(default[stream]), stream
    usernames = {p.rev_username for p in shared_people(PEOPLE)}
    assert rows([c for c in shared["comments"] if c["username"] not in usernames]) == rows(
        default["comments"]
    )
    assert rows([q for q in shared["questions"] if q["userName"] not in usernames]) == rows(
        default["questions"]
    )
    for stream in ("webcasts", "realtime_attendees", "poll_results", "reactions"):
        assert shared[stream] == default[stream], stream
    for summary in shared["webcast_attendance_summary"]:
        sessions = [
            s
            for s in shared["attendee_sessions"]
            if (s["webcast_id"], s["run_number"]) == (summary["webcast_id"], summary["run_number"])
        ]
        assert summary["totalSessions"] == len(sessions)
        assert summary["attendeeCount"] == len(
            {s["username"] for s in sessions if s["attendeeType"] not in ("Host", "Moderator")}
        )


def test_each_shared_person_is_in_all_three_vendors_under_one_normalised_email(truths):
    cast = truths["cast"][1]
    webcasts = truths["webcasts"][1]
    rev = truths["rev"][1]
    per_vendor = {
        "cast": {e["contact_email"] for e in cast["analytics_events"]},
        "webcasts": {r["email"] for r in webcasts["audience"]},
        "rev": {s["email"] for s in rev["attendee_sessions"]},
    }
    expected = {p.email for p in shared_people(PEOPLE)}
    for vendor, emails in per_vendor.items():
        shared = {e for e in emails if is_shared(e)}
        assert {normalised(e) for e in shared} == expected, vendor
    # Spelled differently by at least two vendors: only normalisation joins them.
    assert {e for e in per_vendor["cast"] if is_shared(e)} != expected
    assert {e for e in per_vendor["rev"] if is_shared(e)} != expected


def test_rev_usernames_resolve_only_through_rev_sessions(truths):
    rev = truths["rev"][1]
    people = {p.rev_username: p for p in shared_people(PEOPLE)}
    by_username: dict[str, set[str]] = {}
    for session in rev["attendee_sessions"]:
        by_username.setdefault(session["username"], set()).add(normalised(session["email"]))
    said = [c["username"] for c in rev["comments"]] + [q["userName"] for q in rev["questions"]]
    theirs = [username for username in said if username in people]
    assert set(theirs) == set(people)  # every shared person comments or asks
    for username in theirs:
        assert by_username[username] == {people[username].email}
        assert not people[username].email.startswith(username + "@")  # not guessable
    # A registration of a Public webcast meets that webcast's attendance.
    registered = {(r["webcast_id"], normalised(r["email"])) for r in rev["registrations"]}
    attended = {(s["webcast_id"], normalised(s["email"])) for s in rev["attendee_sessions"]}
    assert {pair for pair in registered & attended if is_shared(pair[1])}


@pytest.mark.parametrize("vendor", ["cast", "webcasts", "rev"])
def test_cli_option_reaches_the_ground_truth(vendor):
    command = [sys.executable, "-m", "sandbox", "truth", vendor, "--shared-people", "2"]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert f"@{DOMAIN}" in out.lower()
    default = subprocess.run(command[:-2], cwd=ROOT, capture_output=True, text=True, check=True)
    assert f"@{DOMAIN}" not in default.stdout.lower()


def test_negative_count_is_refused_with_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "truth", "cast", "--shared-people", "-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "shared_people must be >= 0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("response_format", ["xml", "json", "csv"])
def test_tap_webcasts_reads_the_shared_registrants_in_every_format(response_format):
    """Their names are theirs, not a cached persona's, in every report format."""
    dataset = WebcastsDataset(
        seed=3, events=2, registrants_per_event=5, expired_events=0, shared_people=PEOPLE,
        username=WEBCASTS_USERNAME, password=WEBCASTS_PASSWORD,
    )  # fmt: skip
    server, _ = start_webcasts_sandbox(dataset)
    try:
        run = run_tap(TapWebcasts, webcasts_config(server, response_format=response_format))
    finally:
        server.stop()
    truth = [r for r in dataset.ground_truth()["audience"] if is_shared(r["email"])]
    landed = [r for r in run.records("audience") if is_shared(r["email"])]
    assert len(truth) == 2 * PEOPLE
    assert sorted((r["ei"], r["email"], r["first_name"], r["last_name"]) for r in landed) == sorted(
        (r["ei"], r["email"], r["first_name"], r["last_name"]) for r in truth
    )
    sessions = [s for s in run.records("audience_sessions") if is_shared(s["email"])]
    assert len(sessions) == sum(len(r["sessions"]) for r in truth)
