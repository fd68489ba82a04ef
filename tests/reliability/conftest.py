"""Reliability tests reuse the per-tap fixtures."""

from tests.cast.conftest import cast_dataset, cast_sandbox, config

__all__ = ["cast_dataset", "cast_sandbox", "config"]
