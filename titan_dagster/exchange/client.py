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
from titan_dagster.exchange.pacing import Pacer, Pause
from titan_dagster.exchange.paging import PAGING, error_codes, paging_of
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
        self.paging = paging_of(settings.name)
        if self.paging is None:
            raise ExchangeAccessError(f"{settings.name}: no paging semantics declared "
                                      f"(supported: {', '.join(sorted(PAGING))})")
        self._exchange: Any = None
        self._cap: int | None = None
        self._pause = Pause()

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def page_limit(self) -> int:
        """Candles to ask for per request: ccxt's `features` (a hint), lowered to the real
        cap once a page has shown it."""
        if self._cap is None:
            self._cap = page_limit(self._exchange)
        return self._cap

    def learn_cap(self, served: int) -> None:
        """A page of `served` candles was cut short while the exchange had more: that is its
        real cap for these requests, so later pages ask for no more than it serves."""
        if 0 < served < self.page_limit:
            self.log.info("%s: pages hold at most %d candles (asked for %d); asking for %d",
                          self.name, served, self.page_limit, served)
            self._cap = served

    async def listing_ms(self, symbol: str, timeframe: str) -> int | None:
        """When the exchange says the market was listed, where it says so reliably (from the
        markets already loaded: no request)."""
        if not self.paging.listing_time:
            return None
        created = self._exchange.markets[symbol].get("created")
        return int(created) if created else None

    async def __aenter__(self) -> "ExchangeClient":
        import ccxt.async_support as ccxt_async

        exchange = getattr(ccxt_async, self.name)({
            **self._credentials(),
            # Currencies are not needed for candles; ccxt's fetchCurrencies option does not
            # stop Kraken's and Coinbase's currency requests, this does.
            "has": {"fetchCurrencies": False},
            # The body of the last answer tells an exchange's own empty answer from one that
            # was not JSON, and carries the error code ccxt may not classify as transient.
            "enableLastJsonResponse": True,
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
            await self._call(self._load_markets, "loading markets")
        except BaseException:
            await exchange.close()
            raise
        return self

    async def _load_markets(self) -> None:
        # A truncated or empty answer loads no market at all (ccxt parses it as nothing):
        # a passing fault, which must not make every symbol "not listed".
        markets = await self._exchange.load_markets(reload=True)
        if not markets:
            raise _EmptyPage("the markets answer listed no market")

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

    def market_id(self, symbol: str) -> str:
        """The exchange's own name of a market ('BTCUSDT'), which its archive files carry."""
        return self._exchange.market(symbol)["id"]

    def is_trading(self, symbol: str) -> bool:
        """False for delisted or halted markets, whose candle history may really have ended."""
        return bool(self._exchange.markets[symbol].get("active", True))

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int,
                          *, until: int | None = None, expect_rows: bool) -> list[list]:
        """One page of candles at or after `since`, as [ts_ms, open, high, low, close, volume]
        with decimal strings. With expect_rows, an empty answer is retried like a fault.
        ccxt asks by `since` and `limit`; `until` (where the pager's span ends) is the
        paging semantics' business."""

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
            rows = await self._exchange.fetch_ohlcv(symbol, timeframe, since, limit)
            # ccxt answers [] for a body that is not JSON (an HTML page, a truncated answer):
            # not "no candles here", where the exchange's own empty answer would be.
            if not rows and self._exchange.last_json_response is None:
                raise _EmptyPage("an answer that is not JSON")
            return rows
        rows = await getattr(self._exchange, method)({
            "symbol": self._exchange.market(symbol)["id"], "startTime": since,
            "interval": self._exchange.timeframes.get(timeframe, timeframe), "limit": limit})
        # A 200 that is not JSON comes back as text.
        if not isinstance(rows, list):
            raise _EmptyPage("an answer that is not JSON")
        return [row if isinstance(row, list) and row else [None] for row in rows]

    async def _call(self, fn: Callable[[], Awaitable[T]], what: str,
                    symbol: str | None = None) -> T:
        import ccxt.async_support as ccxt_async

        last_error: Exception | None = None
        for attempt in range(1, self.retry.max_attempts + 1):
            await self._pause.wait(self._pacer.wait)
            retry_after, rate_limited = None, False
            try:
                return await fn()
            except ccxt_async.BadSymbol as error:
                raise SymbolNotAvailable(self.name, symbol or "?", str(error)) from None
            except (ccxt_async.DDoSProtection, ccxt_async.RateLimitExceeded) as error:
                rate_limited, last_error = True, error
            except ccxt_async.ExchangeError as error:
                # No await since the failing response: the last JSON body is still its own.
                codes = error_codes(self._exchange.last_json_response)
                if codes & self.paging.rate_limit_codes:
                    rate_limited, last_error = True, error
                elif codes & self.paging.transient_codes:
                    last_error = error
                else:
                    # A bad request or a refusal: asking again would get the same answer.
                    raise ExchangeAccessError(f"{self.name} rejected {what}: {error}") from None
            except (ccxt_async.OperationFailed, _EmptyPage) as error:
                # ccxt's "may succeed if retried" family: NetworkError (5xx, timeouts, refused
                # connections, maintenance), bad responses, and answers that are not JSON.
                last_error = error
            if rate_limited:
                # The exchange is telling every request to slow down, not only this one.
                retry_after = parse_retry_after(self._exchange.last_response_headers)
            if attempt < self.retry.max_attempts:
                delay = self.retry.delay_s(attempt, retry_after)
                if rate_limited:
                    self._pause.hold(delay)
                self.log.warning("%s: %s failed (%s: %s); retry %d/%d in %.1fs", self.name, what,
                            type(last_error).__name__, _short(last_error), attempt,
                            self.retry.max_attempts - 1, delay)
                await asyncio.sleep(delay)
        raise ExchangeAccessError(
            f"{self.name}: {what} failed after {self.retry.max_attempts} attempts: "
            f"{type(last_error).__name__}: {_short(last_error)}"
        )


def whole_requests(per_second: float) -> float:
    """A pacer at 5.2/s still fits 6 requests in some second; rounding a share down to whole
    requests keeps the shares' sum within the budget in every one-second window."""
    return math.floor(per_second) if per_second >= 1 else per_second


def _short(error: Exception | None, limit: int = 300) -> str:
    text = str(error)
    return text if len(text) <= limit else text[:limit] + "..."
