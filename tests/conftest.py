"""Fixtures shared by every test folder; the helpers they use live in tests/helpers.py."""

from __future__ import annotations

import typing as t

import pytest

from tests.helpers import postgres_server_used


@pytest.fixture
def capture_logs(caplog: pytest.LogCaptureFixture) -> t.Iterator[pytest.LogCaptureFixture]:
    caplog.set_level("DEBUG")
    return caplog


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    """Say which PostgreSQL server the tests used: the configured one or an embedded one."""
    server = postgres_server_used()
    if server is not None:
        terminalreporter.write_line(f"PostgreSQL: {server.origin}")
