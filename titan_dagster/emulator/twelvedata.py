"""Twelve Data REST: /time_series, /earliest_timestamp and the reference lists (/forex_pairs,
/commodities, /stocks) with Twelve Data's shapes, errors, API key and credits, serving forex,
metals and US stocks within their market hours (see twelvedata_market).

Choices where Twelve Data does not document its behaviour:
- start_date is inclusive and end_date exclusive, intraday as for daily (documented there);
  a window holding more than `outputsize` bars gives its newest bars, whatever dates are set.
- Errors are never charged, nor are 429s, but refused credits count in the N of the 429
  message, for the minute and the day. The day limit is checked before the minute limit.
  Reference lists cost 1 credit per request, a batch (symbol=A,B) 1 per symbol, its
  per-symbol errors included.
- Every endpoint needs the key. api-credits-left is sent only with a per-minute limit.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http.client import responses
from threading import local

from titan_dagster.emulator.candles import INVALID_KINDS, Shape
from titan_dagster.emulator.twelvedata_market import (
    DAY,
    INTERVALS,
    MAX_OUTPUTSIZE,
    MINUTE,
    Ask,
    instrument,
    label,
    make_rows,
    number,
    parse_ask,
    parse_time,
    payload,
    reference,
    select,
    volume,
    zone_of,
)
from titan_dagster.emulator.venue import (
    CandleQuery,
    Fault,
    Listing,
    Reply,
    Venue,
    _apply_corrections,
    json_reply,
    to_ms,
)

TIME_SERIES = "/time_series"
EARLIEST = "/earliest_timestamp"
FOREX_PAIRS, COMMODITIES, STOCKS = "/forex_pairs", "/commodities", "/stocks"
_LISTS = {FOREX_PAIRS: "forex", COMMODITIES: "metal", STOCKS: "stock"}
INTRADAY_YEARS = 3  # intraday history of the default listings, back from the clock's now
DEFAULT_LISTINGS: dict[str, str] = {
    "XAU/USD": "2018-01-01", "EUR/USD": "2018-01-01", "GBP/USD": "2018-01-01",
    "AAPL": "2018-01-02",
}
SUPPORTED = "1min, 5min, 15min, 30min, 45min, 1h, 2h, 4h, 8h, 1day, 1week, 1month"
# The shared candle generator's names (row faults and invalid rows use its interval table).
_BASE = {"1min": "1m", "5min": "5m", "15min": "15m", "30min": "30m", "1h": "1h", "2h": "2h",
         "4h": "4h", "8h": "8h", "1day": "1d"}
_FROM_BASE = {v: k for k, v in _BASE.items()}
APIKEY = ("**apikey** parameter is incorrect or not specified. You can get your free API key "
          "instantly following this link: https://twelvedata.com/pricing. If you believe that "
          "everything is correct, you can contact us at https://twelvedata.com/contact/customer")
SYMBOL = ("**symbol** or **figi** parameter is missing or invalid. Please provide a valid "
          "symbol according to API documentation: https://twelvedata.com/docs#reference-data")
NO_DATA = "No data is available on the specified dates. Try setting different start/end dates."
_CREDITS = ("You have run out of API credits for {0}. {1} API credits were used, with the "
            "current limit being {2}. Wait for the next {3} or consider switching to a higher "
            "tier plan at https://twelvedata.com/pricing")
_MESSAGES = {
    401: APIKEY, 404: SYMBOL,
    500: "We are sorry, but something went wrong on our side. Please try again later.",
}
_CLOUDFLARE = (
    "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head><title>api.twelvedata.com | {0}: {1}"
    "</title></head>\n<body><div id=\"cf-error-details\"><h1>{1}</h1><span>Error code {0}"
    "</span><p>Visit cloudflare.com for more information.</p></div></body>\n</html>\n"
)
_CLOUDFLARE_TITLES = {502: "Bad gateway", 520: "Web server is returning an unknown error"}


@dataclass
class _Window:
    """Credits of one UTC minute or day: charged, and charged plus refused."""

    index: int
    charged: int = 0
    asked: int = 0


class TwelveDataEmulator(Venue):
    """Twelve Data's REST API on http://host:port (the paths are the real ones at the root).

    `api_key` None accepts any non-empty key; a missing key is always refused (401). The key
    is read from `Authorization: apikey KEY` or `apikey=KEY` and never kept in the request
    log. `error_style`: "body" (HTTP 200 + error body), "http" (HTTP status = code) or
    "mixed" (alternating, starting with "http"). `credits_per_minute/_per_day` None mean
    unlimited. `intraday_from`: when intraday history starts, one time for every listing or
    per symbol (default: listing time; for the default listings INTRADAY_YEARS back).
    `shape`: as for every venue, a log-price offset per symbol (Venue.set_shape).
    """

    name = "twelvedata"
    candles_path = TIME_SERIES
    symbol_param = "symbol"
    default_listings = DEFAULT_LISTINGS
    misalign_ms = 1000  # datetimes are printed to the second

    def __init__(
        self,
        listings: Mapping[str, int | str | datetime] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], int] | None = None,
        max_requests_per_second: int | None = None,
        *,
        api_key: str | None = None,
        error_style: str = "mixed",
        credits_per_minute: int | None = None,
        credits_per_day: int | None = None,
        intraday_from: int | str | datetime | Mapping[str, int | str | datetime] | None = None,
        shape: Mapping[str, Shape] | None = None,
    ) -> None:
        if error_style not in ("body", "http", "mixed"):
            raise ValueError(f"unknown error_style {error_style!r}")
        self._intraday: dict[str, int] = {}
        self._strays: dict[tuple[str, str], set[int]] = {}
        self._api_key, self._style = api_key, error_style
        self._per_minute, self._per_day = credits_per_minute, credits_per_day
        self._minute, self._day = _Window(-1), _Window(-1)
        self._limit_hits = {"minute": 0, "day": 0}
        self._errors = 0
        self._auth = local()
        super().__init__(listings, host, port, clock, max_requests_per_second,
                         shape=shape)
        if intraday_from is None and listings is None:
            now = self._now()
            intraday_from = now - now % DAY - INTRADAY_YEARS * 365 * DAY
        for listing in self.listings if intraday_from is not None else ():
            when = (intraday_from.get(listing.symbol) if isinstance(intraday_from, Mapping)
                    else intraday_from)
            if when is not None:
                self._intraday[listing.symbol] = max(to_ms(when), listing.listed_at)

    # -- the market ----------------------------------------------------------------------

    def add_symbol(self, symbol: str, listed_at: int | str | datetime,
                   delisted_at: int | str | datetime | None = None, *,
                   intraday_from: int | str | datetime | None = None) -> None:
        """'EUR/USD', 'XAU/USD' or a stock ('AAPL'); intraday bars from `intraday_from`."""
        symbol = symbol.upper()
        if not all(symbol.split("/")) or symbol.count("/") > 1:
            raise ValueError(f"not a Twelve Data symbol: {symbol!r}")
        listed = to_ms(listed_at)
        delisted = None if delisted_at is None else to_ms(delisted_at)
        with self._lock:
            self._listings[symbol] = Listing(symbol, listed, delisted)
            self._ids[symbol] = symbol
            if intraday_from is not None:
                self._intraday[symbol] = max(to_ms(intraday_from), listed)

    def add_stray(self, symbol: str, interval: str, open_time: int) -> None:
        """Also serve a bar opening at `open_time` in closed hours (a Saturday daily bar)."""
        symbol, interval = self._td_key(symbol, interval)
        grid = MINUTE if instrument(symbol).kind == "stock" else INTERVALS[interval]
        if open_time % grid:
            raise ValueError(f"{open_time} is not a {interval} open time")
        with self._lock:
            self._strays.setdefault((symbol, interval), set()).add(open_time)

    def set_candle(self, symbol: str, interval: str, open_time: int, open: str | None = None,
                   high: str | None = None, low: str | None = None, close: str | None = None,
                   volume: str | None = None) -> None:
        """Serve these values (decimal strings) for the bar opening at `open_time`."""
        fields = {i: v for i, v in enumerate((open, high, low, close, volume), start=1)
                  if v is not None}
        key = self._td_key(symbol, interval)
        with self._lock:
            by_time = self._overrides.setdefault(key, {})
            by_time[open_time] = {**by_time.get(open_time, {}), **fields}

    def add_invalid(self, symbol: str, interval: str, open_time: int, kind: str) -> None:
        if kind not in INVALID_KINDS:
            raise ValueError(f"unknown invalid kind {kind!r}")
        key = self._td_key(symbol, interval)
        with self._lock:
            by_time = self._invalid.setdefault(key, {})
            # nan/inf last: the other kinds do arithmetic on fields those make non-numeric.
            by_time[open_time] = sorted([*by_time.get(open_time, []), kind],
                                        key=lambda k: k in ("nan", "inf"))

    def _td_key(self, symbol: str, interval: str) -> tuple[str, str]:
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r}")
        with self._lock:
            return self._known(symbol.upper()), interval

    def market_id(self, symbol: str) -> str:
        return symbol

    # -- credits -------------------------------------------------------------------------

    @property
    def credits_used_today(self) -> int:
        with self._lock:
            return self._windows(self._now())[1].charged

    @property
    def credits_used_this_minute(self) -> int:
        with self._lock:
            return self._windows(self._now())[0].charged

    @property
    def minute_limit_hits(self) -> int:
        """429s answered for the per-minute limit (injected faults not counted)."""
        return self._limit_hits["minute"]

    @property
    def day_limit_hits(self) -> int:
        return self._limit_hits["day"]

    def _windows(self, now: int) -> tuple[_Window, _Window]:
        """Lock held."""
        if self._minute.index != now // MINUTE:
            self._minute = _Window(now // MINUTE)
        if self._day.index != now // DAY:
            self._day = _Window(now // DAY)
        return self._minute, self._day

    def _spend(self, cost: int, now: int) -> Reply | None:
        """Charge `cost` credits, or the 429 answer when a limit would be passed."""
        with self._lock:
            minute, day = self._windows(now)
            for window, limit, which in ((day, self._per_day, "day"),
                                         (minute, self._per_minute, "minute")):
                if limit is not None and window.charged + cost > limit:
                    minute.asked += cost
                    day.asked += cost
                    self._limit_hits[which] += 1
                    asked = window.asked
                    break
            else:
                for window in (minute, day):
                    window.charged += cost
                    window.asked += cost
                return None
        span = "the current minute" if which == "minute" else "the day"
        return self._error(429, _CREDITS.format(span, asked, limit, which))

    def _refund(self, cost: int, now: int) -> None:
        with self._lock:
            for window in self._windows(now):
                window.charged -= cost
                window.asked -= cost

    def extra_headers(self, path: str) -> list[tuple[str, str]]:
        with self._lock:
            used = self._windows(self._now())[0].charged
        headers = [("api-credits-used", str(used))]
        if self._per_minute is not None:
            headers.append(("api-credits-left", str(max(self._per_minute - used, 0))))
        return headers

    # -- errors and faults ---------------------------------------------------------------

    def _error(self, code: int, message: str) -> Reply:
        with self._lock:
            n, self._errors = self._errors, self._errors + 1
        http = self._style == "http" or (self._style == "mixed" and n % 2 == 0)
        return json_reply({"code": code, "message": message, "status": "error"},
                          code if http else 200)

    def _minute_message(self) -> str:
        with self._lock:
            asked = self._windows(self._now())[0].asked
        limit = self._per_minute or 8
        return _CREDITS.format("the current minute", max(asked, limit) + 1, limit, "minute")

    def error_reply(self, status: int, code: int | str | None, retry_after: int | None
                    ) -> Reply:
        """An injected error: HTTP `status`, body code `code` (default: the status; 500 for
        a status of 200)."""
        code = int(code) if code is not None else (500 if status == 200 else status)
        message = (self._minute_message() if code == 429
                   else _MESSAGES.get(code, responses.get(code, "Error")))
        return json_reply({"code": code, "message": message, "status": "error"}, status)

    def rate_limited_reply(self) -> Reply:
        return self._error(429, self._minute_message())

    def empty_reply(self) -> Reply:
        return json_reply({"meta": {}, "values": [], "status": "ok"})

    def all_faults(self) -> tuple[Fault, ...]:
        return (Fault("status", 429), Fault("status", 200, code=429), Fault("status", 500),
                Fault("html", 502), Fault("html", 520), Fault("truncated"), Fault("drop"),
                Fault("delay", delay=3.0))

    def _fault_reply(self, fault: Fault) -> Reply:
        if fault.kind not in ("html", "html200"):
            return super()._fault_reply(fault)
        code = fault.status or 502
        page = _CLOUDFLARE.format(code, _CLOUDFLARE_TITLES.get(code, responses.get(code, "")))
        return Reply(200 if fault.kind == "html200" else code, page.encode(),
                     "text/html; charset=UTF-8")

    # -- requests ------------------------------------------------------------------------

    def header_params(self, params: dict[str, str], headers: Mapping[str, str]
                      ) -> dict[str, str]:
        scheme, _, key = (headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() == "apikey" and key.strip():
            return {"apikey": key.strip(), **params}
        return params

    def canonical(self, path: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Parameter names are case-insensitive; the key leaves the parameters here."""
        params = {k.lower(): v for k, v in params.items()}
        key = params.pop("apikey", "")
        self._auth.ok = bool(key) and self._api_key in (None, key)
        return path, params

    def request_symbol(self, params: dict[str, str]) -> str | None:
        return self.symbol_of(params.get("symbol", "").strip().upper())

    def request_interval(self, path: str, params: dict[str, str]) -> str | None:
        return params.get("interval") if path in (TIME_SERIES, EARLIEST) else None

    def route(self, path: str, params: dict[str, str], now: int) -> Reply | CandleQuery:
        if not getattr(self._auth, "ok", False):
            return self._error(401, APIKEY)
        if path in (TIME_SERIES, EARLIEST):
            return self._series(path, params, now)
        if path in (FOREX_PAIRS, COMMODITIES, STOCKS):
            refused = self._spend(1, now)
            wanted = params.get("symbol", "").upper()
            data = [row for listing in self.listings
                    if (row := reference(_LISTS[path], instrument(listing.symbol)))
                    and wanted in ("", listing.symbol)]
            return refused or json_reply({"data": data, "status": "ok"})
        return self._error(404, "Not Found")

    def _series(self, path: str, params: dict[str, str], now: int) -> Reply | CandleQuery:
        interval = params.get("interval", "")
        if interval not in INTERVALS:
            return self._error(400, f"Invalid **interval** provided: {interval}. "
                                    f"Supported intervals: {SUPPORTED}")
        names = [s.strip().upper() for s in params.get("symbol", "").split(",") if s.strip()]
        if not names or (len(names) == 1 and self.symbol_of(names[0]) is None):
            return self._error(404, SYMBOL)
        ask = parse_ask(params)
        if isinstance(ask, str):
            return self._error(400, ask)
        if path == EARLIEST:
            if self.symbol_of(names[0]) is None:
                return self._error(404, SYMBOL)
            return self._earliest(names[0], interval, ask, now)
        refused = self._spend(len(names), now)
        if refused is not None:
            return refused
        if len(names) > 1:
            batch = {name: self._one(name, interval, ask, now) for name in names}
            reply = json_reply({name: value if isinstance(value, dict)
                                else payload(name, interval, value, ask)
                                for name, value in batch.items()})
            reply.headers.append(("Is_batch", "true"))
            return reply
        symbol = names[0]
        answer = self._one(symbol, interval, ask, now)
        if isinstance(answer, dict):
            self._refund(1, now)
            return self._error(answer["code"], answer["message"])
        return CandleQuery(symbol, _BASE.get(interval, interval), answer,
                           lambda rows: json_reply(payload(symbol, interval, rows, ask)))

    def _one(self, name: str, interval: str, ask: Ask, now: int) -> list[list] | dict:
        """The rows of one symbol's window, or its error body."""
        symbol = self.symbol_of(name)
        if symbol is None:
            return {"code": 404, "message": SYMBOL, "status": "error"}
        inst = instrument(symbol)
        zone = inst.zone if interval == "1day" else zone_of(ask.timezone, inst)
        try:
            start, end = (parse_time(text, zone, interval == "1day")
                          for text in (ask.start, ask.end))
        except ValueError as error:
            return {"code": 400, "message": str(error), "status": "error"}
        rows = self.rows(symbol, interval, start, None if end is None else end - 1, now,
                         ask.outputsize or (30 if start is None and end is None
                                            else MAX_OUTPUTSIZE),
                         serving=True, from_end=True)
        return rows or {"code": 400, "message": NO_DATA, "status": "error"}

    def _earliest(self, symbol: str, interval: str, ask: Ask, now: int) -> Reply:
        refused = self._spend(1, now)
        if refused is not None:
            return refused
        symbol = self.symbol_of(symbol)
        rows = self.rows(symbol, interval, None, None, now, 1, serving=False, from_end=False)
        if not rows:
            self._refund(1, now)
            return self._error(400, NO_DATA)
        inst = instrument(symbol)
        return json_reply({"datetime": label(inst, interval, rows[0][0],
                                              zone_of(ask.timezone, inst)),
                           "unix_time": rows[0][0] // 1000})

    # -- what is served ------------------------------------------------------------------

    def rows(self, symbol: str, interval: str, start: int | None, end: int | None, now: int,
             limit: int | None, *, serving: bool, from_end: bool | None = None) -> list[list]:
        """Rows [open, o, h, l, c, volume, end - 1] of the bars opening in [start, end]
        (inclusive), ascending: the first `limit` of them, or the last with `from_end`."""
        interval = _FROM_BASE.get(interval, interval)
        iv, kind = INTERVALS[interval], instrument(symbol).kind
        with self._lock:
            listing = self._listings[symbol]
            first = (listing.listed_at if interval == "1day"
                     else self._intraday.get(symbol, listing.listed_at))
            strays = sorted(self._strays.get((symbol, interval), ()))
            holes = list(self._holes.get(symbol, ()))
            overrides = dict(self._overrides.get((symbol, interval), {}))
            invalid = dict(self._invalid.get((symbol, interval), {}))
            shape = self._shapes.get(symbol)
        lo = first - iv if start is None else max(start, first - iv)
        hi = min([now] + ([] if end is None else [end])
                 + ([] if listing.delisted_at is None else [listing.delisted_at - 1]))
        from_end = start is None if from_end is None else from_end

        def pick(hidden: list) -> list[tuple[int, int]]:
            return select(kind, interval, lo, hi, first, strays, hidden, limit, from_end)

        permanent = [h for h in holes if h.remaining is None]
        chosen = pick(permanent)
        if serving and chosen:
            with self._lock:
                hit = [h for h in holes if h.remaining and h.start <= chosen[-1][0]
                       and h.end > chosen[0][0]]
                for hole in hit:
                    hole.remaining -= 1
            if hit:
                chosen = pick(permanent + hit)
        rows = make_rows(symbol, interval, chosen, now, shape)
        if overrides or invalid:
            rows = _apply_corrections(rows, overrides, invalid, _BASE.get(interval, "1m"), now,
                                      self.misalign_ms)
        return rows

    def candles(self, symbol: str, interval: str, start: int | str | datetime,
                end: int | str | datetime) -> list[list]:
        """The closed bars opening in [start, end) as served now (transient holes ignored):
        rows [open_ms, open, high, low, close, volume or None] with the served strings. A
        daily bar's open_ms is 00:00 UTC of the date it is served with (a stock's session
        opens at 09:30 New York, which the served date does not say)."""
        with self._lock:
            symbol = self._known(symbol.upper())
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r}")
        now, start, end = self._now(), to_ms(start), to_ms(end)
        inst = instrument(symbol)
        rows = self.rows(symbol, interval, start, end - 1, now, None, serving=False)
        daily = interval == "1day"
        return [[row[0] - row[0] % DAY if daily else row[0], *(number(v, -1) for v in row[1:5]),
                 volume(row[5]) if inst.kind == "stock" else None]
                for row in rows if row[6] < now and start <= row[0] < end]
