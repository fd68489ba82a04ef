"""Fixtures for tap-webcasts: a fresh Webcasts.com sandbox per test and a config for it."""

from __future__ import annotations

import typing as t

import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox

if t.TYPE_CHECKING:
    from sandbox import SandboxServer, WebcastsAPI

# Distinctive credentials: tests assert they never show up in any output.
USERNAME = "reports@example.com"
PASSWORD = "PW-$ecret&Value#42"


def webcasts_config(server: SandboxServer, **overrides: t.Any) -> dict:
    config = {
        "username": USERNAME,
        "password": PASSWORD,
        "base_url": server.url,
        "retry_base_seconds": 0,
        "max_retries": 3,
        "request_timeout": 5,
    }
    config.update(overrides)
    return config


@pytest.fixture
def webcasts_dataset() -> WebcastsDataset:
    return WebcastsDataset(
        seed=21,
        events=3,
        registrants_per_event=40,
        username=USERNAME,
        password=PASSWORD,
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
