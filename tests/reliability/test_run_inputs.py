"""What operators and orchestrators hand the taps, through the real console scripts.

Bad --config, --state and --catalog files: one line naming the file and what is wrong,
exit 1, nothing on stdout, not a single request. SIGTERM and SIGINT: the run ends promptly
with 143 or 130 (never 0, which an orchestrator records as success), its last message a
STATE from which a second run reads every row the first one did not write. A bookmark in
the future: a warning.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from sandbox import (
    CastDataset,
    FaultConfig,
    WebcastsDataset,
    start_cast_sandbox,
    start_rev_sandbox,
    start_webcasts_sandbox,
)
from tap_cast.tap import TapCast
from tap_common.inputs import future_bookmarks, read_state
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    ROOT,
    WEBCASTS_PASSWORD,
    WEBCASTS_USERNAME,
    cast_config,
    rev_config,
    rev_dataset,
    run_tap,
    webcasts_config,
)

if t.TYPE_CHECKING:
    from sandbox import SandboxServer

SCRIPTS = {
    "tap_cast": "tap-cast",
    "tap_webcasts": "tap-webcasts",
    "tap_rev_webcast": "tap-rev-webcast",
}
TAP_BIN = Path(sys.executable).parent


def start(module: str, latency_ms: float = 0) -> tuple[SandboxServer, dict]:
    """A sandbox for ``module`` and a config that reads all of it, one request at a time."""
    faults = FaultConfig(latency_ms=latency_ms)
    if module == "tap_cast":
        dataset = CastDataset(
            seed=11, casts=2, campaigns_per_cast=3, events_per_type=40, org_slug=CAST_ORG,
            api_key=CAST_API_KEY,
        )  # fmt: skip
        server, _ = start_cast_sandbox(dataset, faults=faults)
        return server, cast_config(server, dataset, max_concurrency=1)
    if module == "tap_webcasts":
        dataset = WebcastsDataset(
            seed=3, events=6, username=WEBCASTS_USERNAME, password=WEBCASTS_PASSWORD
        )
        server, _ = start_webcasts_sandbox(dataset, faults=faults)
        return server, webcasts_config(server, max_concurrency=1)
    server, api = start_rev_sandbox(rev_dataset(webcasts=4, sessions=120), faults=faults)
    api.rate_limits["reports"] = 6000
    config = rev_config(
        server, max_concurrency=1, include_realtime_attendees=False, run_numbers=[0],
        reports_requests_per_minute=6000,
    )  # fmt: skip
    return server, config


def tap(module: str, tmp_path: Path, config: dict, *args: str, **popen: t.Any) -> t.Any:
    """The console script of ``module`` with ``config`` written to a file."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    command = [str(TAP_BIN / SCRIPTS[module]), "--config", str(path), *args]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if popen:
        return subprocess.Popen(command, cwd=ROOT, env=env, **popen)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *named: str) -> str:
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    for part in named:
        assert part in errors[0], errors[0]
    return errors[0]


# --- files ---------------------------------------------------------------------------------

BAD_FILES = {
    "truncated": ('{"bookmarks": {"events": {"replication_', "truncated"),
    "not JSON": ("bookmarks: none", "not valid JSON"),
    "an array": ("[1, 2, 3]", "holds a JSON array"),
    "empty": ("", "is empty"),
    "a directory": (None, "is a directory"),
    "missing": (False, "no such file"),
}


def bad_file(tmp_path: Path, case: str) -> str:
    content, _ = BAD_FILES[case]
    path = tmp_path / f"{case.replace(' ', '-')}.json"
    if content is None:
        path.mkdir()
    elif content is not False:
        path.write_text(content)
    return str(path)


@pytest.mark.parametrize("module", list(SCRIPTS))
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_config_file_is_one_line_naming_it(tmp_path, module, case):
    path = bad_file(tmp_path, case)
    result = subprocess.run(
        [str(TAP_BIN / SCRIPTS[module]), "--config", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(result, f"--config {path!r}", BAD_FILES[case][1])


STATE_SHAPES = {
    "bookmarks a list": ('{"bookmarks": [1]}', "'bookmarks' holds a JSON array"),
    "bookmark a string": ('{"bookmarks": {"campaigns": "x"}}', "stream 'campaigns' holds"),
    "partitions an object": (
        '{"bookmarks": {"analytics_events": {"partitions": {}}}}',
        "'partitions' of stream 'analytics_events'",
    ),
    "partition without context": (
        '{"bookmarks": {"analytics_events": {"partitions": [{"replication_key_value": 1}]}}}',
        "not an object with a 'context'",
    ),
}


@pytest.mark.parametrize("module", list(SCRIPTS))
@pytest.mark.parametrize("case", [*BAD_FILES, *STATE_SHAPES])
def test_bad_state_file_is_one_line_and_no_request(tmp_path, module, case):
    if case in STATE_SHAPES:
        path = str(tmp_path / "state.json")
        Path(path).write_text(STATE_SHAPES[case][0])
        named = ["is not a Singer state", STATE_SHAPES[case][1]]
    else:
        path, named = bad_file(tmp_path, case), [BAD_FILES[case][1]]
    server, config = start(module)
    try:
        result = tap(module, tmp_path, config, "--state", path)
        assert server.requests == [], "a request was made before the state was checked"
    finally:
        server.stop()
    assert_one_line_error(result, f"--state {path!r}", *named)


def test_bad_catalog_file_is_one_line(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text('{"streams": {}}')
    result = tap("tap_cast", tmp_path, {"api_key": "k", "org_slug": "o", "cast_ids": [1]},
                 "--catalog", str(path))  # fmt: skip
    assert_one_line_error(result, f"--catalog {str(path)!r}", "'streams' array")


def test_a_good_state_file_is_read_as_written(tmp_path):
    path = tmp_path / "state.json"
    text = '{"bookmarks": {"analytics_events": {"partitions": []}}, "other": 1.10}'
    path.write_text(text)
    assert read_state(str(path)) == text


# --- a bookmark in the future --------------------------------------------------------------


def test_future_bookmark_lines_name_stream_and_partition():
    import datetime as dt

    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    state = {
        "bookmarks": {
            "a": {"replication_key_value": "2026-01-01T00:04:00Z"},  # within the slack
            "b": {"replication_key_value": "2027-01-01T00:00:00+00:00"},
            "c": {"partitions": [{"context": {"id": 7}, "replication_key_value": "2030-05-01"}]},
            "d": {"replication_key_value": 12},
        }
    }
    lines = future_bookmarks(state, now)
    assert len(lines) == 2
    assert lines[0].startswith("stream 'b': the bookmark 2027-01-01T00:00:00+00:00")
    assert lines[1].startswith("stream 'c' id=7: the bookmark 2030-05-01")


def test_a_future_bookmark_is_warned_about(caplog):
    server, config = start("tap_cast")
    try:
        catalog_run = run_tap(TapCast, config)
        state = catalog_run.final_state
        partition = state["bookmarks"]["analytics_events"]["partitions"][0]
        partition["replication_key_value"] = "2099-01-01T00:00:00+00:00"
        with caplog.at_level("WARNING"):
            run_tap(TapCast, config, state=state)
    finally:
        server.stop()
    context = " ".join(f"{k}={v}" for k, v in partition["context"].items())
    warnings = [r.getMessage() for r in caplog.records if "in the future" in r.getMessage()]
    assert len(warnings) == 1
    assert f"stream 'analytics_events' {context}: the bookmark 2099-01-01" in warnings[0]


# --- signals -------------------------------------------------------------------------------


def messages(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def keys_by_stream(found: list[dict]) -> dict[str, set[tuple]]:
    """Each stream's primary keys, from its SCHEMA's key_properties."""
    key_names = {m["stream"]: m["key_properties"] for m in found if m["type"] == "SCHEMA"}
    keys: dict[str, set[tuple]] = {}
    for m in found:
        if m["type"] == "RECORD":
            key = tuple(json.dumps(m["record"].get(k)) for k in key_names[m["stream"]])
            keys.setdefault(m["stream"], set()).add(key)
    return keys


def wait_for(path: Path, text: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while text not in path.read_text():
        assert proc.poll() is None, f"the run ended before {text!r}:\n{path.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {text!r} within {seconds} s"
        time.sleep(0.05)


def interrupted_run(
    module: str, tmp_path: Path, config: dict, signum: int, when: str, *args: str
) -> tuple[int, float, list[dict], str]:
    """Run the tap, send ``signum`` once ``when`` is in its log; (status, seconds from the
    signal to the exit, messages, log)."""
    out, err = tmp_path / "out.jsonl", tmp_path / "err.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = tap(module, tmp_path, config, *args, stdout=stdout, stderr=stderr)
        try:
            wait_for(err, when, proc)
            sent = time.monotonic()
            proc.send_signal(signum)
            status = proc.wait(timeout=60)
            seconds = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
    return status, seconds, messages(out), err.read_text()


@pytest.mark.parametrize(
    ("module", "signum", "status"),
    [(module, signal.SIGTERM, 143) for module in SCRIPTS] + [("tap_cast", signal.SIGINT, 130)],
    ids=[*(f"{module}-TERM" for module in SCRIPTS), "tap_cast-INT"],
)
def test_a_signal_ends_the_run_non_zero_and_its_state_resumes_every_row(
    tmp_path, module, signum, status
):
    server, config = start(module, latency_ms=40)
    try:
        complete = messages_of(tap(module, tmp_path, config))
        # The first partition finished, and more to read: the signal lands mid-run.
        got, seconds, first, log = interrupted_run(module, tmp_path, config, signum, "partition 1")
        assert got == status, log[-3000:]
        assert seconds < 10
        assert first[-1]["type"] == "STATE", "the last message must be a STATE"
        name = signal.Signals(signum).name
        assert f"stopped by {name} before the run finished" in log
        assert "Traceback" not in log
        state_path = tmp_path / "state.json"
        state_path.write_text(json.dumps(first[-1]["value"]))
        resumed = messages_of(tap(module, tmp_path, config, "--state", str(state_path)))
    finally:
        server.stop()
    want = keys_by_stream(complete)
    first_keys, resumed_keys = keys_by_stream(first), keys_by_stream(resumed)
    assert sum(map(len, first_keys.values())) < sum(map(len, want.values())), "not interrupted"
    for stream, keys in want.items():
        read = first_keys.get(stream, set()) | resumed_keys.get(stream, set())
        assert read == keys, f"{stream}: {len(keys - read)} rows never read"


def messages_of(result: subprocess.CompletedProcess[str]) -> list[dict]:
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_sigterm_during_a_retry_wait_ends_the_run_at_once(tmp_path):
    server, config = start("tap_cast")
    try:
        server.faults.retry_after = 100  # the tap would wait 100 s before its retry
        server.script("/analytics_events", ["429"])
        got, seconds, found, log = interrupted_run(
            "tap_cast", tmp_path, {**config, "max_retries": 3}, signal.SIGTERM, "retrying in"
        )
    finally:
        server.stop()
    assert got == 143, log[-3000:]
    assert seconds < 10
    assert found[-1]["type"] == "STATE"
    assert "stopped by SIGTERM" in log
