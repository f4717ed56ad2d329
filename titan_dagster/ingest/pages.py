"""The project's own pagination: the fewest requests that cover a time window, read through
the exchange's declared paging semantics (exchange/paging.py).

Every answer confirms a stretch of time: the slots in it hold what the exchange served, and
any slot it left empty is one the exchange would have filled. Which stretch depends on the
exchange: a forward answer ("the first candles at or after since") confirms from `since` to
its last candle; a window answer confirms its whole window if empty, and otherwise only from
the end its cap keeps to its last row. What an answer leaves unconfirmed is asked again, so
a page cap lower than ccxt says costs requests, never candles, and the real cap is learned.

On forward exchanges the first request of a window also finds a symbol's first candle when
the window precedes the listing, and every later page starts where the previous one ended.
The remaining pages' starts are then known and they are fetched concurrently, then handed
over in order so that days complete in order.

A page's window holds as many slots as the market's calendar expects candles in one answer:
a week of closed forex weekends is no reason for more requests.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from titan_dagster.calendars import CRYPTO, calendar_of
from titan_dagster.exchange.errors import ExchangeAccessError
from titan_dagster.ingest.source import Source
from titan_dagster.sources.binance_archive.decode import Decoded
from titan_dagster.timeframes import floor_ms, now_ms, timeframe_ms


@dataclass
class Page:
    rows: list[list]  # rows with open time inside the span, in the order served
    covered_until: int  # the exchange has no other candle between the span start and this
    first_seen: int | None = None  # the exchange's first candle at or after the span start
    future: list[list] = field(default_factory=list)  # rows opened after the request was sent
    unsettled: list[list] = field(default_factory=list)  # after the span, not closed: open
    # Instead of rows: an archive file's candles of the span, checked already.
    archived: Decoded | None = None


async def fetch_window(client: Source, symbol: str, timeframe: str, start: int,
                       end: int, *, with_open: bool = False,
                       prefetch: int = 4) -> AsyncIterator[Page]:
    """Pages of the closed candles with open time in [start, end), in time order. With
    `with_open` (`end` is the newest closed candle's end), the page that reaches `end` also
    asks for the candles after it, which are still open, at no extra request."""
    step = timeframe_ms(timeframe)
    extra = _OPEN_SLOTS if with_open else 0
    calendar = calendar_of(client.name, symbol)
    cursor = start
    if client.paging.since == "forward":
        # One request over the whole range: it starts at the first candle, however far.
        asks_open = _open_slots(client, step, start, end, extra)
        first = await _request(client, symbol, timeframe, start, end, asks_open)
        yield _page([first], end, asks_open)
        cursor = max(start, min(first.confirmed_until, end))
    pending: deque[asyncio.Task[Page]] = deque()
    try:
        while cursor < end or pending:
            while cursor < end and len(pending) < prefetch:
                until = calendar.span_end(cursor, step, _window_slots(client, calendar), end)
                pending.append(asyncio.create_task(fetch_span(
                    client, symbol, timeframe, cursor, until,
                    _open_slots(client, step, cursor, end, extra))))
                cursor = until
            page = await pending.popleft()
            # Pages already fetched behind this one go with it: one validation and one
            # transaction for all, so the busier the consumer, the less it spends per page.
            while pending and pending[0].done():
                page = _joined(page, pending.popleft().result())
            yield page
    finally:
        for task in pending:
            task.cancel()


async def fetch_span(client: Source, symbol: str, timeframe: str, since: int,
                     until: int, extra: int = 0) -> Page:
    """Everything the exchange has in [since, until): one request, or more where an answer
    left part of the span unconfirmed (a cap below the one asked for, junk rows taking
    places in a full page)."""
    answers: list[_Answer] = []
    todo = [(since, until)]
    while todo:
        if len(answers) >= _MAX_REQUESTS_PER_SPAN:
            raise ExchangeAccessError(
                f"{client.name}: {symbol} {timeframe} answers from {since} left part of the "
                f"span unconfirmed after {len(answers)} requests")
        lo, hi = todo.pop()
        # Only the first request asks for the slots after the span: asked again, they would
        # answer for the span's end without saying anything of it.
        answer = await _request(client, symbol, timeframe, lo, hi, 0 if answers else extra)
        if answers and answer.in_span and answers[-1].cut_short:
            client.learn_cap(answers[-1].served)
        answers.append(answer)
        if answer.confirmed_from > lo:
            todo.append((lo, answer.confirmed_from))
        if answer.confirmed_until < hi:
            todo.append((answer.confirmed_until, hi))
    return _page(sorted(answers, key=lambda a: a.confirmed_from), until, extra)


def _page(answers: list["_Answer"], until: int, extra: int) -> Page:
    """The answers that together confirm a span up to `until` (or less, for a forward
    answer that stopped short of it) as one page."""
    covered = min(until, answers[-1].confirmed_until)
    real = [ts for answer in answers for ts in answer.real]
    return Page([row for answer in answers for row in answer.rows],
                max(answers[0].since, covered), min(real, default=None),
                [row for answer in answers for row in answer.future],
                [row for row in answers[-1].after if row[0] <= answers[-1].requested_at]
                if extra else [])


def _window_slots(client: Source, calendar) -> int:
    """Expected candles a page's window may hold. Where markets close, some room is left for
    the bars sources serve in closed hours (stray weekend bars): a window that overflows its
    answer costs one more request, never a candle."""
    if calendar is CRYPTO:
        return client.page_limit
    return client.page_limit - client.page_limit // _STRAY_ROOM


def _open_slots(client: Source, step: int, since: int, end: int, extra: int) -> int:
    """The open candles a request from `since` asks for: only the one whose page reaches
    `end` with room for them to spare."""
    return extra if end - since <= (client.page_limit - extra) * step else 0


def _joined(page: Page, then: Page) -> Page:
    """Two consecutive pages as one."""
    first_seen = page.first_seen if page.first_seen is not None else then.first_seen
    return Page(page.rows + then.rows, then.covered_until, first_seen,
                page.future + then.future, then.unsettled)


# The candle that closed moments ago (still settling) and the one open now.
_OPEN_SLOTS = 2
# One slot in this many is left free in a page's window where markets close.
_STRAY_ROOM = 100
# Each follow-up asks for less than the answer before it; an exchange whose answers do not
# shrink the unconfirmed part is failing, not paging.
_MAX_REQUESTS_PER_SPAN = 64


@dataclass
class _Answer:
    """One request's answer and the stretch of [since, until) it confirms."""
    since: int
    requested_at: int
    rows: list[list]  # in the span, closed when asked, plus rows without a usable open time
    after: list[list]  # at or after the span's end
    future: list[list]  # opened after the request was sent
    real: list[int]  # open times of candles that existed when asked, anywhere
    in_span: int  # of them inside [since, until)
    served: int  # rows served, junk included
    cut_short: bool  # fewer rows than asked, part of the span left unconfirmed
    confirmed_from: int
    confirmed_until: int


async def _request(client: Source, symbol: str, timeframe: str, since: int,
                   until: int, extra: int = 0) -> _Answer:
    step = timeframe_ms(timeframe)
    offset = calendar_of(client.name, symbol).offset(step)
    want = min(client.page_limit, -(-(until - since) // step) + extra)
    forward = client.paging.since == "forward"
    requested_at = now_ms()
    served = await client.fetch_ohlcv(symbol, timeframe, since, want, until=until,
                                      expect_rows=forward and client.is_trading(symbol))
    # Rows without a usable open time cannot be placed: validation quarantines them.
    malformed = [row for row in served if type(row[0]) is not int]
    rows = [row for row in served if type(row[0]) is int and since <= row[0]]
    future = [row for row in rows if row[0] > requested_at]
    real = [row[0] for row in rows if row[0] <= requested_at]
    full = len(served) >= want
    if not real:
        if full:
            raise ExchangeAccessError(f"{client.name}: {symbol} {timeframe} page from {since} "
                                      "held no usable candle")
        # Nothing at all: nothing after since up to now (forward), nothing in the window.
        lo, hi = since, max(until, requested_at)
    elif forward:
        # Rows the exchange put in a full page from before `since` count too: they took
        # places, so a page short of in-window rows is not the end of what it has.
        lo, hi = since, floor_ms(max(real), step, offset) + step
    else:
        # The newest rows of the window: nothing newer is missing unless the page was full,
        # and nothing older either where the source declares its cap exact.
        lo = since if client.paging.exact_cap and not full else floor_ms(min(real), step,
                                                                           offset)
        hi = floor_ms(max(real), step, offset) + step if full else until
    in_span = [row for row in rows if row[0] < until and row[0] <= requested_at]
    return _Answer(
        since, requested_at, in_span + malformed,
        [row for row in rows if until <= row[0]], future, real, len(in_span), len(served),
        # Short with candles inside the span, yet part of the span left unconfirmed: if the
        # rest turns out to hold candles, the exchange cut this page at its real cap.
        cut_short=bool(in_span) and not full and (lo > since or hi < until),
        confirmed_from=min(max(since, lo), until),
        confirmed_until=hi if forward else min(hi, until))
