"""Spaces requests to a rate, on top of ccxt's own throttle.

ccxt's throttle lives in one client in one process. Runs of titan_dagster are separate
processes, so each gets a share of the exchange's budget (requests_per_second in titan.yaml)
and paces itself to it: the shares add up to the budget whatever runs at once.
"""

import asyncio
from collections.abc import Awaitable, Callable


class Pacer:
    def __init__(self, per_second: float | None):
        self.interval = 1 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            loop = asyncio.get_running_loop()
            delay = self._next - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # From the moment actually reached, so a late wake-up never bunches requests.
            self._next = loop.time() + self.interval


class Pause:
    """A pause every request to a source waits out: a rate-limit answer is meant for the
    client, not one request. It stands in front of the pacer: a request whose pacer turn came
    during a pause takes a new turn after it, so the pacer still spaces them once it is over."""

    def __init__(self) -> None:
        self._until = 0.0

    def hold(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._until = max(self._until, loop.time() + seconds)

    @property
    def remaining_s(self) -> float:
        return max(0.0, self._until - asyncio.get_running_loop().time())

    async def wait(self, pace: Callable[[], Awaitable[None]]) -> None:
        """Until no pause holds and `pace` let the request go."""
        loop = asyncio.get_running_loop()
        while True:
            while (remaining := self._until - loop.time()) > 0:
                await asyncio.sleep(remaining)
            await pace()
            if self._until <= loop.time():
                return
