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
from dataclasses import dataclass, field

from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.exchange.errors import ExchangeAccessError
from titan_dagster.timeframes import floor_ms, now_ms, timeframe_ms


@dataclass
class Page:
    rows: list[list]  # rows with open time inside the span, in the order served
    covered_until: int  # the exchange has no other candle between the span start and this
    first_seen: int | None = None  # the exchange's first candle at or after the span start
    future: list[list] = field(default_factory=list)  # rows opened after the request was sent
    unsettled: list[list] = field(default_factory=list)  # after the span, not closed: open


async def fetch_window(client: ExchangeClient, symbol: str, timeframe: str, start: int,
                       end: int, *, with_open: bool = False,
                       prefetch: int = 4) -> AsyncIterator[Page]:
    """Pages of the closed candles with open time in [start, end), in time order. With
    `with_open` (`end` is the newest closed candle's end), the page that reaches `end` also
    asks for the candles after it, which are still open, at no extra request."""
    step = timeframe_ms(timeframe)
    span = client.page_limit * step
    extra = _OPEN_SLOTS if with_open else 0
    first = await _request(client, symbol, timeframe, start, end,
                           extra if end - start <= span - extra * step else 0)
    yield first
    windows = deque(range(first.covered_until, end, span))
    pending: deque[asyncio.Task[Page]] = deque()
    try:
        while windows or pending:
            while windows and len(pending) < prefetch:
                since = windows.popleft()
                until = min(end, since + span)
                reaches_end = until == end and end - since <= span - extra * step
                pending.append(asyncio.create_task(fetch_span(
                    client, symbol, timeframe, since, until, extra if reaches_end else 0)))
            page = await pending.popleft()
            # Pages already fetched behind this one go with it: one validation and one
            # transaction for all, so the busier the consumer, the less it spends per page.
            while pending and pending[0].done():
                page = _joined(page, pending.popleft().result())
            yield page
    finally:
        for task in pending:
            task.cancel()


async def fetch_span(client: ExchangeClient, symbol: str, timeframe: str, since: int,
                     until: int, extra: int = 0) -> Page:
    """Everything the exchange has in [since, until): one request, or more when junk rows
    (duplicates, misaligned rows) took places in a full page."""
    page = await _request(client, symbol, timeframe, since, until, extra)
    while page.covered_until < until:
        page = _joined(page, await _request(client, symbol, timeframe, page.covered_until,
                                            until, extra))
    return page


def _joined(page: Page, then: Page) -> Page:
    """Two consecutive pages as one."""
    first_seen = page.first_seen if page.first_seen is not None else then.first_seen
    return Page(page.rows + then.rows, then.covered_until, first_seen,
                page.future + then.future, then.unsettled)


# The candle that closed moments ago (still settling) and the one open now.
_OPEN_SLOTS = 2


async def _request(client: ExchangeClient, symbol: str, timeframe: str, since: int,
                   until: int, extra: int = 0) -> Page:
    step = timeframe_ms(timeframe)
    want = min(client.page_limit, -(-(until - since) // step) + extra)
    requested_at = now_ms()
    served = await client.fetch_ohlcv(symbol, timeframe, since, want,
                                      expect_rows=client.is_trading(symbol))
    # Rows without a usable open time cannot be placed: validation quarantines them.
    malformed = [row for row in served if type(row[0]) is not int]
    rows = [row for row in served if type(row[0]) is int and since <= row[0]]
    future = [row for row in rows if row[0] > requested_at]
    real = [row[0] for row in rows if row[0] <= requested_at]
    if len(served) >= want:
        # A full page proves there is nothing else up to its last real candle. Rows the
        # exchange put in it from before `since` count too: they took places, so a page
        # short of in-window rows is not the end of what the exchange has.
        if not real:
            raise ExchangeAccessError(f"{client.name}: {symbol} {timeframe} page from {since} "
                                      "held no usable candle")
        covered = floor_ms(max(real), step) + step
    else:
        # A short page held everything the exchange had when asked.
        covered = requested_at
    return Page([row for row in rows if row[0] < until and row[0] <= requested_at] + malformed,
                max(since, min(covered, until)), min(real, default=None), future,
                [row for row in rows if until <= row[0] <= requested_at] if extra else [])
