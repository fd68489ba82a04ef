"""The Singer SDK's standard tap tests for tap-cast, against a sandbox started when they run."""

from __future__ import annotations

import json
import typing as t

import pytest

from sandbox import CastDataset, start_cast_sandbox
from tap_cast.tap import TapCast
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    NO_SERVER,
    cast_config,
    standard_runner,
    standard_tests,
)


def _add_unknown_field(request, response):
    """A field the vendor may add: the standard tests then check unmapped_fields is an object."""
    if "/analytics_events" in request.path:
        body = json.loads(response.body)
        for event in body["results"]:
            event["scene_name"] = "Intro"
        response.body = json.dumps(body).encode()


@pytest.fixture(scope="module")
def standard_config() -> t.Iterator[dict]:
    dataset = CastDataset(
        seed=3,
        casts=1,
        campaigns_per_cast=2,
        events_per_type=12,
        org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )
    server, _api = start_cast_sandbox(dataset)
    server.hooks.append(_add_unknown_field)
    yield cast_config(server, dataset, page_size=5)
    server.stop()


# The factory lists the streams when the class is built: a config without a server will do.
_STANDARD = {"api_key": CAST_API_KEY, "org_slug": CAST_ORG, "cast_ids": [1], "base_url": NO_SERVER}


class TestTapCast(standard_tests(TapCast, _STANDARD)):
    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls, standard_config):
        return standard_runner(TapCast, standard_config)
