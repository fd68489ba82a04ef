"""Fixtures for tap-cast: a fresh Cast sandbox per test and a config pointing at it."""

from __future__ import annotations

import typing as t

import pytest

from sandbox import CastDataset, start_cast_sandbox
from tap_cast.tap import TapCast
from tests.helpers import CAST_API_KEY, CAST_ORG, cast_config, catalog_selecting

if t.TYPE_CHECKING:
    from sandbox import CastAPI, SandboxServer


@pytest.fixture
def cast_dataset() -> CastDataset:
    return CastDataset(
        seed=11,
        casts=2,
        campaigns_per_cast=2,
        events_per_type=30,
        org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )


@pytest.fixture
def cast_sandbox(cast_dataset: CastDataset) -> t.Iterator[tuple[SandboxServer, CastAPI]]:
    server, api = start_cast_sandbox(cast_dataset)
    yield server, api
    server.stop()


@pytest.fixture
def config(cast_sandbox: tuple[SandboxServer, CastAPI], cast_dataset: CastDataset) -> dict:
    return cast_config(cast_sandbox[0], cast_dataset)


@pytest.fixture
def events_catalog(config: dict) -> dict:
    """A catalog that selects analytics_events alone."""
    return catalog_selecting(TapCast, config, "analytics_events")
