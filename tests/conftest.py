"""Fixtures shared by every test folder; the helpers they use live in tests/helpers.py."""

from __future__ import annotations

import typing as t

import pytest


@pytest.fixture
def capture_logs(caplog: pytest.LogCaptureFixture) -> t.Iterator[pytest.LogCaptureFixture]:
    caplog.set_level("DEBUG")
    return caplog
