"""Record helpers shared by the taps: timestamps and fields the schema does not name."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import typing as t

from tap_common.errors import VendorDataError

UTC = dt.timezone.utc
# json.dumps(..., default=str) without building an encoder per call.
_KEY_ENCODER = json.JSONEncoder(default=str)


def envelope_keys(body: dict, names: t.Iterable[str]) -> dict:
    """``body`` with each key of ``names`` under that spelling, whichever case and
    underscores the vendor wrote it in (``Sessions``, ``TotalSessions``, ``scroll_id``).

    Other keys stay as they are. A key written twice in different spellings raises
    VendorDataError: which one holds the rows could only be guessed.
    """
    wanted = {_folded(name): name for name in names}
    out: dict = {}
    for key, value in body.items():
        name = wanted.get(_folded(str(key)), key)
        if name in out:
            msg = f"the envelope holds '{name}' twice, in different spellings ({sorted(body)})"
            raise VendorDataError(msg)
        out[name] = value
    return out


def _folded(name: str) -> str:
    return name.replace("_", "").lower()


def surrogate_key(parts: t.Sequence[t.Any]) -> str:
    """A deterministic key for a row the vendor gives no id: SHA-256 of ``parts`` as JSON.

    Streams document in their schema which fields the key hashes.
    """
    return hashlib.sha256(_KEY_ENCODER.encode(parts).encode()).hexdigest()[:32]


def parse_timestamp(value: t.Any, *, field: str, naive_tz: dt.tzinfo = UTC) -> dt.datetime:
    """Parse an ISO 8601 timestamp; a vendor time without offset is taken in ``naive_tz``.

    Raises VendorDataError naming the field for a value that is not a timestamp, so a
    format change at the vendor fails the partition instead of landing bad data.
    """
    if not isinstance(value, str):
        msg = f"field '{field}' holds {value!r}, not an ISO 8601 timestamp"
        raise VendorDataError(msg)
    try:
        parsed = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] == "Z" else value)
    except ValueError:
        msg = f"field '{field}' holds {value!r}, not an ISO 8601 timestamp"
        raise VendorDataError(msg) from None
    if parsed.tzinfo is None:
        if naive_tz is UTC:
            # Parsing again with the offset costs a fifth of .replace(tzinfo=...), and this
            # runs for every Cast event; a date without a time does not take an offset.
            with contextlib.suppress(ValueError):
                aware = dt.datetime.fromisoformat(value + "+00:00")
                if aware.tzinfo is not None:  # "2024-01-31+00:00" parses, without an offset
                    return aware
        parsed = parsed.replace(tzinfo=naive_tz)
    return parsed


def utc_iso(value: t.Any, *, field: str, naive_tz: dt.tzinfo = UTC) -> str | None:
    """Normalise a vendor timestamp to ISO 8601 in UTC with an explicit offset (None stays)."""
    if value is None or value == "":
        return None
    return parse_timestamp(value, field=field, naive_tz=naive_tz).astimezone(UTC).isoformat()


def split_unmapped(
    raw: t.Mapping[str, t.Any], known: t.Collection[str]
) -> tuple[t.Mapping[str, t.Any], dict[str, t.Any] | None]:
    """Split a vendor object into the fields we map and the ones we do not know yet.

    The unknown ones are kept (in an ``unmapped_fields`` object column) rather than
    dropped, so a vendor adding a field never loses data silently. The mapped part may be
    ``raw`` itself: callers build new records from it and never change it.
    """
    if raw.keys() <= (known if isinstance(known, frozenset | set) else set(known)):
        return raw, None  # the usual case, checked in C: every field is known
    mapped = {k: v for k, v in raw.items() if k in known}
    extra = {k: v for k, v in raw.items() if k not in known}
    return mapped, (extra or None)
