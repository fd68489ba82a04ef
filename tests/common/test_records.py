"""tap_common.records: timestamps are read the same way on the fast path and the slow one."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from tap_common.errors import VendorDataError
from tap_common.records import parse_timestamp, utc_iso

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-12-20T22:54:33", dt.datetime(2022, 12, 20, 22, 54, 33, tzinfo=UTC)),
        ("2022-12-20 22:54:33", dt.datetime(2022, 12, 20, 22, 54, 33, tzinfo=UTC)),
        ("2022-12-20T22:54:33.5", dt.datetime(2022, 12, 20, 22, 54, 33, 500000, tzinfo=UTC)),
        ("2022-12-20T22:54", dt.datetime(2022, 12, 20, 22, 54, tzinfo=UTC)),
        ("2022-12-20", dt.datetime(2022, 12, 20, tzinfo=UTC)),
        ("2022-12-20T22:54:33Z", dt.datetime(2022, 12, 20, 22, 54, 33, tzinfo=UTC)),
        (
            "2022-12-20T22:54:33+02:00",
            dt.datetime(2022, 12, 20, 22, 54, 33, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
    ],
)
def test_naive_times_are_utc_and_offsets_are_kept(value, expected):
    parsed = parse_timestamp(value, field="event_at")
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_naive_times_in_another_zone():
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    assert utc_iso("2024-07-01 12:00:00", field="t", naive_tz=berlin) == "2024-07-01T10:00:00+00:00"
    assert utc_iso("2024-07-01", field="t", naive_tz=berlin) == "2024-06-30T22:00:00+00:00"


@pytest.mark.parametrize("value", ["yesterday", "", 1671576873, None, "2022-13-01T00:00:00"])
def test_non_timestamps_name_the_field(value):
    with pytest.raises(VendorDataError, match="field 'event_at' holds"):
        parse_timestamp(value, field="event_at")
