"""Kraken spot public REST (/0/public): Time, Assets, AssetPairs and OHLC with Kraken's ids,
shapes and errors (HTTP 200 with an "error" list). OHLC serves only the `reach` most recent
slots, ending with the still-open candle: the candles after `since` (exclusive) among them,
ascending, and the open candle always, however late `since` is."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from http.client import responses

from titan_dagster.emulator.candles import INTERVALS, ZERO, fmt, profile
from titan_dagster.emulator.venue import (
    ALL_FAULTS,
    CandleQuery,
    Fault,
    Listing,
    Reply,
    Venue,
    json_reply,
    parse_int,
)

OHLC = "/0/public/OHLC"
REACH = 720

DEFAULT_LISTINGS: dict[str, str] = {
    "BTC/USD": "2013-10-06",
    "BTC/EUR": "2013-09-10",
    "ETH/USD": "2015-08-07",
    "XRP/USD": "2017-05-18",
    "ADA/USD": "2018-09-27",
    "DOT/USD": "2020-08-18",
    "SOL/USD": "2021-06-16",
    "DOGE/USD": "2021-03-09",
    "BTC/USDT": "2019-12-19",
}

# Kraken's asset ids that are not the unified code, as (id, altname). Assets listed before
# 2018 carry an X (crypto) or Z (fiat) prefix; ccxt's commonCurrencies maps them all back.
_ASSETS = {
    "BTC": ("XXBT", "XBT"),
    "DOGE": ("XXDG", "XDG"),
    "ETH": ("XETH", "ETH"),
    "ETC": ("XETC", "ETC"),
    "LTC": ("XLTC", "LTC"),
    "XLM": ("XXLM", "XLM"),
    "XMR": ("XXMR", "XMR"),
    "XRP": ("XXRP", "XRP"),
    "ZEC": ("XZEC", "ZEC"),
    "LUNA": ("LUNA2", "LUNA2"),  # ccxt calls Kraken's LUNA "LUNC"
    "LUNC": ("LUNA", "LUNA"),
    "USD": ("ZUSD", "USD"),
    "EUR": ("ZEUR", "EUR"),
    "GBP": ("ZGBP", "GBP"),
    "CAD": ("ZCAD", "CAD"),
    "JPY": ("ZJPY", "JPY"),
    "AUD": ("ZAUD", "AUD"),
}
_FIAT = frozenset({"USD", "EUR", "GBP", "CAD", "JPY", "AUD"})
# Pairs among these old assets are keyed by the two ids joined (XXBTZUSD); every other pair
# by its altname (SOLUSD, XBTUSDT, XDGUSD).
_OLD = frozenset({"BTC", "ETH", "ETC", "LTC", "XLM", "XMR", "XRP", "ZEC", "USD", "EUR", "GBP",
                  "CAD", "JPY"})

MINUTES = {1: "1m", 5: "5m", 15: "15m", 30: "30m", 60: "1h", 240: "4h", 1440: "1d"}


def _asset(code: str) -> tuple[str, str]:
    return _ASSETS.get(code, (code, code))


def _pair(symbol: str) -> tuple[str, dict[str, str]]:
    """The AssetPairs key of a unified symbol and the fields naming the pair."""
    base, quote = symbol.split("/")
    (base_id, base_alt), (quote_id, quote_alt) = _asset(base), _asset(quote)
    altname = base_alt + quote_alt
    key = base_id + quote_id if {base, quote} <= _OLD else altname
    return key, {"altname": altname, "wsname": f"{base_alt}/{quote_alt}", "base": base_id,
                 "quote": quote_id}


def _ok(result: object) -> Reply:
    return json_reply({"error": [], "result": result})


def _error(message: str) -> Reply:
    return json_reply({"error": [message]})


class KrakenEmulator(Venue):
    """Kraken spot on http://host:port/0/public.

    `reach`: how many of the most recent slots OHLC serves (Kraken: 720). A "status" fault
    with a code answers {"error": [code]} with that status (200 is Kraken's way); without a
    code, 200 gets "EGeneral:Internal error" and other statuses a plain-text page, as the CDN
    in front of Kraken gives. Over max_requests_per_second the answer is HTTP 200
    {"error":["EAPI:Rate limit exceeded"]} (ccxt: DDoSProtection).
    """

    name = "kraken"
    candles_path = OHLC
    symbol_param = "pair"
    default_listings = DEFAULT_LISTINGS
    misalign_ms = 1000  # times are seconds

    def __init__(self, *args, reach: int = REACH, **kwargs) -> None:
        self._reach = reach
        super().__init__(*args, **kwargs)

    def market_id(self, symbol: str) -> str:
        return _pair(symbol)[0]

    def request_interval(self, path: str, params: dict[str, str]) -> str | None:
        if path != OHLC:
            return None
        minutes = parse_int(params, "interval")
        return MINUTES.get(1 if minutes is None else minutes)

    def all_faults(self) -> tuple[Fault, ...]:
        # Kraken answers its own errors with HTTP 200; other statuses come from its CDN.
        return (
            *(f for f in ALL_FAULTS if f.kind != "status"),
            Fault("status", 503),
            Fault("html", 520),
            *(Fault("status", 200, code=code) for code in (
                "EService:Unavailable", "EService:Busy", "EGeneral:Internal error",
                "EAPI:Rate limit exceeded")),
        )

    def error_reply(self, status: int, code: int | str | None, retry_after: int | None) -> Reply:
        if code is None and status != 200:
            reply = Reply(status, f"{status} {responses.get(status, '')}".encode(), "text/plain")
        else:
            reply = json_reply({"error": [str(code or "EGeneral:Internal error")]}, status)
        if retry_after is not None:
            reply.headers.append(("Retry-After", str(retry_after)))
        return reply

    def empty_reply(self) -> Reply:
        return _ok({})

    def rate_limited_reply(self) -> Reply:
        # Kraken's public throttle reply is undocumented; this is its private-API answer.
        return _error("EAPI:Rate limit exceeded")

    def route(self, path: str, params: dict[str, str], now: int) -> Reply | CandleQuery:
        if path == OHLC:
            return self._ohlc(params, now)
        if path == "/0/public/AssetPairs":
            return _ok(dict(_asset_pair(listing, now) for listing in self.listings))
        if path == "/0/public/Assets":
            codes = {c for listing in self.listings for c in listing.symbol.split("/")}
            return _ok({_asset(c)[0]: _asset_info(c) for c in sorted(codes)})
        if path == "/0/public/Time":
            t = datetime.fromtimestamp(now // 1000, UTC)
            rfc1123 = f"{t:%a}, {t.day:2d} {t:%b %y %H:%M:%S} +0000"
            return _ok({"unixtime": now // 1000, "rfc1123": rfc1123})
        return _error("EGeneral:Unknown method")

    def _ohlc(self, params: dict[str, str], now: int) -> Reply | CandleQuery:
        if not params.get("pair"):
            return _error("EGeneral:Invalid arguments")
        symbol = self.request_symbol(params)
        if symbol is None:
            return _error("EQuery:Unknown asset pair")
        interval = self.request_interval(OHLC, params)
        since = params.get("since")
        # ccxt sends since one candle early, so since=0 arrives negative.
        if interval is None or (since is not None and not re.fullmatch(r"-?\d+", since)):
            return _error("EGeneral:Invalid arguments")
        iv = INTERVALS[interval]
        open_time = now - now % iv
        start = open_time - (self._reach - 1) * iv
        if since is not None:
            start = max(start, min(int(since) * 1000 + 1, open_time))
        rows = self.rows(symbol, interval, start, None, now, None, serving=True)
        key, last = params["pair"], (open_time - iv) // 1000

        def render(rows: list[list]) -> Reply:
            return _ok({key: [_row(r) for r in rows], "last": last})

        return CandleQuery(symbol, interval, rows, render)


def _row(r: list) -> list:
    # vwap = quote volume / volume; Kraken prints 0 for a candle that traded nothing.
    try:
        vwap = (Decimal(r[7]) / Decimal(r[5])).quantize(Decimal("1e-8"))
    except ArithmeticError:
        vwap = ZERO
    return [r[0] // 1000, r[1], r[2], r[3], r[4], str(vwap), r[5], r[8]]


def _asset_info(code: str) -> dict:
    fiat = code in _FIAT
    return {"aclass": "currency", "altname": _asset(code)[1], "decimals": 4 if fiat else 10,
            "display_decimals": 2 if fiat else 5, "status": "enabled"}


def _asset_pair(listing: Listing, now: int) -> tuple[str, dict]:
    key, names = _pair(listing.symbol)
    tick = fmt(profile(listing.symbol).tick).rstrip("0")
    delisted = listing.delisted_at is not None and now >= listing.delisted_at
    return key, {
        **names,
        "aclass_base": "currency",
        "aclass_quote": "currency",
        "lot": "unit",
        "cost_decimals": 5,
        "pair_decimals": len(tick) - 2,
        "lot_decimals": 8,
        "lot_multiplier": 1,
        "leverage_buy": [],
        "leverage_sell": [],
        "fees": [[0, 0.4]],
        "fees_maker": [[0, 0.25]],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "costmin": "0.5",
        "tick_size": tick,
        # Kraken has no "delisted" status; a pair being wound down is cancel_only.
        "status": "cancel_only" if delisted else "online",
    }
