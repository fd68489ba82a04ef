"""Shared fixtures: the in-process sandboxes and a helper that runs a tap and captures it."""

from __future__ import annotations

import io
import json
import typing as t
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field

import pytest


@dataclass
class TapRun:
    """What one tap run printed: parsed Singer messages and the raw logs."""

    messages: list[dict] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""

    def records(self, stream: str) -> list[dict]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def final_state(self) -> dict:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else {}


def run_tap(
    tap_class: type, config: dict, state: dict | None = None, catalog: dict | None = None
) -> TapRun:
    """Run a tap's sync in-process, capturing Singer output and logs."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)  # the writer needs .buffer
    err = io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        tap = tap_class(config=config, state=state, catalog=catalog, validate_config=True)
        tap.sync_all()
    out.flush()
    run = TapRun(stdout=raw.getvalue().decode(), stderr=err.getvalue())
    run.messages = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return run


@pytest.fixture
def capture_logs(caplog: pytest.LogCaptureFixture) -> t.Iterator[pytest.LogCaptureFixture]:
    caplog.set_level("DEBUG")
    return caplog
