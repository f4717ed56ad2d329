"""The project's own pagination: the fewest requests that cover a time window.

Exchanges like Binance answer "candles at or after `since`", up to the page limit. So one
request at the window start also finds a symbol's first candle when the window precedes
the listing, and every later page starts where the previous one ended. Once the first page
has shown where candles begin, the remaining pages' starts are known and they are fetched
concurrently, then handed over in order so that days complete in order.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.timeframes import now_ms, timeframe_ms


@dataclass(frozen=True)
class Page:
    rows: list[list]  # candles with open time inside the window, ascending
    covered_until: int  # the exchange has no other candle between the window start and this
    first_seen: int | None  # the exchange's first candle at or after the window start


async def fetch_window(client: ExchangeClient, symbol: str, timeframe: str, start: int,
                       end: int, *, prefetch: int = 4) -> AsyncIterator[Page]:
    """Pages of the closed candles with open time in [start, end), in time order."""
    step = timeframe_ms(timeframe)
    limit = client.page_limit
    trading = client.is_trading(symbol)

    async def page_at(since: int, until: int) -> Page:
        slots = -(-(until - since) // step)
        want = min(limit, slots)
        requested_at = now_ms()
        rows = await client.fetch_ohlcv(symbol, timeframe, since, want, expect_rows=trading)
        rows = [row for row in rows if since <= row[0]]
        if len(rows) >= want:
            # A full page proves there is nothing else up to its last candle.
            covered = rows[-1][0] + step
        else:
            # A short page held everything the exchange had when asked.
            covered = max(requested_at, rows[-1][0] + step if rows else since)
        return Page([row for row in rows if row[0] < until], min(covered, until),
                    rows[0][0] if rows else None)

    first = await page_at(start, end)
    yield first
    windows = deque(range(first.covered_until, end, limit * step))
    pending: deque[asyncio.Task[Page]] = deque()
    try:
        while windows or pending:
            while windows and len(pending) < prefetch:
                since = windows.popleft()
                pending.append(asyncio.create_task(page_at(since, min(end, since + limit * step))))
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
