"""Fixtures for tests that need a tap to run: the Cast sandbox is the smallest."""

from tests.cast.conftest import cast_dataset, cast_sandbox, config

__all__ = ["cast_dataset", "cast_sandbox", "config"]
