"""OKX spot REST (/api/v5): time, instruments and the two candle endpoints with OKX's shapes,
codes and paging. A candle page is the newest `limit` candles of the window (before, after),
both bounds exclusive, rows newest first: a window before the listing is empty, and a page
cut short by the cap keeps the newest end of its window."""

from http.client import responses

from titan_dagster.emulator.candles import INTERVALS, fmt, profile
from titan_dagster.emulator.venue import (
    ALL_FAULTS,
    CandleQuery,
    Fault,
    Listing,
    Reply,
    Venue,
    json_reply,
    parse_int,
    to_ms,
)

TIME = "/api/v5/public/time"
INSTRUMENTS = "/api/v5/public/instruments"
CANDLES = "/api/v5/market/candles"
HISTORY_CANDLES = "/api/v5/market/history-candles"
DEFAULT_LIMIT = 100
RECENT_CAP = 300
HISTORY_CAP = 300  # 100 until mid-2025, while ccxt already asked for 300
RECENT_REACH = 1440  # candles of a bar the recent endpoint still serves

# Dates are approximate: OKX's history starts for the majors in January 2018.
DEFAULT_LISTINGS: dict[str, str] = {
    "BTC/USDT": "2018-01-11",
    "ETH/USDT": "2018-01-11",
    "LTC/USDT": "2018-01-11",
    "OKB/USDT": "2019-04-29",
    "SOL/USDT": "2021-02-25",
    "DOGE/USDT": "2021-01-29",
    "SUI/USDT": "2023-05-03",
}

# ccxt asks for 6h and longer as the 'utc' bars; the plain 6H/12H/1D open at Hong Kong
# times the emulator's UTC-aligned candles cannot serve, so they are refused (51000).
BARS = {
    "1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m", "1H": "1h", "2H": "2h",
    "4H": "4h", "6Hutc": "6h", "12Hutc": "12h", "1Dutc": "1d",
}

_MESSAGES = {
    "50001": "Service temporarily unavailable. Please try again later.",
    "50004": "API endpoint request timeout. ",
    "50011": "Too Many Requests",
    "50013": "Systems are busy. Please try again later.",
    "50026": "System error. Try again later",
    "51001": "Instrument ID, Instrument ID code, or Spread ID doesn't exist.",
}
# The code of a status fault without one. Other statuses get the gateway's own body, whose
# numeric code ccxt does not know: a plain ExchangeError, even for a 5xx.
_DEFAULT_CODES = {429: "50011", 500: "50026", 503: "50001"}
_INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")


def _error(code: str, msg: str, status: int) -> Reply:
    return json_reply({"code": code, "msg": msg, "data": []}, status)


def _gateway(status: int) -> Reply:
    """What OKX's gateway answers for unknown paths (seen with 404) and some 500s."""
    reason = responses.get(status, "")
    return json_reply({"code": status, "data": {}, "detailMsg": "", "error_code": str(status),
                       "error_message": reason, "msg": reason}, status)


class OkxEmulator(Venue):
    """OKX spot REST on http://host:port/api/v5.

    `history_cap` and `recent_cap` are the page caps of history-candles and candles (a larger
    `limit` is clamped silently); tests run history at 100, the cap before mid-2025. The
    candles endpoint serves only the last RECENT_REACH candle slots of a bar.

    HTTP statuses follow OKX's docs-v5 error-code table: 51001 (unknown instId) comes with
    200, 51000 and 50014 (bad or missing parameter) with 400, and the transient codes 50001
    with 503, 50004 with 400, 50013 with 429, 50026 with 500. ccxt classifies by the code.

    candles_path, the default of faults and counts, is history-candles: ccxt sends every
    request whose since is older than 1439 candles there (backfills). Pass path=CANDLES for
    the recent endpoint, or count(path=None, symbol=...) for both.
    """

    name = "okx"
    candles_path = HISTORY_CANDLES
    symbol_param = "instId"
    default_listings = DEFAULT_LISTINGS

    def __init__(self, *args, history_cap: int = HISTORY_CAP, recent_cap: int = RECENT_CAP,
                 **kwargs) -> None:
        if min(history_cap, recent_cap) < 1:
            raise ValueError("page caps must be >= 1")
        super().__init__(*args, **kwargs)
        self._caps = {HISTORY_CANDLES: history_cap, CANDLES: recent_cap}
        self._list_times: dict[str, int] = {}

    def report_listing(self, symbol: str, list_time: int | str) -> None:
        """Have the instruments answer give `list_time` as the listing, whatever the first
        candle says: OKX's listTime of a relisted or migrated instrument can be later."""
        with self._lock:
            self._list_times[self._known(symbol)] = to_ms(list_time)

    def market_id(self, symbol: str) -> str:
        return symbol.replace("/", "-")

    def request_interval(self, path: str, params: dict[str, str]) -> str | None:
        return BARS.get(params.get("bar", "1m")) if path in self._caps else None

    def error_reply(self, status: int, code: int | str | None, retry_after: int | None
                    ) -> Reply:
        code = _DEFAULT_CODES.get(status) if code is None else str(code)
        if code is None:
            reply = _gateway(status)
        elif code == "50011":
            reply = json_reply({"msg": _MESSAGES[code], "code": code}, status)
        else:
            reply = _error(code, _MESSAGES.get(code, ""), status)
        if retry_after is not None:
            reply.headers.append(("Retry-After", str(retry_after)))
        return reply

    def empty_reply(self) -> Reply:
        return _error("0", "", 200)

    def rate_limited_reply(self) -> Reply:
        return self.error_reply(429, None, None)

    def all_faults(self) -> tuple[Fault, ...]:
        # 418 is Binance's ban; a bare 500 or 503 would repeat 50026 or 50001.
        generic = tuple(f for f in ALL_FAULTS if f.status not in (418, 500, 503))
        return (*generic, Fault("status", 503, code="50001"), Fault("status", 400, code="50004"),
                Fault("status", 429, code="50013"), Fault("status", 500, code="50026"))

    def route(self, path: str, params: dict[str, str], now: int) -> Reply | CandleQuery:
        if path == TIME:
            return json_reply({"code": "0", "msg": "", "data": [{"ts": str(now)}]})
        if path == INSTRUMENTS:
            inst_type = params.get("instType")
            if not inst_type:
                return _error("50014", "instType cannot be empty", 400)
            if inst_type not in _INST_TYPES:
                return _error("51000", "Parameter instType error", 400)
            # Only spot is emulated: the other types list nothing.
            with self._lock:
                list_times = dict(self._list_times)
            data = ([_instrument(listing, now, list_times.get(listing.symbol, listing.listed_at))
                     for listing in self.listings]
                    if inst_type == "SPOT" else [])
            return json_reply({"code": "0", "msg": "", "data": data})
        if path in self._caps:
            return self._candles(path, params, now)
        return _gateway(404)

    def _candles(self, path: str, params: dict[str, str], now: int) -> Reply | CandleQuery:
        if not params.get("instId"):
            return _error("50014", "instId cannot be empty", 400)
        numbers = {name: parse_int(params, name) for name in ("after", "before", "limit")}
        for name, value in numbers.items():
            if isinstance(value, str) or (name == "limit" and value == 0):
                return _error("51000", f"Parameter {name} error", 400)
        interval = self.request_interval(path, params)
        if interval is None:
            return _error("51000", "Parameter bar error", 400)
        symbol = self.request_symbol(params)
        if symbol is None:
            return _error("51001", _MESSAGES["51001"], 200)
        limit = min(numbers["limit"] or DEFAULT_LIMIT, self._caps[path])
        before, after = numbers["before"], numbers["after"]
        start = None if before is None else before + 1
        end = None if after is None else after - 1
        if path == CANDLES:
            iv = INTERVALS[interval]
            oldest = now - now % iv - (RECENT_REACH - 1) * iv
            start = oldest if start is None else max(start, oldest)
        rows = self.rows(symbol, interval, start, end, now, limit, serving=True, from_end=True)
        return CandleQuery(symbol, interval, rows, lambda served: _candle_reply(served, now))


def _candle_reply(rows: list[list], now: int) -> Reply:
    # Spot: vol in base, volCcy and volCcyQuote in quote; confirm 0 marks the open candle.
    data = [[str(r[0]), r[1], r[2], r[3], r[4], r[5], r[7], r[7], "0" if r[6] >= now else "1"]
            for r in reversed(rows)]
    return json_reply({"code": "0", "msg": "", "data": data})


def _instrument(listing: Listing, now: int, list_time: int) -> dict:
    base, quote = listing.symbol.split("/")
    delisted = listing.delisted_at is not None and now >= listing.delisted_at
    return {
        "alias": "",
        "baseCcy": base,
        "category": "1",
        "contTdSwTime": "",
        "ctMult": "",
        "ctType": "",
        "ctVal": "",
        "ctValCcy": "",
        "expTime": "",
        "instFamily": "",
        "instId": f"{base}-{quote}",
        "instType": "SPOT",
        "lever": "",
        "listTime": str(list_time),
        "lotSz": "0.00001",
        "maxLmtAmt": "20000000",
        "maxLmtSz": "9999999999",
        "maxMktAmt": "1000000",
        "maxMktSz": "1000000",
        "minSz": "0.00001",
        "optType": "",
        "quoteCcy": quote,
        "ruleType": "normal",
        "settleCcy": "",
        "state": "suspend" if delisted else "live",
        "stk": "",
        "tickSz": fmt(profile(listing.symbol).tick).rstrip("0"),
        "uly": "",
    }
