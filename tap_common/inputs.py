"""The files an operator or orchestrator hands a tap: --config, --state and --catalog.

Each is read and checked before the run starts; a problem is one line naming the option,
the file and what is wrong, instead of the traceback of whichever library tripped on it.
A bookmark in the future is not an error (a clock may be off), but it would make every
run silently read nothing, so it is warned about.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from pathlib import Path

from tap_common.errors import partition_label

#: How far ahead of now a bookmark may be before it is warned about: clocks differ a little.
FUTURE_SLACK = dt.timedelta(minutes=5)


class InputFileError(Exception):
    """A file given on the command line cannot be used; the message is one line."""


def read_json_object(path: str, option: str) -> tuple[str, dict]:
    """The text of ``path`` and the JSON object it holds, or InputFileError saying what is
    wrong with the file."""
    where = f"{option} {path!r}"
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"{where}: no such file. Check the path.") from None
    except IsADirectoryError:
        raise InputFileError(f"{where} is a directory, not a JSON file.") from None
    except PermissionError:
        raise InputFileError(f"{where} cannot be read: permission denied.") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{where} is not UTF-8 text, so it cannot be JSON.") from None
    except OSError as exc:
        raise InputFileError(f"{where} cannot be read: {exc.strerror or exc}.") from None
    if not text.strip():
        raise InputFileError(f"{where} is empty: it must hold a JSON object.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = " (the file ends early: was it truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise InputFileError(
            f"{where} is not valid JSON: {exc.msg.removesuffix(' at')} at line {exc.lineno} "
            f"column {exc.colno}{cut}."
        ) from None
    if not isinstance(value, dict):
        raise InputFileError(f"{where} holds a JSON {json_kind(value)}; it must hold an object.")
    return text, value


def json_kind(value: t.Any) -> str:
    """``array``, ``string``, ``number``... as JSON names it."""
    kinds = {list: "array", str: "string", bool: "boolean", type(None): "null", dict: "object"}
    return kinds.get(type(value), "number")


def state_shape_error(state: dict) -> str | None:
    """What makes ``state`` not a Singer state (``{"bookmarks": {stream: {...}}}``), or None."""
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        kind = json_kind(bookmarks)
        return f"'bookmarks' holds a JSON {kind}; it must map stream names to objects"
    for stream, bookmark in bookmarks.items():
        if not isinstance(bookmark, dict):
            kind = json_kind(bookmark)
            return f"the bookmark of stream '{stream}' holds a JSON {kind}, not an object"
        partitions = bookmark.get("partitions", [])
        if not isinstance(partitions, list):
            kind = json_kind(partitions)
            return f"'partitions' of stream '{stream}' holds a JSON {kind}, not an array"
        for partition in partitions:
            if not isinstance(partition, dict) or not isinstance(partition.get("context"), dict):
                return f"a partition of stream '{stream}' is not an object with a 'context' object"
    return None


def read_state(path: str) -> str:
    """The text of the Singer state in ``path``, or InputFileError naming the problem."""
    text, state = read_json_object(path, "--state")
    problem = state_shape_error(state)
    if problem is not None:
        raise InputFileError(
            f"--state {path!r} is not a Singer state: {problem}. Fix the file, or remove it "
            "to start from 'start_date' (rows already loaded are then read again)."
        )
    return text


def read_catalog(path: str) -> str:
    """The text of the Singer catalog in ``path``, or InputFileError naming the problem."""
    text, catalog = read_json_object(path, "--catalog")
    streams = catalog.get("streams")
    if not isinstance(streams, list) or not all(isinstance(s, dict) for s in streams):
        raise InputFileError(
            f"--catalog {path!r} is not a Singer catalog: it needs a 'streams' array of "
            "objects. Write one with --discover."
        )
    return text


def future_bookmarks(state: t.Mapping[str, t.Any], now: dt.datetime) -> list[str]:
    """One line per bookmark later than ``now``: such a run reads nothing up to that time."""
    lines = []
    for stream, bookmark in (state.get("bookmarks") or {}).items():
        for entry in [bookmark, *bookmark.get("partitions", [])]:
            value = entry.get("replication_key_value")
            when = as_datetime(value)
            if when is not None and when > now + FUTURE_SLACK:
                where = f"stream '{stream}'"
                if entry is not bookmark:
                    where += f" {partition_label(entry.get('context'))}"
                lines.append(
                    f"{where}: the bookmark {value} in the state is in the "
                    f"future (now is {now.isoformat(timespec='seconds')}); rows up to then are "
                    "not read. If the state was edited or a clock was wrong, correct or remove "
                    "that bookmark."
                )
    return lines


def as_datetime(value: t.Any) -> dt.datetime | None:
    """An ISO 8601 date-time (naive ones taken as UTC), or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
