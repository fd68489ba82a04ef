"""The Singer SDK's standard tap tests for tap-webcasts, against a sandbox started when they
run."""

from __future__ import annotations

import typing as t

import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox
from tap_webcasts.tap import TapWebcasts
from tests.helpers import (
    NO_SERVER,
    WEBCASTS_PASSWORD,
    WEBCASTS_USERNAME,
    standard_runner,
    standard_tests,
    webcasts_config,
)


@pytest.fixture(scope="module")
def standard_config() -> t.Iterator[dict]:
    dataset = WebcastsDataset(
        seed=4,
        events=2,
        registrants_per_event=15,
        username=WEBCASTS_USERNAME,
        password=WEBCASTS_PASSWORD,
        expired_events=1,
    )
    server, _api = start_webcasts_sandbox(dataset)
    yield webcasts_config(server)
    server.stop()


# The factory lists the streams when the class is built: a config without a server will do.
_STANDARD = {"username": WEBCASTS_USERNAME, "password": WEBCASTS_PASSWORD, "base_url": NO_SERVER}


class TestTapWebcasts(standard_tests(TapWebcasts, _STANDARD)):
    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls, standard_config):
        return standard_runner(TapWebcasts, standard_config)
