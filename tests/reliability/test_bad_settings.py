"""Bad settings, for every tap, through the real command line.

Each case: a non-zero exit, no traceback, nothing on stdout, a line naming the setting,
no secret echoed, and not a single HTTP request (the sandbox counts them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sandbox import start_cast_sandbox, start_rev_sandbox, start_webcasts_sandbox
from tests.helpers import ROOT

SECRET = "S3CRET-value-never-printed"

VALID = {
    "tap_cast": {"api_key": SECRET, "org_slug": "demo-org", "cast_ids": [1940]},
    "tap_webcasts": {"username": "reports@example.com", "password": SECRET},
    "tap_rev_webcast": {"api_key": "key", "secret": SECRET, "start_date": "2026-01-01T00:00:00Z"},
}
DROP = object()  # marks a setting to remove from the valid config

CASES = {
    "tap_cast": [
        ({"api_key": DROP}, "api_key"),
        ({"org_slug": DROP}, "org_slug"),
        ({"cast_ids": DROP}, "cast_ids"),
        ({"cast_ids": "1940"}, "cast_ids"),
        ({"cast_ids": []}, "cast_ids"),
        ({"page_size": "two hundred"}, "page_size"),
        ({"event_types": ["click"]}, "event_types"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"max_retries": -1}, "max_retries"),
        ({"base_url": "cast.app"}, "base_url"),
        ({"base_url": "https://cast.app/?key=1"}, "base_url"),
        ({"org_slug": "demo org!"}, "org_slug"),
    ],
    "tap_webcasts": [
        ({"username": DROP}, "username"),
        ({"password": DROP}, "password"),
        ({"response_format": "xlsx"}, "response_format"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"incl_domain": ["a.com"], "excl_domain": ["b.com"]}, "incl_domain"),
        ({"event_ids": "1087592"}, "event_ids"),
        ({"date_range_start": "01/15/2024"}, "date_range_start"),
        ({"live_viewers": "sometimes"}, "live_viewers"),
        ({"base_url": "ftp://api.webcasts.com"}, "base_url"),
    ],
    "tap_rev_webcast": [
        ({"api_key": DROP, "secret": DROP}, "api_key"),
        ({"secret": DROP}, "secret"),
        ({"username": "reader", "password": "pw"}, "username"),
        ({"start_date": DROP}, "start_date"),
        ({"run_numbers": "0"}, "run_numbers"),
        ({"run_numbers": []}, "run_numbers"),
        ({"window_days": "thirty"}, "window_days"),
        ({"base_url": "rev.example.com"}, "base_url"),
    ],
}
SANDBOXES = {
    "tap_cast": start_cast_sandbox,
    "tap_webcasts": start_webcasts_sandbox,
    "tap_rev_webcast": start_rev_sandbox,
}


@pytest.mark.parametrize(
    ("module", "changes", "named"),
    [(module, changes, named) for module, cases in CASES.items() for changes, named in cases],
)
def test_bad_setting_is_one_clear_line_and_no_request(tmp_path, module, changes, named):
    server, _ = SANDBOXES[module]()
    try:
        config = {"base_url": server.url, **VALID[module], **changes}
        config = {k: v for k, v in config.items() if v is not DROP}
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        result = subprocess.run(
            [sys.executable, "-m", module, "--config", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert server.requests == [], "a request was made before the settings were checked"
    finally:
        server.stop()
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line and named in line]
    assert errors, result.stderr
