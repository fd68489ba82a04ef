"""Behaviour every tap in this distribution shares: settings, config checks, one-line errors."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import logging
import re
import sys
import typing as t
from functools import cached_property
from types import MappingProxyType
from urllib.parse import urlsplit

import click
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

from tap_common.conform import clean_text
from tap_common.failures import PartitionsFailedError
from tap_common.inputs import (
    InputFileError,
    future_bookmarks,
    read_catalog,
    read_json_object,
    read_state,
)
from tap_common.logs import SDK_LINES
from tap_common.run import RunInterrupted, RunT
from tap_common.sdk_internals import WrappedRun
from tap_common.secrets import redact, redact_every_handler, register_secret

if t.TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.singerlib import Message


# Settings every tap offers, appended to each tap's own list.
COMMON_SETTINGS = th.PropertiesList(
    th.Property(
        "request_timeout",
        th.NumberType(minimum=1),
        default=60,
        title="Request timeout (seconds)",
        description="Seconds to wait for each HTTP response before retrying it.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0),
        default=5,
        title="Retries per request",
        description=(
            "How many times a request is retried after a 429, a 5xx, a timeout, a dropped "
            "connection or an unreadable body before its partition fails: the run reads the "
            "other partitions, keeps that one's bookmark where it was, then exits with an error."
        ),
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=32),
        default=8,
        title="Concurrent requests",
        description="How many partitions (campaign and event type, event, webcast) are "
        "requested at once, ahead of the one being written. Records, their order and the "
        "state are the same as with 1, which requests one page at a time.",
    ),
    th.Property(
        "retry_base_seconds",
        th.NumberType(minimum=0),
        default=2,
        title="First retry wait (seconds)",
        description="Wait before the first retry; it doubles on each further retry. "
        "A Retry-After header from the API takes precedence.",
    ),
    th.Property(
        "retry_max_wait_seconds",
        th.NumberType(minimum=0),
        default=120,
        title="Longest retry wait (seconds)",
        description="Cap on any single wait between retries, Retry-After included.",
    ),
    th.Property(
        "log_metrics",
        th.BooleanType(),
        default=False,
        title="Log METRIC lines",
        description="Also log the SDK's METRIC lines (one per request, and record counts) "
        "for log-based monitoring. Off by default: the tap logs one line per finished "
        "partition and a summary per stream instead.",
    ),
)


def check_http_url(config: t.Mapping[str, t.Any], setting: str) -> list[str]:
    """An error line when ``config[setting]`` is not an absolute http(s) URL."""
    value = config.get(setting)
    if value is None:
        return []
    parts = urlsplit(str(value))
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return [
            f"Setting '{setting}' must be an absolute http(s) URL such as "
            f"'https://example.com', got {value!r}."
        ]
    if parts.query or parts.fragment:
        return [f"Setting '{setting}' must not carry a query string or fragment."]
    return []


def plain_numbers(config: t.Mapping[str, t.Any], schema: dict) -> dict[str, t.Any]:
    """``config`` with every numeric setting as an int or a float.

    The SDK reads a config file's numbers with a fractional part as Decimal, which
    ``time.sleep`` and float arithmetic refuse (``retry_base_seconds: 0.5`` crashed a
    login retry): every path gets plain numbers instead.
    """
    properties = schema.get("properties", {})
    plain = dict(config)
    for name, value in config.items():
        if isinstance(value, decimal.Decimal):
            types = properties.get(name, {}).get("type", ())
            integral = "integer" in types and value == value.to_integral_value()
            plain[name] = int(value) if integral else float(value)
    return plain


class RedactQueryValues(logging.Filter):
    """Blank the values of the named query parameters in log lines.

    urllib3 logs every request URL at DEBUG; an API that takes credentials or session ids
    in the query string would otherwise print them when a user debugs a run.
    """

    def __init__(self, names: t.Iterable[str]) -> None:
        super().__init__()
        self.pattern = re.compile(rf"\b({'|'.join(map(re.escape, names))})=[^&\s\"']*")

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.pattern.sub(r"\1=[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


# Loggers of the HTTP stack that print request URLs.
URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry")
_redacted: set[str] = set()


def redact_query_params(names: t.Iterable[str]) -> None:
    """Install (once per name) the filter that blanks these query parameters in URL logs."""
    new = set(names) - _redacted
    if new:
        _redacted.update(new)
        for logger in URL_LOGGERS:
            logging.getLogger(logger).addFilter(RedactQueryValues(new))


class SingerWriter(MsgSpecWriter):
    """msgspec serialisation, and one flush per STATE/SCHEMA message instead of per record.

    The SDK's writer flushes stdout after every message: one write system call per record.
    RECORD lines go out as the buffer fills;
    every other message flushes, so a STATE never reaches the target before the records
    it covers, and the buffered records never outrun their STATE.
    """

    @override
    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()

    @override
    def serialize_message(self, message: Message) -> bytearray:
        """The message as one JSON line; text no line or warehouse can hold is cleaned
        (tap_common/conform.py ``clean_text``) instead of crashing the writer."""
        try:
            line = super().serialize_message(message)
        except UnicodeEncodeError:  # an unpaired surrogate
            return serialize_jsonl(clean_text(message.to_dict()))
        if b"\\u0000" in line:
            return serialize_jsonl(clean_text(message.to_dict()))
        return line


class VendorTap(WrappedRun, t.Generic[RunT]):
    """Base for our taps: the run object, extra config checks, errors as one clear line."""

    #: Query parameters that carry credentials or session ids, blanked in every log line.
    secret_query_params: t.ClassVar[tuple[str, ...]] = ()
    #: The tap's streams, parents before their children.
    stream_types: t.ClassVar[tuple[type[Stream], ...]] = ()

    message_writer_class = SingerWriter
    package_name = "webinar-taps"  # the distribution that ships all three taps

    def __init__(self, *args: t.Any, validate_config: bool = True, **kwargs: t.Any) -> None:
        redact_query_params(self.secret_query_params)
        logging.getLogger("singer_sdk").addFilter(SDK_LINES)
        # Before the SDK checks the settings: its messages quote wrong values.
        given = kwargs.get("config")
        self.register_secrets(given if isinstance(given, dict) else {})
        try:
            super().__init__(*args, validate_config=validate_config, **kwargs)
        except ConfigValidationError as exc:
            raise self.config_error(exc.errors) from None
        if not self.config.get("log_metrics"):
            self.metrics_logger.setLevel(logging.WARNING)
        self.register_secrets(self.config)  # settings from the environment too
        redact_every_handler()
        if validate_config:
            errors = [*self.date_format_errors(), *self.extra_config_errors()]
            if errors:
                raise self.config_error(errors)

    @property
    @override
    def config(self) -> t.Mapping[str, t.Any]:
        """The settings, numbers as int or float (``plain_numbers``); streams copy it."""
        return MappingProxyType(plain_numbers(super().config, self.config_jsonschema))

    @classmethod
    def register_secrets(cls, config: t.Mapping[str, t.Any]) -> None:
        """Blank the values of the settings marked secret in every log line."""
        for name, spec in cls.config_jsonschema.get("properties", {}).items():
            if spec.get("secret") and config.get(name) is not None:
                register_secret(config[name])

    def config_error(self, errors: list[str]) -> ConfigValidationError:
        """The SDK's config error, each line ending with what the named setting expects."""
        return ConfigValidationError(
            "Config validation failed",
            errors=[redact(self._with_hint(error)) for error in errors],
            schema=self.config_jsonschema,
        )

    def new_run(self) -> RunT:
        """The run object of this tap (see tap_common/run.py)."""
        raise NotImplementedError

    @cached_property
    def run(self) -> RunT:
        """What the streams of this run share; created on first use, in the main thread,
        once the settings are checked."""
        run = self.new_run()
        run.streams = self.streams
        return run

    @override
    def discover_streams(self) -> list[Stream]:
        return [stream_type(tap=self) for stream_type in self.stream_types]

    @override
    def run_starting(self) -> None:
        redact_every_handler()  # handlers set up since __init__ too
        SDK_LINES.started.clear()
        for line in future_bookmarks(self.state, self.now()):
            self.logger.warning("%s", line)

    @override
    def run_complete(self) -> None:
        """Partitions failed while the rest was read: the run ends with their lines."""
        error = self.run.failures.error()
        if error is not None:
            raise error

    @override
    def run_ended(self) -> None:
        """The run object closes (stops worker threads, frees files, logs totals) however
        the run ended."""
        self.run.close()

    def now(self) -> dt.datetime:
        """The time now, for checks of the state (taps with their own clock override it)."""
        return dt.datetime.now(dt.timezone.utc)

    def extra_config_errors(self) -> list[str]:
        """Checks JSON Schema cannot express (URL shape, conflicting settings)."""
        return []

    def date_format_errors(self) -> list[str]:
        """JSON Schema leaves ``format`` unchecked: check every date and date-time setting."""
        errors = []
        for name, spec in self.config_jsonschema.get("properties", {}).items():
            value, kind = self.config.get(name), spec.get("format")
            if value is None or kind not in ("date", "date-time"):
                continue
            try:  # a date-time is accepted for a date too: Meltano may hand over either
                dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                example = "2024-01-31" if kind == "date" else "2024-01-31T00:00:00Z"
                errors.append(
                    f"Setting '{name}' must be an ISO 8601 {kind} such as "
                    f"'{example}', got {value!r}."
                )
        return errors

    def _with_hint(self, error: str) -> str:
        """Append what the named setting expects, so the line says how to fix it."""
        properties = self.config_jsonschema.get("properties", {})
        for name, spec in properties.items():
            if f"'{name}'" in error and spec.get("description"):
                return f"{error} -- '{name}': {spec['description']}"
        return error

    @classmethod
    @override
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """The --config files; one that is missing or not a JSON object is one line, exit 1."""
        try:
            for path in value:
                if path != "ENV":
                    read_json_object(path, "--config")
        except InputFileError as exc:
            cls.logger.error("%s", exc)
            ctx.exit(1)
        return super().cb_config(ctx, param, value)

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with --state and --catalog read by ``invoke``: click would
        open them itself and answer a missing file with a usage message."""
        command = super().get_singer_command()
        for param in command.params:
            if param.name in ("state", "catalog"):
                param.type = click.STRING
        return command

    @classmethod
    @override
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """Run the tap; an error the user must act on becomes one line and exit code 1, a
        run stopped by a signal exits 143 (SIGTERM) or 130 (SIGINT)."""
        try:
            for option, read in (("state", read_state), ("catalog", read_catalog)):
                if isinstance(kwargs.get(option), str):
                    kwargs[option] = io.StringIO(read(kwargs[option]))
            super().invoke(*args, **kwargs)
        except InputFileError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        except RunInterrupted as exc:
            cls.logger.error(
                "%s: stopped by %s before the run finished. The last STATE message is valid: "
                "the next run resumes from it.",
                cls.name,
                exc.signal_name,
            )
            sys.exit(exc.exit_status)
        except ConfigValidationError as exc:
            # One line per wrong setting, and nothing after it: the SDK would end with
            # "Config validation failed" and the whole settings schema.
            for error in exc.errors:
                cls.logger.error(error)
            sys.exit(1)
        except PartitionsFailedError as exc:
            for line in (exc.headline, *exc.lines):  # one line per failed partition
                cls.logger.error("%s: %s", cls.name, line)
            sys.exit(1)
        except FatalAPIError as exc:
            cls.logger.error("%s: %s", cls.name, exc)
            sys.exit(1)
