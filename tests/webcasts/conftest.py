"""Fixtures for tap-webcasts: a fresh Webcasts.com sandbox per test and a config for it."""

from __future__ import annotations

import typing as t

import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox
from tests.helpers import WEBCASTS_PASSWORD, WEBCASTS_USERNAME, webcasts_config

if t.TYPE_CHECKING:
    from sandbox import SandboxServer, WebcastsAPI


@pytest.fixture
def webcasts_dataset() -> WebcastsDataset:
    return WebcastsDataset(
        seed=21,
        events=3,
        registrants_per_event=40,
        username=WEBCASTS_USERNAME,
        password=WEBCASTS_PASSWORD,
        expired_events=1,
    )


@pytest.fixture
def webcasts_sandbox(webcasts_dataset) -> t.Iterator[tuple[SandboxServer, WebcastsAPI]]:
    server, api = start_webcasts_sandbox(webcasts_dataset)
    yield server, api
    server.stop()


@pytest.fixture
def config(webcasts_sandbox) -> dict:
    return webcasts_config(webcasts_sandbox[0])
