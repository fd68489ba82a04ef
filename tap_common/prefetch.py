"""Bounded concurrent prefetching of partitions, consumed strictly in order.

A Singer SDK stream syncs its partitions one after another, and each waits for its
responses: on an API that answers in 100-500 ms, most of a run is spent waiting. The
:class:`Prefetcher` runs the requests of the next partitions in worker threads while the
main thread maps and writes the current one, and hands each partition's rows over in the
order a sequential run would have produced them. Everything that touches the SDK's state
(bookmarks, STATE messages, record mapping) stays in the main thread.

Bounds: at most ``max_concurrency`` partitions are fetched at once, and each holds at most
``max_chunks_ahead`` chunks of ``CHUNK_ROWS`` rows that the main thread has not taken yet,
so memory does not grow with the size of a partition or the number of partitions.
"""

from __future__ import annotations

import queue
import threading
import typing as t
from dataclasses import dataclass, field

T = t.TypeVar("T")

#: Rows handed over per queue operation: one lock round trip per chunk, not per row.
CHUNK_ROWS = 200

_END = object()


@dataclass
class _Failed:
    error: BaseException


@dataclass
class _Job(t.Generic[T]):
    context: t.Any
    chunks: queue.Queue = field(default_factory=queue.Queue)


class Prefetcher(t.Generic[T]):
    """Fetches ``contexts`` ahead, ``max_concurrency`` at a time; ``rows(context)`` in order.

    ``fetch(context)`` yields one partition's rows; it runs in a worker thread, so it must not
    touch shared mutable state. ``prepare(context)`` runs in the caller's thread just before a
    partition is submitted: the place to read a bookmark the fetch needs.
    """

    def __init__(
        self,
        contexts: t.Sequence[t.Any],
        fetch: t.Callable[[t.Any], t.Iterable[T]],
        *,
        max_concurrency: int,
        prepare: t.Callable[[t.Any], None] | None = None,
        max_chunks_ahead: int = 2,
        thread_name: str = "prefetch",
    ) -> None:
        self.contexts = list(contexts)
        self.fetch = fetch
        self.prepare = prepare
        self.max_concurrency = max_concurrency
        self.max_chunks_ahead = max_chunks_ahead
        self.jobs: list[_Job[T]] = []
        self.next_index = 0  # the partition the caller takes next
        self.stopped = threading.Event()
        # Daemon threads: a run that fails elsewhere must exit, not wait for workers that
        # are blocked handing over rows nobody will take.
        self.submitted: queue.Queue[_Job[T] | None] = queue.Queue()
        self.threads = [
            threading.Thread(target=self._serve, name=f"{thread_name}-{n}", daemon=True)
            for n in range(max_concurrency)
        ]
        for thread in self.threads:
            thread.start()

    def expects(self, context: t.Any) -> bool:
        """Whether ``context`` is the partition to be taken next."""
        index = self.next_index
        return (
            not self.stopped.is_set()
            and index < len(self.contexts)
            and self.contexts[index] == context
        )

    def rows(self, context: t.Any) -> t.Iterator[T]:
        """The rows of ``context``, which must be the next partition in order."""
        if not self.expects(context):
            msg = f"partitions must be taken in order; got {context!r} out of turn"
            raise RuntimeError(msg)
        index = self.next_index
        self.next_index += 1
        # One partition more than there are threads: it starts as soon as one frees up.
        self._submit_up_to(index + self.max_concurrency + 1)
        job = self.jobs[index]
        try:
            while True:
                item = job.chunks.get()
                if item is _END or isinstance(item, _Failed):
                    break
                yield from item
        except BaseException:
            self.close()
            raise
        finally:
            self.jobs[index] = _Job(None)  # let the partition's buffers go
        if self.next_index == len(self.contexts):
            self.close()
        if isinstance(item, _Failed):
            # This partition's own failure: the partitions fetched after it stay valid.
            raise item.error

    def close(self) -> None:
        """Stop the workers: they drop what they fetched and end."""
        if not self.stopped.is_set():
            self.stopped.set()
            for _ in self.threads:
                self.submitted.put(None)

    def _submit_up_to(self, stop: int) -> None:
        while len(self.jobs) < min(stop, len(self.contexts)):
            job: _Job[T] = _Job(self.contexts[len(self.jobs)], queue.Queue(self.max_chunks_ahead))
            if self.prepare is not None:
                self.prepare(job.context)
            self.jobs.append(job)
            self.submitted.put(job)

    def _serve(self) -> None:
        while (job := self.submitted.get()) is not None and not self.stopped.is_set():
            self._work(job)

    def _work(self, job: _Job[T]) -> None:
        try:
            chunk: list[T] = []
            for row in self.fetch(job.context):
                chunk.append(row)
                if len(chunk) >= CHUNK_ROWS:
                    if not self._put(job, chunk):
                        return
                    chunk = []
            if chunk and not self._put(job, chunk):
                return
            self._put(job, _END)
        except BaseException as error:  # handed to the caller, raised where a sequential run would
            self._put(job, _Failed(error))

    def _put(self, job: _Job[T], item: t.Any) -> bool:
        """Queue ``item``, waiting while the caller is behind; False once stopped."""
        while not self.stopped.is_set():
            try:
                job.chunks.put(item, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False
