"""tap_common.secrets: a registered secret never reaches a log line, at any level."""

from __future__ import annotations

import io
import logging

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_cast.tap import TapCast
from tap_common.secrets import REDACTED, redact, redact_every_handler, register_secret


def test_a_registered_secret_is_blanked_in_every_handler_at_every_level():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test-secrets.vendor")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        register_secret("si-7f3a9c2e")
        redact_every_handler()
        logger.debug("session %s expired", "si-7f3a9c2e")
        logger.warning("vendor said: invalid session si-7f3a9c2e for user")
        try:
            raise ValueError("echoed si-7f3a9c2e")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "si-7f3a9c2e" not in output
    assert f"session {REDACTED} expired" in output
    assert f"invalid session {REDACTED} for user" in output
    assert f"ValueError: echoed {REDACTED}" in output


def test_short_values_are_not_treated_as_secrets():
    register_secret("ab")
    assert redact("ab cd") == "ab cd"


def test_a_secret_inside_a_longer_one_does_not_leave_half_of_the_longer():
    register_secret("token-1234")
    register_secret("token-1234-extended")
    assert redact("x token-1234-extended y") == f"x {REDACTED} y"


def test_a_secret_setting_of_the_wrong_type_is_not_quoted_in_the_error():
    with pytest.raises(ConfigValidationError) as caught:
        TapCast(config={"api_key": 918273645, "org_slug": "demo-org", "cast_ids": [1]})
    assert caught.value.errors
    assert not any("918273645" in error for error in caught.value.errors)
    assert any("config['api_key']" in error for error in caught.value.errors)
