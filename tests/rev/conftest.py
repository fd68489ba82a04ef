"""Fixtures for tap-rev-webcast: a Rev sandbox and the tap sharing one fake clock.

The fake clock only moves when the tap sleeps (rate limits, 429 pauses) or a test moves
it, so token lifetimes, scroll expiry and per-minute limits cost no real time.
"""

from __future__ import annotations

import typing as t

import pytest

from tests.helpers import Rev, rev_dataset, start_rev


@pytest.fixture
def rev() -> t.Iterator[Rev]:
    sandbox = start_rev(rev_dataset())
    yield sandbox
    sandbox.server.stop()
