"""Twelve Data's REST API as the pager sees a source: one window of bars per request.

A small client of our own rather than the official `twelvedata` package: the package sends
the key in the URL (where logs and exception texts carry it), sends outputsize=30 unless told
otherwise, makes a network call when constructed, is synchronous, retries nothing and knows
no credit limits (README: Twelve Data). This one sends the key in the Authorization header,
asks in UTC, reads both error styles, retries what is passing and paces every run within
the plan's credits.
"""

import asyncio
import logging
import os
import time
from collections import Counter

import aiohttp

from titan_dagster.config.model import ExchangeSettings
from titan_dagster.exchange.errors import ExchangeAccessError
from titan_dagster.exchange.pacing import Pause
from titan_dagster.exchange.retry import RetryPolicy
from titan_dagster.sources.twelvedata.answers import (
    MinuteLimit,
    NoData,
    Transient,
    earliest_ms,
    read_answer,
    rows_of,
)
from titan_dagster.sources.twelvedata.credits import CreditBudget
from titan_dagster.sources.twelvedata.intervals import INTERVALS, MAX_OUTPUTSIZE, PAGING
from titan_dagster.timeframes import DAY_MS, timeframe_ms, to_datetime

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://api.twelvedata.com"


class TwelveDataClient:
    paging = PAGING

    def __init__(self, settings: ExchangeSettings, credits: CreditBudget, *,
                 retry: RetryPolicy | None = None, timeout_ms: int = 10_000,
                 logger: logging.Logger | None = None):
        self.settings = settings
        self.credits = credits
        self.retry = retry or RetryPolicy()
        self.timeout_ms = timeout_ms
        self.log = logger or log
        self.requests: Counter[tuple[str, str]] = Counter()  # /time_series, by series
        self.calls: Counter[str] = Counter()  # every request, by path
        self._first_bars: dict[tuple[str, str], int | None] = {}
        self._session: aiohttp.ClientSession | None = None
        self._pause = Pause()

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def page_limit(self) -> int:
        # Exact (paging.exact_cap): no page is ever cut short of it, no lower cap is learned.
        return MAX_OUTPUTSIZE

    async def __aenter__(self) -> "TwelveDataClient":
        variable = self.settings.api_key_env
        key = os.environ.get(variable or "")
        if not key:
            raise ExchangeAccessError(f"{self.name}: environment variable {variable} (named by "
                                      f"exchanges.{self.name}.api_key_env in titan.yaml) is "
                                      "not set")
        self._session = aiohttp.ClientSession(
            base_url=(self.settings.api_url or DEFAULT_API_URL).rstrip("/") + "/",
            # The documented header: the key stays out of URLs, and so out of logs.
            headers={"Authorization": f"apikey {key}"},
            timeout=aiohttp.ClientTimeout(total=self.timeout_ms / 1000))
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._session.close()

    def check_symbol(self, symbol: str) -> None:
        """Twelve Data says whether it has a symbol only in answer to a request, each a
        credit: an unknown symbol fails its first request, at once, named."""

    async def listing_ms(self, symbol: str, timeframe: str) -> int | None:
        """The series' first bar, from /earliest_timestamp (asked once per run: a credit)."""
        key = (symbol, timeframe)
        if key not in self._first_bars:
            payload = await self._call("earliest_timestamp",
                                       {"symbol": symbol, "interval": INTERVALS[timeframe]},
                                       f"{symbol} {timeframe} earliest timestamp", symbol)
            self._first_bars[key] = earliest_ms(payload, timeframe_ms(timeframe) == DAY_MS)
        return self._first_bars[key]

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int, *,
                          until: int, expect_rows: bool = False) -> list[list]:
        """The bars with open time in [since, until), at most `limit`, the newest of them
        when there are more: [open ms, open, high, low, close, volume or None]."""
        daily = timeframe_ms(timeframe) == DAY_MS
        params = {"symbol": symbol, "interval": INTERVALS[timeframe], "order": "asc",
                  "outputsize": str(max(1, min(limit, MAX_OUTPUTSIZE))),
                  **_window(since, until, daily)}
        self.requests[(symbol, timeframe)] += 1
        what = f"{symbol} {timeframe} candles from {to_datetime(since):%Y-%m-%d %H:%M}"
        try:
            payload = await self._call("time_series", params, what, symbol)
        except NoData:
            return []
        return rows_of(payload, daily)

    async def _call(self, path: str, params: dict[str, str], what: str,
                    symbol: str | None) -> dict:
        last_error: Exception | None = None
        for attempt in range(1, self.retry.max_attempts + 1):
            await self._pause.wait(self.credits.pace)
            await self.credits.reserve()
            self.calls[path] += 1
            try:
                async with self._session.get(path, params=params) as response:
                    status, text = response.status, await response.text(errors="replace")
                return read_answer(status, text, what, symbol)
            except MinuteLimit as error:
                # The whole plan is out for this minute, for every request of every run.
                last_error = error
                self._pause.hold(_to_next_minute_s())
            except (TimeoutError, Transient, aiohttp.ClientError) as error:
                last_error = error
            if attempt < self.retry.max_attempts:
                delay = max(self.retry.delay_s(attempt), self._pause.remaining_s)
                self.log.warning("%s: %s failed (%s: %s); retry %d/%d in %.1fs", self.name,
                                 what, type(last_error).__name__, str(last_error)[:200],
                                 attempt, self.retry.max_attempts - 1, delay)
                await asyncio.sleep(delay)
        raise ExchangeAccessError(f"{self.name}: {what} failed after {self.retry.max_attempts} "
                                  f"attempts: {type(last_error).__name__}: "
                                  f"{str(last_error)[:300]}")


def _window(since: int, until: int, daily: bool) -> dict[str, str]:
    """start_date and end_date of [since, until) in UTC. Intraday, the end is a second before
    `until`: the bar opening at `until` is left out whether end_date is inclusive or not (the
    docs do not say). Daily bars are dated, and end_date's day is not included."""
    if daily:
        return {"start_date": f"{to_datetime(since):%Y-%m-%d}",
                "end_date": f"{to_datetime(until):%Y-%m-%d}"}
    return {"start_date": f"{to_datetime(since):%Y-%m-%d %H:%M:%S}",
            "end_date": f"{to_datetime(until - 1000):%Y-%m-%d %H:%M:%S}",
            "timezone": "UTC"}


def _to_next_minute_s() -> float:
    """Credits are counted per wall-clock minute: the wait until the next one starts, and a
    little more, so the retry lands inside it."""
    now = time.time()
    return 60 - now % 60 + 0.5

