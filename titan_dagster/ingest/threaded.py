"""Drives an async iterator on its own thread and hands its items to synchronous code.

Dagster runs asset code synchronously and writes each yielded event to its storage before
asking for the next. Running the fetch loop on another thread keeps it fetching and storing
the remaining symbols while Dagster records the ones already done.
"""

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def iterate_in_thread(make_iterator: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    items: queue.Queue = queue.Queue()

    async def drain() -> None:
        async for item in make_iterator():
            items.put(item)

    def run() -> None:
        try:
            asyncio.run(drain())
            items.put(_DONE)
        except BaseException as error:  # handed to the caller's thread, re-raised there
            items.put(error)

    thread = threading.Thread(target=run, name="titan-fetch", daemon=True)
    thread.start()
    while (item := items.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()
