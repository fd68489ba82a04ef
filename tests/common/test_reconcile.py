"""The reconciled read of one partition (tap_common/reconcile.py), pass by pass, without HTTP.

Each tap's own tests drive the same rules end to end against its sandbox; these pin the
policy itself: what a repeated page, a moving total and a disagreeing total lead to.
"""

from __future__ import annotations

import logging

import pytest

from tap_common.errors import IncompleteReadError
from tap_common.reconcile import PagingStuckError, PartitionRead

CONTEXT = {"cast_id": 1, "event_type": "view"}


def new_read(**options) -> PartitionRead:
    return PartitionRead(
        stream="analytics_events",
        context=CONTEXT,
        logger=logging.getLogger("tests.reconcile"),
        vendor="Cast",
        unit="events",
        total_name="count",
        **options,
    )


def rows(*numbers: int) -> list[dict]:
    return [{"n": n} for n in numbers]


def read_pass(read: PartitionRead, pages: list[list[dict]], total: int | None) -> bool:
    """Pages of one pass (each with ``total``), then the verdict: True to read again."""
    for number, page in enumerate(pages, start=1):
        assert read.page(page, total, where=f"page {number}")
    return read.finish_pass()


def test_a_pass_that_reads_the_total_is_done():
    read = new_read()
    assert not read_pass(read, [rows(1, 2), rows(3)], total=3)
    assert read.passes == 1
    assert read.disagreement is None


def test_without_a_total_a_pass_is_done():
    assert not read_pass(new_read(), [rows(1, 2), rows(3)], total=None)


def test_a_page_repeated_before_the_total_is_read_stops_the_read():
    read = new_read()
    assert read.page(rows(1, 2), 10, where="page 1")
    assert read.page(rows(3, 4), 10, where="page 2")
    with pytest.raises(PagingStuckError) as err:
        read.page(rows(1, 2), 10, where="page 3")  # a cycle back to page 1
    message = str(err.value)
    assert message.startswith(
        "stream 'analytics_events' cast_id=1 event_type=view: Cast answered page 3 with the "
        "same events as an earlier page: paging does not advance (4 events read in 3 "
        "requests; Cast's count says 10)."
    )
    assert "\n" not in message


def test_a_page_repeated_once_the_total_is_read_ends_the_pass():
    read = new_read()
    assert read.page(rows(1, 2), 4, where="page 1")
    assert read.page(rows(3, 4), 4, where="page 2")
    assert not read.page(rows(3, 4), 4, where="page 3")  # dropped: the pass ends
    assert not read.finish_pass()
    assert read.current.rows == 4


@pytest.mark.parametrize("ends", [True, False])
def test_a_page_repeated_without_a_total_ends_the_pass_only_where_the_stream_says(ends):
    read = new_read(repeat_without_total_ends=ends)
    assert read.page(rows(1, 2), None, where="page 1")
    if ends:  # a server that ignores the page number and answers its whole list
        assert not read.page(rows(1, 2), None, where="page 2")
    else:
        with pytest.raises(PagingStuckError):
            read.page(rows(1, 2), None, where="page 2")


def test_a_total_that_moves_between_pages_reads_the_partition_again(caplog):
    read = new_read()
    assert read.page(rows(1, 2), 10, where="page 1")
    assert read.page(rows(5, 6), 8, where="page 2")  # two rows deleted meanwhile
    assert read.page(rows(7, 8), 8, where="page 3")
    with caplog.at_level(logging.WARNING):
        assert read.finish_pass()
    assert "Cast's count went from 10 to 8 while cast_id=1 event_type=view was read" in (
        caplog.text
    )
    assert read.passes == 2
    assert not read_pass(read, [rows(1, 2), rows(3, 4), rows(5, 6), rows(7, 8)], total=8)


def test_a_total_that_keeps_moving_stops_after_the_last_pass():
    read = new_read(max_passes=2)
    for _ in range(2):
        read.page(rows(1), 10, where="page 1")
        read.page(rows(2), 9, where="page 2")
        if read.verdicts == 1:
            with pytest.raises(IncompleteReadError) as err:
                read.finish_pass()
            assert "changed while the partition was read, in each of 2 reads" in str(err.value)
        else:
            assert read.finish_pass()


def test_two_complete_reads_that_agree_are_kept_and_listed(caplog):
    summary: list[str] = []
    read = new_read(summary=summary)
    with caplog.at_level(logging.WARNING):
        assert read_pass(read, [rows(1, 2), rows(3)], total=5)  # read again
        assert not read_pass(read, [rows(1, 2), rows(3)], total=5)  # agrees: kept
    assert "Cast's count says 5 for cast_id=1 event_type=view, but the read found 3" in (
        caplog.text
    )
    assert "two complete reads found 3 events each; the rows are kept" in caplog.text
    assert summary == ["cast_id=1 event_type=view (total 5, read 3 twice)"]


def test_reads_that_disagree_stop_naming_every_read():
    read = new_read()
    assert read_pass(read, [rows(1, 2, 3)], total=5)
    assert read_pass(read, [rows(1, 2)], total=5)
    with pytest.raises(IncompleteReadError) as err:
        read_pass(read, [rows(1)], total=5)
    assert "Cast's count says 5 events; 3 complete reads found 3, then 2, then 1, no two in a " in (
        str(err.value)
    )


def test_an_early_stop_is_no_disagreement():
    read = new_read()
    read.page(rows(1, 2), 100, where="page 1")
    assert not read.finish_pass(complete=False)


def test_a_trusted_total_is_never_outvoted():
    """Webcasts.com: the XML count is a complete read of the same report."""
    read = new_read(trust_total=True, max_passes=3)
    assert read.whole_pass(7, 8)
    assert read.whole_pass(7, 8)  # two reads alike, still not kept
    with pytest.raises(IncompleteReadError) as err:
        read.whole_pass(7, 8)
    assert "Cast says it holds 8 events (count), but 7 events were read" in str(err.value)


def test_the_mapping_thread_learns_each_row_s_pass_in_order():
    read = new_read()
    read.page(rows(1, 2), 3, where="page 1")
    read.restart()  # an expired scroll id: a new pass, no verdict
    read.page(rows(1, 2), 3, where="page 1")
    read.page(rows(3), 3, where="page 2")
    assert not read.finish_pass()
    assert [read.pass_of_next_row() for _ in range(5)] == [0, 0, 1, 1, 1]
