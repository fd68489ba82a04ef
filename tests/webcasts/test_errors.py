"""tap-webcasts: session expiry, refused logins, hostile XML, bad settings, no leaked secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

from tap_webcasts.tap import TapWebcasts
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import run_tap, webcasts_config

REPORT = "/api/reporting/audiencereports"


def first_event(dataset) -> int:
    return int(dataset.ground_truth()["events"][0]["ei"])


def test_expired_session_costs_exactly_one_more_login(webcasts_sandbox, webcasts_dataset, config):
    server, api = webcasts_sandbox
    expired: list[bool] = []

    def expire_after_first_report(request, response):
        if request.path.startswith(REPORT) and not expired:
            expired.append(True)
            api.expire_sessions()

    server.hooks.append(expire_after_first_report)
    run = run_tap(TapWebcasts, config)
    assert api.login_count == 2
    truth = webcasts_dataset.ground_truth()["audience"]
    assert len(run.records("audience")) == len(truth)


@pytest.mark.parametrize("response_format", ["xml", "json", "csv"])
def test_a_session_that_ends_as_a_sign_in_page_costs_one_more_login(
    webcasts_sandbox, webcasts_dataset, response_format
):
    """A session ended mid-run, answered with HTTP 200 and the web sign-in page (sandbox
    switch login_page_for_ended_sessions) on report requests: one new login, shared by the
    reports in flight, every registrant once, and every event's bookmark."""
    server, api = webcasts_sandbox
    api.login_page_for_ended_sessions = True
    ended: list[bool] = []

    def end_after_first_report(request, response):
        if request.path.startswith(REPORT) and not ended:
            ended.append(True)
            api.expire_sessions()

    server.hooks.append(end_after_first_report)
    run = run_tap(TapWebcasts, webcasts_config(server, response_format=response_format))
    assert api.invalid_session_count >= 1  # answered with the sign-in page
    assert api.login_count == 2
    truth = webcasts_dataset.ground_truth()["audience"]
    keys = [(r["ei"], r["email"]) for r in run.records("audience")]
    assert sorted(keys) == sorted((int(a["ei"]), a["email"]) for a in truth)
    bookmarked = run.final_state["bookmarks"]["audience"]["partitions"]
    assert {p["context"]["ei"] for p in bookmarked} == {
        int(e["ei"]) for e in webcasts_dataset.ground_truth()["events"]
    }


def test_a_sign_in_page_again_after_a_fresh_login_stops_with_one_line(webcasts_sandbox):
    server, api = webcasts_sandbox
    api.login_page_for_ended_sessions = True

    def end_every_session(request, response):  # the new login's session too
        api.expire_sessions()

    server.hooks.append(end_every_session)
    run = run_tap(TapWebcasts, webcasts_config(server), expect_error=True)
    assert "sign-in page again after a fresh login" in str(run.error)
    assert api.login_count == 2  # one new login, never a loop
    assert PASSWORD not in str(run.error) + run.stderr


def test_session_refused_twice_is_fatal_without_looping(webcasts_sandbox, config):
    server, api = webcasts_sandbox

    def always_expire(request, response):
        api.expire_sessions()

    server.hooks.append(always_expire)
    with pytest.raises(FatalAPIError) as err:
        run_tap(TapWebcasts, config)
    assert "again after a fresh login" in str(err.value)
    assert api.login_count == 2


def test_wrong_password_is_one_clear_line_and_one_attempt(webcasts_sandbox, config, caplog):
    server, _api = webcasts_sandbox
    wrong = "wrong-PASSWORD-value-9"
    with pytest.raises(FatalAPIError) as err:
        run_tap(TapWebcasts, {**config, "password": wrong})
    message = str(err.value)
    assert "refused the login" in message
    assert "'username' and 'password'" in message
    assert wrong not in message
    assert wrong not in caplog.text
    assert server.count("/api/login") == 1


def test_malformed_xml_names_the_event(webcasts_sandbox, webcasts_dataset, config):
    _, api = webcasts_sandbox
    ei = first_event(webcasts_dataset)
    api.malformed_xml_for.add(ei)
    with pytest.raises(FatalAPIError) as err:
        run_tap(TapWebcasts, config)
    assert f"event {ei}" in str(err.value)
    assert "malformed" in str(err.value)


@pytest.mark.parametrize("switch", ["entity_expansion_for", "external_entity_for"])
def test_entity_documents_are_refused(webcasts_sandbox, webcasts_dataset, config, switch):
    _, api = webcasts_sandbox
    ei = first_event(webcasts_dataset)
    getattr(api, switch).add(ei)
    with pytest.raises(FatalAPIError) as err:
        run_tap(TapWebcasts, config)
    assert f"event {ei}" in str(err.value)
    assert "refused" in str(err.value)


def test_transient_faults_on_reports_are_retried(webcasts_sandbox, webcasts_dataset, config):
    server, _ = webcasts_sandbox
    server.script(REPORT, ["500", "drop", "truncate", "429"])
    run = run_tap(TapWebcasts, {**config, "max_retries": 6})
    assert len(run.records("audience")) == len(webcasts_dataset.ground_truth()["audience"])
    assert server.faults_injected() == 4


def test_conflicting_domain_filters_are_a_settings_error(webcasts_sandbox, config):
    server, _ = webcasts_sandbox
    with pytest.raises(ConfigValidationError) as err:
        TapWebcasts(config={**config, "incl_domain": ["a.com"], "excl_domain": ["b.com"]})
    assert "'excl_domain' and 'incl_domain'" in " ".join(err.value.errors)
    with pytest.raises(ConfigValidationError) as err:
        TapWebcasts(config={**config, "tz": "Mars/Olympus"})
    assert "'tz'" in " ".join(err.value.errors)
    assert server.requests == []


FAULTS = [
    ("500", {}),
    ("drop", {}),
    ("429", {}),
    ("expire", {}),
    ("wrong-password", {"password": "nope-" + PASSWORD}),
]


@pytest.mark.parametrize(("fault", "overrides"), FAULTS)
def test_credentials_absent_from_all_output(tmp_path, webcasts_sandbox, config, fault, overrides):
    server, api = webcasts_sandbox
    if fault == "expire":
        server.hooks.append(lambda request, response: api.expire_sessions())
    elif fault != "wrong-password":
        server.script(REPORT, [fault] * 10)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config, "max_retries": 1, **overrides}))
    result = subprocess.run(
        [sys.executable, "-m", "tap_webcasts", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TAP_WEBCASTS_LOG_LEVEL": "DEBUG", "LOGLEVEL": "DEBUG"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0  # every case here ends in a clear failure
    assert "Traceback" not in output
    for secret in (PASSWORD, overrides.get("password"), *api.issued_session_values()):
        if secret:
            assert secret not in output, f"{fault}: a credential leaked"


def test_proxy_html_pages_are_retried_on_login_list_and_report(
    webcasts_sandbox, webcasts_dataset, config
):
    server, api = webcasts_sandbox
    for path in ("/api/login", "/api/reporting/eventlist", REPORT):
        server.script(path, ["html"])
    run = run_tap(TapWebcasts, config)
    assert server.faults_injected("html") == 3
    assert api.login_count == 1
    assert len(run.records("audience")) == len(webcasts_dataset.ground_truth()["audience"])
