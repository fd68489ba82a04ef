"""Fixtures for tap-cast: a fresh Cast sandbox per test and a config pointing at it."""

from __future__ import annotations

import typing as t

import pytest

from sandbox import CastDataset, start_cast_sandbox

if t.TYPE_CHECKING:
    from sandbox import CastAPI, SandboxServer

# A distinctive key: tests assert it never shows up in any output.
API_KEY = "cast-SECRET-$#!&-key-7f3a"
ORG = "demo-org"


def cast_config(server: SandboxServer, dataset: CastDataset, **overrides: t.Any) -> dict:
    config = {
        "api_key": API_KEY,
        "org_slug": ORG,
        "cast_ids": [cast["cast_id"] for cast in dataset_casts(dataset)],
        "base_url": server.url,
        "page_size": 20,
        "retry_base_seconds": 0,
        "max_retries": 3,
        "request_timeout": 5,
    }
    config.update(overrides)
    return config


def dataset_casts(dataset: CastDataset) -> list[dict]:
    seen: dict[int, dict] = {}
    for campaign in dataset.ground_truth()["campaigns"]:
        seen.setdefault(campaign["cast_id"], {"cast_id": campaign["cast_id"]})
    return list(seen.values())


@pytest.fixture
def cast_dataset() -> CastDataset:
    return CastDataset(
        seed=11, casts=2, campaigns_per_cast=2, events_per_type=30, org_slug=ORG, api_key=API_KEY
    )


@pytest.fixture
def cast_sandbox(cast_dataset: CastDataset) -> t.Iterator[tuple[SandboxServer, CastAPI]]:
    server, api = start_cast_sandbox(cast_dataset)
    yield server, api
    server.stop()


@pytest.fixture
def config(cast_sandbox: tuple[SandboxServer, CastAPI], cast_dataset: CastDataset) -> dict:
    return cast_config(cast_sandbox[0], cast_dataset)
