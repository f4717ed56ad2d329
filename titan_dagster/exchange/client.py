"""One ccxt exchange per run: every symbol of the exchange shares its rate limiter.

ccxt does the HTTP, the throttling and the error mapping; this class adds what ccxt lacks
for long backfills: backoff with jitter, a shared pause when the exchange says Retry-After,
spot-only markets, endpoint rebasing and request counting.
"""

import asyncio
import difflib
import logging
import math
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from titan_dagster.config.model import ExchangeSettings
from titan_dagster.exchange.catalog import page_limit
from titan_dagster.exchange.endpoints import rebase_api_urls
from titan_dagster.exchange.errors import ExchangeAccessError, SymbolNotAvailable
from titan_dagster.exchange.pacing import Pacer
from titan_dagster.exchange.retry import RetryPolicy, parse_retry_after
from titan_dagster.timeframes import to_datetime

log = logging.getLogger(__name__)
T = TypeVar("T")


# Spot klines endpoints that already answer [open time, open, high, low, close, volume, ...]
# with decimal strings: called through ccxt (HTTP, throttle, error mapping) but without its
# per-candle parsing, which cost more than validating the whole page. Other exchanges use
# ccxt's fetch_ohlcv, which gives the same first six fields.
_RAW_KLINES = {"binance": "publicGetKlines"}


class _EmptyPage(Exception):
    """ccxt turns a 200 response that is not JSON into [] without an error, so an empty page
    where candles must exist is treated as a transient fault, not as the end of history."""


class ExchangeClient:
    def __init__(self, settings: ExchangeSettings, *, retry: RetryPolicy | None = None,
                 timeout_ms: int = 10_000, logger: logging.Logger | None = None,
                 budget_share: float = 1.0):
        """`budget_share`: the fraction of the exchange's requests_per_second this client may
        use, so that concurrent runs (a backfill and the minute refresh) stay within it."""
        self.settings = settings
        self.log = logger or log
        budget = settings.requests_per_second
        self._pacer = Pacer(whole_requests(budget * budget_share) if budget else None)
        self.retry = retry or RetryPolicy()
        self.timeout_ms = timeout_ms
        self.requests: Counter[tuple[str, str]] = Counter()
        self._exchange: Any = None
        self._paused_until = 0.0

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def page_limit(self) -> int:
        return page_limit(self._exchange)

    async def __aenter__(self) -> "ExchangeClient":
        import ccxt.async_support as ccxt_async

        exchange = getattr(ccxt_async, self.name)({
            **self._credentials(),
            # With a configured budget the pacer is the rate limiter: ccxt's throttle would
            # delay requests after the pacer let them go and bunch them up.
            "enableRateLimit": self.settings.requests_per_second is None,
            "timeout": self.timeout_ms,
            "options": {
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                # With an API key, Binance's markets would also load margin pairs from a
                # private endpoint: one more request, and a failure, for spot candles.
                "fetchMargins": False,
            },
        })
        if self.settings.api_url:
            exchange.urls = {**exchange.urls,
                             "api": rebase_api_urls(exchange.urls["api"], self.settings.api_url)}
        # Prices stay the exchange's decimal strings: floats would round them.
        exchange.number = str
        self._exchange = exchange
        try:
            await self._call(exchange.load_markets, "loading markets")
        except BaseException:
            await exchange.close()
            raise
        return self

    def _credentials(self) -> dict[str, str]:
        """API key and secret from the environment variables the config names. Public
        candles need none; they are passed on for exchanges or mirrors that want them."""
        found = {}
        for option, variable in (("apiKey", self.settings.api_key_env),
                                 ("secret", self.settings.secret_env)):
            if variable is None:
                continue
            value = os.environ.get(variable)
            if not value:
                raise ExchangeAccessError(f"{self.name}: environment variable {variable} "
                                          "(named in titan.yaml) is not set")
            found[option] = value
        return found

    async def __aexit__(self, *exc_info) -> None:
        await self._exchange.close()

    def check_symbol(self, symbol: str) -> None:
        market = self._exchange.markets.get(symbol)
        if market is None:
            close = difflib.get_close_matches(symbol, list(self._exchange.markets), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise SymbolNotAvailable(self.name, symbol, f"the exchange does not list it{hint}")
        if not market.get("spot"):
            raise SymbolNotAvailable(self.name, symbol, f"it is a {market.get('type')} market")

    def is_trading(self, symbol: str) -> bool:
        """False for delisted or halted markets, whose candle history may really have ended."""
        return bool(self._exchange.markets[symbol].get("active", True))

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int,
                          *, expect_rows: bool) -> list[list]:
        """One page of candles at or after `since`, as [ts_ms, open, high, low, close, volume]
        with decimal strings. With expect_rows, an empty answer is retried like a fault."""

        async def fetch() -> list[list]:
            self.requests[(symbol, timeframe)] += 1
            rows = await self._klines(symbol, timeframe, since, limit)
            if expect_rows and not rows:
                raise _EmptyPage("an empty page where candles must exist")
            return rows

        what = f"{symbol} {timeframe} candles from {to_datetime(since):%Y-%m-%d %H:%M}"
        return await self._call(fetch, what, symbol=symbol)

    async def _klines(self, symbol: str, timeframe: str, since: int, limit: int) -> list:
        method = _RAW_KLINES.get(self.name)
        if method is None:
            return await self._exchange.fetch_ohlcv(symbol, timeframe, since, limit)
        rows = await getattr(self._exchange, method)({
            "symbol": self._exchange.market(symbol)["id"], "startTime": since,
            "interval": self._exchange.timeframes.get(timeframe, timeframe), "limit": limit})
        # A 200 that is not JSON comes back as text: no rows (retried where rows must exist).
        if not isinstance(rows, list):
            return []
        return [row if isinstance(row, list) and row else [None] for row in rows]

    async def _call(self, fn: Callable[[], Awaitable[T]], what: str,
                    symbol: str | None = None) -> T:
        import ccxt.async_support as ccxt_async

        last_error: Exception | None = None
        for attempt in range(1, self.retry.max_attempts + 1):
            await self._wait_while_paused()
            await self._pacer.wait()
            retry_after = None
            try:
                return await fn()
            except ccxt_async.BadSymbol as error:
                raise SymbolNotAvailable(self.name, symbol or "?", str(error)) from None
            except ccxt_async.ExchangeError as error:
                # Not a network fault: asking again would get the same answer.
                raise ExchangeAccessError(f"{self.name} rejected {what}: {error}") from None
            except (ccxt_async.DDoSProtection, ccxt_async.RateLimitExceeded) as error:
                # No await since the failing response: these headers are still its own.
                retry_after = parse_retry_after(self._exchange.last_response_headers)
                if retry_after:
                    self._pause_all(retry_after)
                last_error = error
            except (ccxt_async.OperationFailed, _EmptyPage) as error:
                # ccxt's "may succeed if retried" family: NetworkError (429/418, 5xx, timeouts,
                # refused connections), bad responses, and Binance's -1000/-1001 server errors.
                last_error = error
            if attempt < self.retry.max_attempts:
                delay = self.retry.delay_s(attempt, retry_after)
                self.log.warning("%s: %s failed (%s: %s); retry %d/%d in %.1fs", self.name, what,
                            type(last_error).__name__, _short(last_error), attempt,
                            self.retry.max_attempts - 1, delay)
                await asyncio.sleep(delay)
        raise ExchangeAccessError(
            f"{self.name}: {what} failed after {self.retry.max_attempts} attempts: "
            f"{type(last_error).__name__}: {_short(last_error)}"
        )

    def _pause_all(self, seconds: float) -> None:
        """Retry-After applies to the client, not one request: every symbol waits."""
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)

    async def _wait_while_paused(self) -> None:
        loop = asyncio.get_running_loop()
        while (remaining := self._paused_until - loop.time()) > 0:
            await asyncio.sleep(remaining)


def whole_requests(per_second: float) -> float:
    """A pacer at 5.2/s still fits 6 requests in some second; rounding a share down to whole
    requests keeps the shares' sum within the budget in every one-second window."""
    return math.floor(per_second) if per_second >= 1 else per_second


def _short(error: Exception | None, limit: int = 300) -> str:
    text = str(error)
    return text if len(text) <= limit else text[:limit] + "..."
