"""Fixtures shared by every test folder; the helpers they use live in tests/helpers.py."""

from __future__ import annotations

import typing as t

import pytest

from tests.helpers import postgres_server_used

# Fixtures that hand a test a PostgreSQL database: their tests are marked `postgres`, and run
# again where no server answers (tests/e2e/test_postgres_without_server.py).
POSTGRES_FIXTURES = {"postgres", "new_database", "postgres_build"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("postgres")


@pytest.fixture
def capture_logs(caplog: pytest.LogCaptureFixture) -> t.Iterator[pytest.LogCaptureFixture]:
    caplog.set_level("DEBUG")
    return caplog


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    """Say which PostgreSQL server the tests used: the configured one or an embedded one."""
    server = postgres_server_used()
    if server is not None:
        terminalreporter.write_line(f"PostgreSQL: {server.origin}")
