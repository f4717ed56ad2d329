"""Binance spot REST (/api/v3): ping, time, exchangeInfo and klines with Binance's shapes,
error codes, weight headers and paging: a page holds the first `limit` candles at or after
startTime, however far after it, so a window before the listing starts at the first candle.

The same server serves Binance's kline archive (data.binance.vision) under /data/ from the
same candles (binance_archive.py): one clock, market and request log for both, and faults
injected by a file's path."""

import time
from collections import deque
from http.client import responses

from titan_dagster.emulator.binance_archive import PREFIX as ARCHIVE
from titan_dagster.emulator.binance_archive import ArchiveSettings, ArchiveTree
from titan_dagster.emulator.candles import INTERVALS, fmt, profile
from titan_dagster.emulator.venue import (
    CandleQuery,
    Listing,
    Reply,
    Venue,
    json_reply,
)
from titan_dagster.sources.binance_archive.layout import ArchiveFile

KLINES = "/api/v3/klines"
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000

DEFAULT_LISTINGS: dict[str, str] = {
    "BTC/USDT": "2017-08-17",
    "ETH/USDT": "2017-08-17",
    "BNB/USDT": "2017-11-06",
    "SOL/USDT": "2020-08-11",
    "XRP/USDT": "2018-05-04",
    "ADA/USDT": "2018-04-17",
    "DOGE/USDT": "2019-07-05",
    "TRX/USDT": "2018-06-11",
    "AVAX/USDT": "2020-09-22",
    "LINK/USDT": "2019-01-16",
    "DOT/USDT": "2020-08-18",
    "SUI/USDT": "2023-05-03",
    "LTC/USDT": "2017-12-13",
    "BCH/USDT": "2019-11-28",
    "SHIB/USDT": "2021-05-10",
    "ATOM/USDT": "2019-04-29",
    "UNI/USDT": "2020-09-17",
    "XLM/USDT": "2018-05-31",
    "NEAR/USDT": "2020-10-14",
    "APT/USDT": "2022-10-19",
}

# Binance request weights, so x-mbx-used-weight-1m moves like the real header.
_WEIGHTS = {"/api/v3/exchangeInfo": 20, KLINES: 2}

_MESSAGES = {
    -1000: "An unknown error occurred while processing the request.",
    -1001: "Internal error; unable to process your request. Please try again.",
    -1003: "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
    "Please use WebSocket Streams for live updates to avoid polling the API.",
    -1008: "Server is currently overloaded with other requests. Please try again in a few minutes.",
}


def _error(status: int, code: int | None, msg: str) -> Reply:
    return json_reply({"msg": msg} if code is None else {"code": code, "msg": msg}, status)


class BinanceEmulator(Venue):
    """Binance spot REST on http://host:port/api/v3.

    A "status" fault without a code carries -1003 for 418/429, -1000 for other 4xx, and no
    code for 5xx (like Binance's gateway errors); ccxt maps a body code before the status.
    """

    name = "binance"
    candles_path = KLINES
    symbol_param = "symbol"
    default_listings = DEFAULT_LISTINGS

    def __init__(self, *args, archive: ArchiveSettings | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._last_minute: deque[tuple[float, int]] = deque()
        self._minute_weight = 0
        self.archive = ArchiveTree(archive or ArchiveSettings())

    def count_archive(self, symbol: str | None = None, interval: str | None = None, *,
                      checksums: bool = False) -> int:
        """Archive zips requested (their CHECKSUMs with `checksums`), of a symbol (unified
        or the exchange's id) and an interval if given, whatever the answer."""
        suffix = ".zip.CHECKSUM" if checksums else ".zip"
        symbol = self.symbol_of(symbol) or symbol
        return sum(1 for r in self.requests
                   if r.path.startswith(ARCHIVE) and r.path.endswith(suffix)
                   and symbol in (None, r.symbol) and interval in (None, r.interval))

    def canonical(self, path: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        # An archive file names its market and interval in the path; as parameters they
        # reach the request log like those of klines requests.
        parsed = ArchiveFile.from_path(path) if path.startswith(ARCHIVE) else None
        if parsed is not None:
            params = {**params, "symbol": parsed[0].market_id, "interval": parsed[0].interval}
        return path, params

    def rate_limited(self, path: str) -> bool:
        return not path.startswith(ARCHIVE)  # another host, without the API's limits

    def market_id(self, symbol: str) -> str:
        return symbol.replace("/", "")

    def request_interval(self, path: str, params: dict[str, str]) -> str | None:
        return params.get("interval")

    def error_reply(self, status: int, code: int | str | None, retry_after: int | None) -> Reply:
        if code is None and status < 500:
            code = -1003 if status in (418, 429) else -1000
        reply = _error(status, code, _MESSAGES.get(code, responses.get(status, "")))
        if retry_after is not None:
            reply.headers.append(("Retry-After", str(retry_after)))
        return reply

    def empty_reply(self) -> Reply:
        return Reply(200, b"[]")

    def rate_limited_reply(self) -> Reply:
        reply = _error(429, -1003,
                       f"Too many requests; current limit is {self._max_rps} per second.")
        reply.headers.append(("Retry-After", "1"))
        return reply

    def extra_headers(self, path: str) -> list[tuple[str, str]]:
        if path.startswith(ARCHIVE):
            return []
        with self._lock:
            used = self._use_weight(path)
        return [("x-mbx-used-weight", str(used)), ("x-mbx-used-weight-1m", str(used))]

    def _use_weight(self, path: str) -> int:
        """Lock held; the request weight used over the last minute, this request included."""
        t = time.monotonic()
        weight = _WEIGHTS.get(path, 1)
        self._last_minute.append((t, weight))
        self._minute_weight += weight
        while self._last_minute[0][0] <= t - 60:
            self._minute_weight -= self._last_minute.popleft()[1]
        return self._minute_weight

    def route(self, path: str, params: dict[str, str], now: int) -> Reply | CandleQuery:
        if path == "/api/v3/ping":
            return json_reply({})
        if path == "/api/v3/time":
            return json_reply({"serverTime": now})
        if path == "/api/v3/exchangeInfo":
            return json_reply(self._exchange_info(now))
        if path == KLINES:
            return self._klines(params, now)
        if path.startswith(ARCHIVE):
            with self._lock:
                revision = self._revision
            return self.archive.reply(path, self.request_symbol(params), now, revision,
                                      self.candles)
        return _error(404, -1, "Not found")

    def _exchange_info(self, now: int) -> dict:
        return {
            "timezone": "UTC",
            "serverTime": now,
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 6000,
                }
            ],
            "exchangeFilters": [],
            "symbols": [_symbol_info(listing, now) for listing in self.listings],
        }

    def _klines(self, params: dict[str, str], now: int) -> Reply | CandleQuery:
        for name in ("symbol", "interval"):
            if not params.get(name):
                return _error(
                    400,
                    -1102,
                    f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
                )
        numbers: dict[str, int | None] = {}
        for name in ("startTime", "endTime", "limit"):
            text = params.get(name)
            if text is not None and not text.isdigit():
                return _error(
                    400,
                    -1100,
                    f"Illegal characters found in parameter '{name}'; "
                    "legal range is '^[0-9]{1,20}$'.",
                )
            numbers[name] = None if text is None else int(text)
        symbol = self.request_symbol(params)
        if symbol is None:
            return _error(400, -1121, "Invalid symbol.")
        interval = params["interval"]
        if interval not in INTERVALS:
            return _error(400, -1120, "Invalid interval.")
        limit = DEFAULT_LIMIT if numbers["limit"] is None else numbers["limit"]
        if not 1 <= limit <= MAX_LIMIT:
            return _error(400, -1130, "Invalid data sent for a parameter.")
        rows = self.rows(
            symbol, interval, numbers["startTime"], numbers["endTime"], now, limit, serving=True
        )
        return CandleQuery(symbol, interval, rows, json_reply)


def _symbol_info(listing: Listing, now: int) -> dict:
    base, quote = listing.symbol.split("/")
    tick = fmt(profile(listing.symbol).tick)
    delisted = listing.delisted_at is not None and now >= listing.delisted_at
    return {
        "symbol": base + quote,
        "status": "BREAK" if delisted else "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "1000000.00000000",
                "tickSize": tick,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": "0.00001000",
                "maxQty": "9000.00000000",
                "stepSize": "0.00001000",
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": "5.00000000",
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": ["SPOT"],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


