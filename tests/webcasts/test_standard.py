"""The Singer SDK's standard tap tests for tap-webcasts, against a sandbox for this module."""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from sandbox import WebcastsDataset, start_webcasts_sandbox
from tap_webcasts.tap import TapWebcasts
from tests.webcasts.conftest import PASSWORD, USERNAME, webcasts_config

# The factory needs the config when the class is built, so the sandbox starts at import.
_dataset = WebcastsDataset(
    seed=4,
    events=2,
    registrants_per_event=15,
    username=USERNAME,
    password=PASSWORD,
    expired_events=1,
)
_server, _api = start_webcasts_sandbox(_dataset)
atexit.register(_server.stop)

TestTapWebcasts = get_tap_test_class(tap_class=TapWebcasts, config=webcasts_config(_server))
