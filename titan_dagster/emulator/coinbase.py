"""Coinbase Advanced Trade public REST (/api/v3/brokerage/market) and the v2 currency and
time endpoints ccxt's coinbase class loads alongside: products and candles with Coinbase's
shapes and errors. A candle request is a window: it holds the candles opening in
[start, end), newest first, and nothing else, so a window before the listing is empty."""

import uuid
from datetime import UTC, datetime
from http.client import responses

from titan_dagster.emulator.candles import INTERVALS, UNIT, fmt, profile, shaped_price
from titan_dagster.emulator.venue import (
    ALL_FAULTS,
    CandleQuery,
    Fault,
    Listing,
    Reply,
    Venue,
    ceil_ms,
    json_reply,
    parse_int,
)

PRODUCTS = "/api/v3/brokerage/market/products"
# The product id is a path segment; requests are logged under this one template (with the
# id as a `product_id` param) so that faults and counts cover every product's candles.
CANDLES = PRODUCTS + "/{product_id}/candles"
MAX_CANDLES = 350

DEFAULT_LISTINGS: dict[str, str] = {
    "BTC/USD": "2015-07-20",
    "ETH/USD": "2016-05-18",
    "LTC/USD": "2016-08-17",
    "XRP/USD": "2019-02-25",
    "ADA/USD": "2021-03-18",
    "DOGE/USD": "2021-06-03",
    "SOL/USD": "2021-06-24",
}

GRANULARITIES = {
    "ONE_MINUTE": "1m",
    "FIVE_MINUTE": "5m",
    "FIFTEEN_MINUTE": "15m",
    "THIRTY_MINUTE": "30m",
    "ONE_HOUR": "1h",
    "TWO_HOUR": "2h",
    "FOUR_HOUR": "4h",
    "SIX_HOUR": "6h",
    "ONE_DAY": "1d",
}

_FIAT = {"USD": "US Dollar", "EUR": "Euro", "GBP": "British Pound"}
# Coinbase's gRPC-style code per HTTP status; other statuses come from the load balancer.
_CODES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
          404: "NOT_FOUND", 500: "INTERNAL"}


def _error(status: int, code: str, message: str) -> Reply:
    return json_reply({"error": code, "error_details": message, "message": message}, status)


def _invalid(message: str) -> Reply:
    return _error(400, "INVALID_ARGUMENT", message)


class CoinbaseEmulator(Venue):
    """Coinbase Advanced Trade on http://host:port.

    The window's end is exclusive: ccxt asks end = start + limit x granularity, which then
    holds exactly `limit` candles, and back-to-back windows never share a candle (whether
    Coinbase itself includes `end` is unverified; ccxt keeps the first `limit` rows either
    way). `max_candles`: a window holding more candles is rejected (400 INVALID_ARGUMENT),
    never cut short; ccxt asks for at most 300.

    A "status" fault without a code gets the rate-limit body on 429, {"error":
    INVALID_ARGUMENT/NOT_FOUND/INTERNAL...} on 4xx/500 and plain text on other 5xx. ccxt
    maps {"error":"INTERNAL"} (and any code outside its table, like "UNAVAILABLE") to a
    plain ExchangeError: a client must read such codes as transient itself.
    """

    name = "coinbase"
    candles_path = CANDLES
    symbol_param = "product_id"
    default_listings = DEFAULT_LISTINGS
    misalign_ms = 1000  # times are seconds

    def __init__(self, *args, max_candles: int = MAX_CANDLES, **kwargs) -> None:
        self._max_candles = max_candles
        super().__init__(*args, **kwargs)

    def market_id(self, symbol: str) -> str:
        return symbol.replace("/", "-")

    def request_interval(self, path: str, params: dict[str, str]) -> str | None:
        return GRANULARITIES.get(params.get("granularity", ""))

    def all_faults(self) -> tuple[Fault, ...]:
        # 418 is Binance's ban; 503 "UNAVAILABLE" is Coinbase's own transient answer.
        return (*(f for f in ALL_FAULTS if f.status != 418),
                Fault("status", 503, code="UNAVAILABLE"))

    def error_reply(self, status: int, code: int | str | None, retry_after: int | None) -> Reply:
        if code is None and status == 429:
            # The documented v2 body; ccxt maps its id to RateLimitExceeded.
            reply = json_reply(
                {"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}, 429
            )
        elif code is None and status not in _CODES:
            reply = Reply(status, f"{status} {responses.get(status, '')}".encode(), "text/plain")
        else:
            reply = _error(status, str(code or _CODES[status]), responses.get(status, ""))
        if retry_after is not None:
            reply.headers.append(("Retry-After", str(retry_after)))
        return reply

    def empty_reply(self) -> Reply:
        return json_reply({"candles": []})

    def canonical(self, path: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        product, found, rest = path.removeprefix(PRODUCTS + "/").partition("/candles")
        if path.startswith(PRODUCTS + "/") and found and not rest and "/" not in product:
            return CANDLES, {**params, "product_id": product}
        return path, params

    def route(self, path: str, params: dict[str, str], now: int) -> Reply | CandleQuery:
        if path == CANDLES:
            return self._candles(params, now)
        if path == PRODUCTS:
            spot = params.get("product_type", "SPOT") == "SPOT"
            products = [_product(listing, now) for listing in self.listings] if spot else []
            return json_reply({"products": products, "num_products": len(products)})
        if path == "/v2/currencies":
            return json_reply({"data": [{"id": c, "name": _FIAT[c], "min_size": "0.01"}
                                        for c in self._codes() if c in _FIAT]})
        if path == "/v2/currencies/crypto":
            return json_reply({"data": [_crypto(c) for c in self._codes() if c not in _FIAT]})
        if path == "/v2/exchange-rates":
            usd = [listing.symbol for listing in self.listings if listing.symbol.endswith("/USD")]
            rates = {s.partition("/")[0]:
                     f"{UNIT / shaped_price(profile(s), now, self.shape_of(s)):.10g}" for s in usd}
            return json_reply({"data": {"currency": "USD", "rates": {"USD": "1", **rates}}})
        if path == "/v2/time":
            iso = datetime.fromtimestamp(now // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return json_reply({"data": {"iso": iso, "epoch": now // 1000}})
        return _error(404, "NOT_FOUND", "Not Found")

    def _codes(self) -> list[str]:
        return sorted({c for listing in self.listings for c in listing.symbol.split("/")})

    def _candles(self, params: dict[str, str], now: int) -> Reply | CandleQuery:
        symbol = self.request_symbol(params)
        if symbol is None:
            return _error(404, "NOT_FOUND", f"Product {params['product_id']} not supported")
        interval = self.request_interval(CANDLES, params)
        if interval is None:
            return _invalid("granularity argument is invalid")
        start, end = parse_int(params, "start"), parse_int(params, "end")
        if not isinstance(start, int) or not isinstance(end, int):
            return _invalid("start and end argument is invalid")
        iv, start, end = INTERVALS[interval], start * 1000, end * 1000
        if len(range(ceil_ms(start, iv), end, iv)) > self._max_candles:
            return _invalid("start and end argument is invalid - number of candles requested "
                            f"should be less than {self._max_candles}")
        rows = self.rows(symbol, interval, start, end - 1, now, None, serving=True)
        return CandleQuery(symbol, interval, rows, _render)


def _render(rows: list[list]) -> Reply:
    return json_reply({"candles": [
        {"start": str(r[0] // 1000), "low": r[3], "high": r[2], "open": r[1], "close": r[4],
         "volume": r[5]}
        for r in reversed(rows)
    ]})


def _crypto(code: str) -> dict:
    return {"asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"coinbase:{code}")), "code": code,
            "name": code, "exponent": 8, "type": "crypto"}


def _product(listing: Listing, now: int) -> dict:
    base, quote = listing.symbol.split("/")
    tick = fmt(profile(listing.symbol).tick).rstrip("0")
    delisted = listing.delisted_at is not None and now >= listing.delisted_at
    return {
        "product_id": f"{base}-{quote}",
        "base_increment": "0.00000001",
        "quote_increment": tick,
        "price_increment": tick,
        "base_min_size": "0.00000001",
        "base_max_size": "3400",
        "quote_min_size": "1",
        "quote_max_size": "150000000",
        "base_name": base,
        "quote_name": quote,
        "status": "delisted" if delisted else "online",
        "is_disabled": delisted,
        "trading_disabled": delisted,
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "auction_mode": False,
        "product_type": "SPOT",
        "base_currency_id": base,
        "quote_currency_id": quote,
        "base_display_symbol": base,
        "quote_display_symbol": quote,
        "display_name": f"{base}-{quote}",
        "product_venue": "CBE",
        "alias": "",
        "alias_to": [],
        "view_only": False,
    }
