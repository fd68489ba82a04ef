"""Secret values never reach a log line, whatever logs them.

Credentials from the settings and the session ids and tokens a login returns are
registered here as soon as they are known. A filter on every log handler replaces them,
wherever they appear in a line (a vendor error message that echoes a session id, an
exception text), with ``[redacted]``. Messages the taps build never include them in the
first place; this is the net under that rule.
"""

from __future__ import annotations

import logging
import threading
import typing as t

from typing_extensions import override

REDACTED = "[redacted]"
#: Shorter values are not redacted: they would blank ordinary words and numbers.
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: list[str] = []  # longest first, so a secret inside another is not half-replaced


def register_secret(value: t.Any) -> None:
    """Redact ``value`` from every log line from now on."""
    text = str(value) if value is not None else ""
    if len(text) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if text not in _secrets:
            _secrets.append(text)
            _secrets.sort(key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Replace registered secrets in a record's message and exception text."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactSecrets()


def redact_every_handler() -> None:
    """Put the filter on every handler of every logger that has one (idempotent)."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
