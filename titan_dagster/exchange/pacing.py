"""Spaces requests to a rate, on top of ccxt's own throttle.

ccxt's throttle lives in one client in one process. Runs of titan_dagster are separate
processes, so each gets a share of the exchange's budget (requests_per_second in titan.yaml)
and paces itself to it: the shares add up to the budget whatever runs at once.
"""

import asyncio


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
