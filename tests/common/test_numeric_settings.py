"""Numeric settings work as numbers on every path, fractional ones included.

Meltano hands a tap its settings in a config file; the SDK reads a number with a fractional
part from a file as a Decimal, which ``time.sleep`` and float arithmetic refuse. Each test
here reads its config from a file, as a real run does.
"""

from __future__ import annotations

import decimal
import json
import typing as t

import pytest

from sandbox import CastDataset, WebcastsDataset, start_cast_sandbox, start_webcasts_sandbox
from tap_cast.tap import TapCast
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    NO_SERVER,
    WEBCASTS_PASSWORD,
    WEBCASTS_USERNAME,
    cast_config,
    rev_dataset,
    run_tap,
    start_rev,
    webcasts_config,
)

if t.TYPE_CHECKING:
    from pathlib import Path

    from singer_sdk import Tap

# Meltano passes a file path; the SDK's advice to pass a dict does not apply to a real run.
pytestmark = pytest.mark.filterwarnings("ignore:Passing a config file path is deprecated")

MINIMAL: dict[type[Tap], dict[str, t.Any]] = {
    TapCast: {"api_key": "k", "org_slug": "o", "cast_ids": [1], "base_url": NO_SERVER},
    TapRevWebcast: {
        "api_key": "k",
        "secret": "s",
        "start_date": "2026-01-01T00:00:00Z",
        "base_url": NO_SERVER,
    },
    TapWebcasts: {"username": "u", "password": "p", "base_url": NO_SERVER},
}


def numeric_settings() -> list[tuple[type[Tap], str, bool]]:
    """(tap, setting, whether it takes fractions) for every numeric setting of every tap."""
    found = []
    for tap_class in MINIMAL:
        for name, spec in tap_class.config_jsonschema["properties"].items():
            types = spec.get("type", ())
            if "number" in types or "integer" in types:
                found.append((tap_class, name, "number" in types))
    return found


def write_config(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize(
    ("tap_class", "setting", "fractional"),
    numeric_settings(),
    ids=[f"{tap.name}-{name}" for tap, name, _ in numeric_settings()],
)
def test_each_numeric_setting_reaches_every_stream_as_a_plain_number(
    tmp_path: Path, tap_class: type[Tap], setting: str, fractional: bool
) -> None:
    spec = tap_class.config_jsonschema["properties"][setting]
    low = spec.get("minimum", 0)
    value: float = low + 1.5 if fractional else low + 1
    value = min(value, spec.get("maximum", value))
    path = write_config(tmp_path, {**MINIMAL[tap_class], setting: value})

    tap = tap_class(config=path, validate_config=True)

    for config in (tap.config, *(stream.config for stream in tap.streams.values())):
        assert type(config[setting]) is (float if fractional else int), setting
        assert config[setting] == value
    assert not any(isinstance(v, decimal.Decimal) for v in tap.config.values())


FRACTIONAL = {
    "request_timeout": 2.5,
    "retry_base_seconds": 0.25,
    "retry_max_wait_seconds": 0.5,
}


def test_cast_retries_with_fractional_settings(tmp_path: Path) -> None:
    """Retry waits from fractional settings, and the whole-response deadline of 2.5 s."""
    dataset = CastDataset(
        seed=3, casts=1, campaigns_per_cast=1, events_per_type=5, org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )  # fmt: skip
    server, _ = start_cast_sandbox(dataset)
    try:
        server.script("/generation", ["503", "429-no-retry-after"])
        config = cast_config(server, dataset, **FRACTIONAL)
        run = run_tap(TapCast, write_config(tmp_path, config))  # type: ignore[arg-type]
    finally:
        server.stop()
    truth = {c["id"] for c in dataset.ground_truth()["campaigns"]}
    assert {r["id"] for r in run.records("campaigns")} == truth
    assert server.faults_injected("503") == 1
    assert server.faults_injected("429-no-retry-after") == 1


def test_webcasts_login_retries_with_fractional_settings(tmp_path: Path) -> None:
    dataset = WebcastsDataset(
        seed=5, events=1, registrants_per_event=5, username=WEBCASTS_USERNAME,
        password=WEBCASTS_PASSWORD,
    )  # fmt: skip
    server, _ = start_webcasts_sandbox(dataset)
    try:
        server.script("/api/login", ["503"])
        config = webcasts_config(server, **FRACTIONAL)
        run = run_tap(TapWebcasts, write_config(tmp_path, config))  # type: ignore[arg-type]
    finally:
        server.stop()
    assert len(run.records("events")) == len(dataset.ground_truth()["events"])
    assert server.faults_injected("503") == 1


def test_rev_login_and_throttle_waits_with_fractional_settings(
    tmp_path: Path,
) -> None:
    """The real clock: every wait really sleeps a fractional number of seconds."""
    rev = start_rev(rev_dataset(webcasts=2, sessions=20))
    try:
        rev.server.script("/api/v2/authenticate", ["503"])  # the login's retry wait
        rev.server.script("/scheduled-events", ["429-no-retry-after"])  # a family's pause
        config = rev.config(
            **FRACTIONAL, throttle_wait_seconds=0.25, include_realtime_attendees=False
        )
        run = run_tap(TapRevWebcast, write_config(tmp_path, config))  # type: ignore[arg-type]
    finally:
        rev.server.stop()
    assert {r["id"] for r in run.records("webcasts")} == {w.id for w in rev.dataset.webcasts}
    assert rev.server.faults_injected("503") == 1
    assert rev.server.faults_injected("429-no-retry-after") == 1
