"""Shared fixtures: the in-process sandboxes and a helper that runs a tap and captures it."""

from __future__ import annotations

import copy
import io
import json
import typing as t
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field

import pytest
from singer_sdk.exceptions import FatalAPIError


@dataclass
class TapRun:
    """What one tap run printed: parsed Singer messages and the raw logs."""

    messages: list[dict] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    error: FatalAPIError | None = None  # with expect_error: how the run stopped

    def records(self, stream: str) -> list[dict]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def output(self) -> tuple[list, dict]:
        """Every SCHEMA and RECORD in order (time_extracted aside), and the final state:
        what must not change with max_concurrency."""
        messages = [
            (m["stream"], m.get("record") or m.get("schema"))
            for m in self.messages
            if m["type"] in ("RECORD", "SCHEMA")
        ]
        return messages, self.final_state

    @property
    def final_state(self) -> dict:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else {}


def run_tap(
    tap_class: type,
    config: dict,
    state: dict | None = None,
    catalog: dict | None = None,
    *,
    expect_error: bool = False,
) -> TapRun:
    """Run a tap's sync in-process, capturing Singer output and logs.

    With ``expect_error`` the run must stop with a FatalAPIError, returned in ``error``
    beside everything the tap wrote before it stopped.
    """
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)  # the writer needs .buffer
    err = io.StringIO()
    error = None
    with redirect_stdout(out), redirect_stderr(err):
        # The SDK updates the state dict it is given: pass a copy, so one run's input state
        # can start several runs.
        state = copy.deepcopy(state)
        tap = tap_class(config=config, state=state, catalog=catalog, validate_config=True)
        try:
            tap.sync_all()
        except FatalAPIError as exc:
            if not expect_error:
                raise
            error = exc
    if expect_error and error is None:
        pytest.fail("the run was expected to stop with an error")
    out.flush()
    run = TapRun(stdout=raw.getvalue().decode(), stderr=err.getvalue(), error=error)
    run.messages = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return run


@pytest.fixture
def capture_logs(caplog: pytest.LogCaptureFixture) -> t.Iterator[pytest.LogCaptureFixture]:
    caplog.set_level("DEBUG")
    return caplog
