"""Bybit spot REST (/v5): time, instruments-info and kline with Bybit's shapes, codes and
paging. With `start` only, a page holds the first `limit` candles from the candle containing
start on, however far after it (so a start before the listing gets the first candles); with
`end` or neither, the newest `limit` candles up to end or now. Rows come newest first."""

from titan_dagster.emulator.candles import INTERVALS, fmt, profile
from titan_dagster.emulator.venue import (
    ALL_FAULTS,
    CandleQuery,
    Fault,
    Listing,
    Reply,
    Venue,
    html_reply,
    json_reply,
    parse_int,
)

TIME = "/v5/market/time"
INSTRUMENTS = "/v5/market/instruments-info"
KLINE = "/v5/market/kline"
DEFAULT_LIMIT = 200
MAX_LIMIT = 1000

# Approximate dates: Bybit opened spot trading in July 2021.
DEFAULT_LISTINGS: dict[str, str] = {
    "BTC/USDT": "2021-07-05",
    "ETH/USDT": "2021-07-05",
    "XRP/USDT": "2021-07-05",
    "SOL/USDT": "2021-07-12",
    "DOGE/USDT": "2021-07-26",
    "SUI/USDT": "2023-05-03",
    "MNT/USDT": "2023-07-17",
}

INTERVAL_NAMES = {
    "1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h",
    "240": "4h", "360": "6h", "720": "12h", "D": "1d",
}

_MESSAGES = {
    10001: "params error",
    10006: "Too many visits!",
    10016: "System error. Please try again later.",
    10017: "request path not found",
}
_CATEGORIES = ("spot", "linear", "inverse", "option")
# The IP limit's answer: not JSON, so ccxt goes by the status (403 -> RateLimitExceeded).
_IP_LIMIT = b"access too frequent"


class BybitEmulator(Venue):
    """Bybit spot REST on http://host:port/v5.

    Errors come as HTTP 200 with a retCode: 10001 for bad parameters ("Not supported
    symbols" for an unknown symbol, which ccxt turns into BadSymbol), 10016 for Bybit's own
    failures (ccxt: plain ExchangeError), 10006 for the API rate limit. The IP limit
    (max_requests_per_second, or a status 403 fault) is HTTP 403 with a text body. A 5xx
    without a code is the CDN's HTML page.

    Assumed, not verified against Bybit: kline with a category other than spot is refused
    with 10001 (Bybit defaults to linear; only spot is emulated); a limit above 1000 is
    clamped to 1000; with both start and end the page holds the newest `limit` candles
    of [start, end].
    """

    name = "bybit"
    candles_path = KLINE
    symbol_param = "symbol"
    default_listings = DEFAULT_LISTINGS

    def market_id(self, symbol: str) -> str:
        return symbol.replace("/", "")

    def request_interval(self, path: str, params: dict[str, str]) -> str | None:
        return INTERVAL_NAMES.get(params.get("interval", "")) if path == KLINE else None

    def error_reply(self, status: int, code: int | str | None, retry_after: int | None
                    ) -> Reply:
        if code is None and status == 403:
            reply = Reply(403, _IP_LIMIT, "text/plain")
        elif code is None and status >= 500:
            reply = html_reply(status)
        else:
            code = int(code) if code is not None else 10006 if status == 429 else 10001
            reply = self._error(code, _MESSAGES.get(code, ""), status)
        if retry_after is not None:
            reply.headers.append(("Retry-After", str(retry_after)))
        return reply

    def empty_reply(self) -> Reply:
        return self._ok({"category": "spot", "list": []})

    def rate_limited_reply(self) -> Reply:
        return self.error_reply(403, None, None)

    def all_faults(self) -> tuple[Fault, ...]:
        # Bybit limits by IP with 403, not 429/418; its own 5xx failures come as 10016.
        generic = tuple(f for f in ALL_FAULTS if f.status not in (418, 429, 500))
        return (*generic, Fault("status", 403), Fault("status", 200, code=10016),
                Fault("status", 200, code=10006))

    def _ok(self, result: dict) -> Reply:
        return json_reply({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {},
                           "time": self._now()})

    def _error(self, code: int, msg: str, status: int = 200) -> Reply:
        return json_reply({"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {},
                           "time": self._now()}, status)

    def route(self, path: str, params: dict[str, str], now: int) -> Reply | CandleQuery:
        if path == TIME:
            return self._ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})
        if path == INSTRUMENTS:
            category = params.get("category")
            if category not in _CATEGORIES:
                return self._error(10001, "Illegal category")
            listed = ([_instrument(listing, now) for listing in self.listings]
                      if category == "spot" else [])
            return self._ok({"category": category, "list": listed, "nextPageCursor": ""})
        if path == KLINE:
            return self._kline(params, now)
        return self._error(10017, _MESSAGES[10017], 404)

    def _kline(self, params: dict[str, str], now: int) -> Reply | CandleQuery:
        if params.get("category") != "spot":
            return self._error(10001, "Illegal category")
        symbol = self.request_symbol(params)
        if symbol is None:
            return self._error(10001, "Not supported symbols")
        interval = self.request_interval(KLINE, params)
        if interval is None:
            return self._error(10001, "Invalid period!")
        numbers = {name: parse_int(params, name) for name in ("start", "end", "limit")}
        if any(isinstance(v, str) for v in numbers.values()) or numbers["limit"] == 0:
            return self._error(10001, _MESSAGES[10001])
        start, end = numbers["start"], numbers["end"]
        if start is not None:
            start -= start % INTERVALS[interval]  # Bybit serves the candle containing start
        limit = min(numbers["limit"] or DEFAULT_LIMIT, MAX_LIMIT)
        rows = self.rows(symbol, interval, start, end, now, limit, serving=True,
                         from_end=start is None or end is not None)
        market_id = self.market_id(symbol)
        return CandleQuery(symbol, interval, rows,
                           lambda served: self._kline_reply(market_id, served))

    def _kline_reply(self, market_id: str, rows: list[list]) -> Reply:
        # [startTime, open, high, low, close, volume (base), turnover (quote)]
        listed = [[str(r[0]), r[1], r[2], r[3], r[4], r[5], r[7]] for r in reversed(rows)]
        return self._ok({"symbol": market_id, "category": "spot", "list": listed})


def _instrument(listing: Listing, now: int) -> dict:
    base, quote = listing.symbol.split("/")
    delisted = listing.delisted_at is not None and now >= listing.delisted_at
    return {
        "symbol": base + quote,
        "baseCoin": base,
        "quoteCoin": quote,
        "innovation": "0",
        "status": "Closed" if delisted else "Trading",
        "marginTrading": "none",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": "0.00001",
            "quotePrecision": "0.00000001",
            "minOrderQty": "0.00001",
            "maxOrderQty": "9000",
            "minOrderAmt": "1",
            "maxOrderAmt": "2000000",
        },
        "priceFilter": {"tickSize": fmt(profile(listing.symbol).tick).rstrip("0")},
        "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
    }
