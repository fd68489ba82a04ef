"""Prefetcher: partitions fetched ahead in threads, handed over in order, within bounds."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from tap_common.prefetch import CHUNK_ROWS, Prefetcher


def test_rows_come_in_partition_order_whatever_the_fetch_speed():
    def fetch(n):
        time.sleep(0.02 * (5 - n % 5))  # later partitions finish first
        return [(n, i) for i in range(3 * CHUNK_ROWS // 2)]

    contexts = list(range(12))
    prefetcher = Prefetcher(contexts, fetch, max_concurrency=4)
    rows = [row for n in contexts for row in prefetcher.rows(n)]
    assert rows == [(n, i) for n in contexts for i in range(3 * CHUNK_ROWS // 2)]
    assert prefetcher.stopped.is_set()  # closed once the last partition was taken


def test_at_most_max_concurrency_fetches_run_at_once():
    running, peak, lock = 0, 0, threading.Lock()

    def fetch(n):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        yield n

    prefetcher = Prefetcher(range(20), fetch, max_concurrency=3)
    assert [row for n in range(20) for row in prefetcher.rows(n)] == list(range(20))
    assert peak == 3


def test_a_partition_buffers_a_bounded_number_of_rows():
    produced = {n: 0 for n in range(3)}

    def fetch(n):
        for i in range(100 * CHUNK_ROWS):
            produced[n] += 1
            yield i

    prefetcher = Prefetcher(range(3), fetch, max_concurrency=3, max_chunks_ahead=2)
    first = prefetcher.rows(0)
    next(first)
    time.sleep(0.3)
    # Two chunks queued, one being filled, one taken: never the whole partition.
    assert all(count <= 4 * CHUNK_ROWS + 1 for count in produced.values())
    prefetcher.close()


def test_a_failure_is_raised_at_its_partition_after_the_earlier_ones():
    def fetch(n):
        if n == 3:
            raise ValueError("partition 3 failed")
        return [n]

    prefetcher = Prefetcher(range(6), fetch, max_concurrency=4)
    taken = [row for n in range(3) for row in prefetcher.rows(n)]
    with pytest.raises(ValueError, match="partition 3 failed"):
        list(prefetcher.rows(3))
    assert taken == [0, 1, 2]
    # The partitions after a failed one are still served (the run goes on without it).
    assert not prefetcher.stopped.is_set()
    assert [row for n in (4, 5) for row in prefetcher.rows(n)] == [4, 5]
    assert prefetcher.stopped.is_set()


def test_partitions_out_of_turn_are_refused():
    prefetcher = Prefetcher(range(3), lambda n: [n], max_concurrency=2)
    with pytest.raises(RuntimeError, match="out of turn"):
        list(prefetcher.rows(1))


def test_a_process_exits_while_workers_still_hold_rows():
    # A run that fails elsewhere never takes the rows fetched ahead: exit must not wait.
    script = (
        "from tap_common.prefetch import Prefetcher\n"
        "p = Prefetcher(range(8), lambda n: iter(range(10**6)), max_concurrency=4)\n"
        "rows = p.rows(0)\n"
        "next(rows)\n"
        "print('leaving')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    assert done.stdout.strip() == "leaving"
