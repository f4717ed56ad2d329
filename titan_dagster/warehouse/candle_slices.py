"""A series read in time slices, oldest first. On PostgreSQL READERS connections fetch at
once: the server's work on a slice (scanning, formatting numerics: about as much CPU as the
client's parsing) overlaps the client's work on the one before. Each slice is parsed and
converted in the thread that fetched it, and at most READERS + 1 slices are held, so a
reader that streams them (an export) needs the same memory whatever the range."""

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

SLICE_CANDLES = 100_000  # candle slots: ~6 MB of text, a parquet row group
READERS = 2


def slice_bounds(first_ms: int, last_ms: int, step_ms: int) -> list[tuple[int, int]]:
    """[start, end) open-time ranges covering first_ms..last_ms (both stored candles). The
    last ends a step after last_ms: SQLite compares whole seconds."""
    span = SLICE_CANDLES * step_ms
    return [(start, min(start + span, last_ms + step_ms))
            for start in range(first_ms, last_ms + 1, span)]


def in_order(work: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """work(item) for each item, run by `workers` threads, yielded in the items' order."""
    if workers == 1 or len(items) == 1:
        yield from map(work, items)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
