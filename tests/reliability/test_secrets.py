"""No credential, session id or token in stdout, stderr, STATE or any file a run writes.

Each tap runs as a real process at DEBUG level against its sandbox with every fault kind
injected at a seeded 20% rate, plus the vendor's own session trouble (an ended Webcasts.com
session, a revoked Rev token). Every value a run could leak is then searched for in its
output and in every file under its working and temporary directories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import (
    CastDataset,
    FaultConfig,
    RevDataset,
    WebcastsDataset,
    start_cast_sandbox,
    start_rev_sandbox,
    start_webcasts_sandbox,
)
from sandbox.faults import FAULT_KINDS
from tests.helpers import CAST_API_KEY as CAST_KEY
from tests.helpers import CAST_ORG as ORG
from tests.helpers import REV_API_KEY as REV_KEY
from tests.helpers import REV_SECRET, ROOT
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME

pytestmark = pytest.mark.e2e

RETRYING = {"retry_base_seconds": 0, "max_retries": 12, "request_timeout": 1}


#: Answers that are refused for good by design (tests/reliability/test_transport.py): a run
#: meeting one ends non-zero, which this test of a successful run under faults cannot use.
NOT_TRANSIENT = ("gzip-bomb", "deep-json")


def every_fault(seed: int) -> FaultConfig:
    kinds = tuple(kind for kind in FAULT_KINDS if kind not in NOT_TRANSIENT)
    return FaultConfig(rate=0.2, kinds=kinds, seed=seed, retry_after=1, slow_seconds=1.5)


def run_cli(module: str, config: dict, workdir: Path) -> subprocess.CompletedProcess[str]:
    run_dir, tmp_dir = workdir / "cwd", workdir / "tmp"
    run_dir.mkdir()
    tmp_dir.mkdir()
    path = run_dir / "config.json"
    path.write_text(json.dumps(config))
    env = {
        **os.environ,
        "TMPDIR": str(tmp_dir),
        "LOGLEVEL": "DEBUG",
        f"{module.upper()}_LOG_LEVEL": "DEBUG",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", module, "--config", str(path)],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    path.unlink()  # the config holds the secrets by design; everything else must not
    return result


def assert_nothing_leaked(result, workdir: Path, secrets: list[str]) -> None:
    assert result.returncode == 0, result.stderr[-3000:]
    assert "DEBUG" in result.stderr
    written = [p for p in workdir.rglob("*") if p.is_file()]
    for secret in filter(None, secrets):
        assert secret not in result.stdout, "leaked in stdout (RECORD or STATE)"
        assert secret not in result.stderr, "leaked in the logs"
        for path in written:
            assert secret.encode() not in path.read_bytes(), f"leaked in {path.name}"


def test_cast_leaks_nothing(tmp_path):
    dataset = CastDataset(
        seed=3, casts=1, campaigns_per_cast=2, events_per_type=20, org_slug=ORG, api_key=CAST_KEY
    )
    server, _ = start_cast_sandbox(dataset, faults=every_fault(3))
    try:
        config = {
            "api_key": CAST_KEY,
            "org_slug": ORG,
            "cast_ids": dataset.cast_ids(),
            "base_url": server.url,
            "page_size": 10,
            **RETRYING,
        }
        result = run_cli("tap_cast", config, tmp_path)
        assert server.faults_injected() > 0
    finally:
        server.stop()
    assert_nothing_leaked(result, tmp_path, [CAST_KEY])


def test_webcasts_leaks_nothing(tmp_path):
    dataset = WebcastsDataset(
        seed=3, events=3, registrants_per_event=30, username=USERNAME, password=PASSWORD
    )
    server, api = start_webcasts_sandbox(dataset, faults=every_fault(3))
    ended: list[bool] = []

    def end_session_once(request, response):
        if request.path.startswith("/api/reporting/audiencereports") and not ended:
            ended.append(True)
            api.expire_sessions()

    server.hooks.append(end_session_once)
    try:
        config = {"username": USERNAME, "password": PASSWORD, "base_url": server.url, **RETRYING}
        result = run_cli("tap_webcasts", config, tmp_path)
        assert api.login_count >= 2  # the ended session cost a fresh login
        assert server.faults_injected() > 0
    finally:
        server.stop()
    assert_nothing_leaked(result, tmp_path, [PASSWORD, *api.issued_session_values()])


def test_rev_leaks_nothing(tmp_path):
    dataset = RevDataset(seed=3, webcasts=4, sessions=300, api_key=REV_KEY, secret=REV_SECRET)
    server, api = start_rev_sandbox(dataset, faults=every_fault(3))
    api.rate_limits = {"reports": 6000, "realtime": 6000, "get": 24000}
    revoked: list[bool] = []

    def revoke_once(request, response):
        if request.path.endswith("/comments") and not revoked:
            revoked.append(True)
            api.revoke_tokens()

    server.hooks.append(revoke_once)
    try:
        config = {
            "base_url": server.url,
            "api_key": REV_KEY,
            "secret": REV_SECRET,
            "start_date": "2026-01-01T00:00:00Z",
            "run_numbers": [0],
            "reports_requests_per_minute": 6000,
            "realtime_requests_per_minute": 6000,
            "throttle_wait_seconds": 1,
            **RETRYING,
        }
        result = run_cli("tap_rev_webcast", config, tmp_path)
        assert api.count("/api/v2/authenticate") >= 2  # the revoked token cost a new login
        assert server.faults_injected() > 0
    finally:
        server.stop()
    assert_nothing_leaked(result, tmp_path, [REV_KEY, REV_SECRET, *api.issued_tokens])
