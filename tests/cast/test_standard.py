"""The Singer SDK's standard tap tests for tap-cast, against a sandbox started for this module."""

from __future__ import annotations

import atexit
import json

from singer_sdk.testing import get_tap_test_class

from sandbox import CastDataset, start_cast_sandbox
from tap_cast.tap import TapCast
from tests.cast.conftest import API_KEY, ORG, cast_config

# The factory needs the config when the class is built, so the sandbox starts at import.
_dataset = CastDataset(
    seed=3, casts=1, campaigns_per_cast=2, events_per_type=12, org_slug=ORG, api_key=API_KEY
)
_server, _api = start_cast_sandbox(_dataset)
atexit.register(_server.stop)


def _add_unknown_field(request, response):
    """A field the vendor may add: the standard tests then check unmapped_fields is an object."""
    if "/analytics_events" in request.path:
        body = json.loads(response.body)
        for event in body["results"]:
            event["scene_name"] = "Intro"
        response.body = json.dumps(body).encode()


_server.hooks.append(_add_unknown_field)

TestTapCast = get_tap_test_class(
    tap_class=TapCast,
    config=cast_config(_server, _dataset, page_size=5),
)
