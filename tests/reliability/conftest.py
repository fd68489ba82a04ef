"""Reliability tests reuse the per-tap fixtures."""

from tests.cast.conftest import cast_dataset, cast_sandbox, config, events_catalog

__all__ = ["cast_dataset", "cast_sandbox", "config", "events_catalog"]
