"""max_concurrency: the next events' audience reports download while the current one is read.

Records (and their order) and the final STATE must be exactly those of a run with
max_concurrency 1, in every report format and on an incremental second run.
"""

from __future__ import annotations

import pytest

from sandbox import FaultConfig, WebcastsDataset, start_webcasts_sandbox
from tap_webcasts.tap import TapWebcasts
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME
from tests.helpers import run_tap, webcasts_config

REPORT = "/api/reporting/audiencereports"


@pytest.fixture
def slow_sandbox():
    dataset = WebcastsDataset(
        seed=4, events=8, registrants_per_event=15, username=USERNAME, password=PASSWORD
    )
    server, api = start_webcasts_sandbox(dataset, faults=FaultConfig(latency_ms=20))
    yield server, dataset, api
    server.stop()


@pytest.mark.parametrize("response_format", ["xml", "csv", "json"])
def test_same_records_order_and_state_as_sequential(slow_sandbox, response_format):
    server, dataset, api = slow_sandbox
    config = webcasts_config(server, response_format=response_format)
    sequential = run_tap(TapWebcasts, {**config, "max_concurrency": 1})
    assert server.peak_in_flight == 1
    server.reset_log()
    concurrent = run_tap(TapWebcasts, {**config, "max_concurrency": 4})
    assert 1 < server.peak_in_flight <= 4
    assert server.count(REPORT) == len(concurrent.records("events"))  # one download each
    assert concurrent.output == sequential.output
    assert len(concurrent.records("audience")) == len(dataset.ground_truth()["audience"])
    assert api.login_count == 2  # one per run


def test_incremental_second_run_same_as_sequential(slow_sandbox):
    server, dataset, _ = slow_sandbox
    config = webcasts_config(server)
    first = run_tap(TapWebcasts, {**config, "max_concurrency": 4})
    # Active events only: an expired event's report is final and not requested again.
    events = [row["ei"] for row in first.records("events") if not row["expired"]]
    for ei in events[::3]:
        dataset.add_registrants(ei, 2)
    runs = [
        run_tap(TapWebcasts, {**config, "max_concurrency": n}, state=first.final_state)
        for n in (1, 4)
    ]
    assert runs[1].output == runs[0].output
    emails = {r["email"] for r in runs[1].records("audience")}
    assert len(emails) >= 2 * len(events[::3])


def test_session_ended_mid_run_costs_one_login(slow_sandbox):
    server, dataset, api = slow_sandbox
    ended: list[bool] = []

    def end_sessions_after_second_report(request, response):
        if request.path.startswith(REPORT):
            ended.append(True)
            if len(ended) == 2:
                api.expire_sessions()

    server.hooks.append(end_sessions_after_second_report)
    run = run_tap(TapWebcasts, {**webcasts_config(server), "max_concurrency": 4})
    assert api.login_count == 2
    assert len(run.records("audience")) == len(dataset.ground_truth()["audience"])
