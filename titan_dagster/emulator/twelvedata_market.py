"""The instruments the Twelve Data emulator serves and when each has bars: table-driven market
hours and deterministic prices at plausible levels.

- forex (EUR/USD, ...): trading day D (Mon-Fri, not Dec 25 or Jan 1) runs 17:00 New York on
  D-1 to 17:00 on D, so a week is Sunday 17:00 to Friday 17:00 NY (zoneinfo: DST moves it
  between 21:00 and 22:00 UTC).
- metals (XAU/USD, XAG/USD, ...): the same days, 18:00 NY on D-1 to 17:00 on D: a daily
  17:00-18:00 break, and the week opens Sunday 18:00.
- stocks (any symbol without "/"): NYSE sessions from exchange_calendars (holidays, 13:00
  early closes).

Intraday forex/metal bars sit on the UTC grid of their interval; slot g has a bar iff
[g, g+interval) overlaps trading hours. Stock bars are session-aligned (09:30, 10:30, ...) and
the last one of a session ends at the close. Daily bars: forex/metals every trading day D,
opening 00:00 UTC of D; stocks one per session, opening at the session open (09:30 NY), as
Twelve Data's earliest_timestamp unix_time shows.
"""

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from zoneinfo import ZoneInfo

from titan_dagster.emulator.candles import (
    UNIT,
    Profile,
    Shape,
    activity,
    fmt,
    mix64,
    price,
    profile,
    shaped_price,
    wicks,
)

NY = ZoneInfo("America/New_York")
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
INTERVALS: dict[str, int] = {
    "1min": MINUTE, "5min": 5 * MINUTE, "15min": 15 * MINUTE, "30min": 30 * MINUTE,
    "45min": 45 * MINUTE, "1h": HOUR, "2h": 2 * HOUR, "4h": 4 * HOUR, "8h": 8 * HOUR,
    "1day": DAY,
}
MAX_OUTPUTSIZE = 5000
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
HOLIDAYS = frozenset({(12, 25), (1, 1)})  # forex/metal trading days that do not happen
# Opening hour (NY, on the day before) and closing hour (NY) of a forex/metal trading day.
_HOURS = {"forex": (17, 17), "metal": (18, 17)}
_METALS = {"XAU": "Gold Spot", "XAG": "Silver Spot", "XPT": "Platinum Spot",
           "XPD": "Palladium Spot"}
_CURRENCIES = {"EUR": "Euro", "USD": "US Dollar", "GBP": "British Pound",
               "JPY": "Japanese Yen", "CHF": "Swiss Franc", "AUD": "Australian Dollar",
               "CAD": "Canadian Dollar", "NZD": "New Zealand Dollar", **_METALS}
MAJORS = frozenset({"EUR/USD", "GBP/USD", "USD/JPY", "USD/CHF", "AUD/USD", "USD/CAD",
                    "NZD/USD"})
# symbol: (price level, decimals, swing of the log price, shares per minute)
_LEVELS = {
    "EUR/USD": (1.1, 5, 0.12, 0), "GBP/USD": (1.3, 5, 0.12, 0), "USD/JPY": (150, 3, 0.12, 0),
    "XAU/USD": (2800, 2, 0.35, 0), "XAG/USD": (32, 4, 0.4, 0),
    "AAPL": (200, 2, 0.3, 130_000), "MSFT": (400, 2, 0.3, 55_000),
}
# Stocks: name, figi, cfi, isin, cusip.
STOCK_IDS = {
    "AAPL": ("Apple Inc.", "BBG000B9XRY4", "ESVUFR", "US0378331005", "037833100"),
    "MSFT": ("Microsoft Corporation", "BBG000BPH459", "ESVUFR", "US5949181045", "594918104"),
}


@dataclass(frozen=True)
class Instrument:
    symbol: str
    kind: str  # "forex", "metal" or "stock"
    base_name: str  # forex/metal currency_base; a stock's name
    quote_name: str
    level: float
    decimals: int
    swing: float
    shares_per_minute: int

    @property
    def zone(self) -> ZoneInfo:
        """The exchange's zone: how dates are read and printed by default, daily labels."""
        return NY if self.kind == "stock" else ZoneInfo("UTC")


@cache
def instrument(symbol: str) -> Instrument:
    base, _, quote = symbol.partition("/")
    if not quote:
        level = _LEVELS.get(symbol, (100.0, 2, 0.3, 20_000))
        name = STOCK_IDS.get(symbol, (f"{symbol} Inc.",))[0]
        return Instrument(symbol, "stock", name, "", *level)
    kind = "metal" if base in _METALS else "forex"
    default = (100.0, 3, 0.12, 0) if quote == "JPY" else (
        (100.0, 3, 0.35, 0) if kind == "metal" else (1.0, 5, 0.12, 0))
    return Instrument(symbol, kind, _CURRENCIES.get(base, base), _CURRENCIES.get(quote, quote),
                      *_LEVELS.get(symbol, default))


@cache
def _profile(symbol: str) -> Profile:
    """The shared generator's profile, moved to the instrument's level, decimals and swing."""
    inst, p = instrument(symbol), profile(symbol)
    return replace(p, base_ticks=inst.level * 10**inst.decimals, tick=10 ** (8 - inst.decimals),
                   waves=tuple((w, phase, a * inst.swing) for w, phase, a in p.waves))


def make_rows(symbol: str, interval: str, bars: list[tuple[int, int]], now: int,
              shape: Shape | None = None) -> list[list]:
    """Rows [open, open, high, low, close, volume, end - 1] (prices and volume as 8-decimal
    strings, the shared layout invalid-row kinds work on) for (open, end) bars. A bar not
    ended by `now` closes at the price of now and its wicks and volume grow with time.
    `shape` moves the path (candles.shaped_price)."""
    inst, p = instrument(symbol), _profile(symbol)
    tick, salt = p.tick, mix64(p.seed ^ INTERVALS[interval])
    now_s = now - now % 1000
    at = price if shape is None else lambda p, t: shaped_price(p, t, shape)
    rows = []
    for t, end in bars:
        length, elapsed = end - t, min(end, now) - t
        o = at(p, t)
        c = at(p, end if end <= now else now_s)
        h = mix64(salt ^ t)
        top, bottom = max(o, c), min(o, c)
        spread_ppm = int(800 * math.sqrt(length / MINUTE) * max(inst.swing, 0.25))
        span = top * spread_ppm // 1_000_000 * elapsed // length
        high, low = wicks(top, bottom, span, h, tick)
        shares = (inst.shares_per_minute * length // MINUTE * activity(h) >> 16) * elapsed \
            // length
        rows.append([t, fmt(o), fmt(high), fmt(low), fmt(c), fmt(shares * UNIT), end - 1])
    return rows


# -- market hours ----------------------------------------------------------------------


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


@cache
def _ny_ms(day: date, hour: int) -> int:
    return _ms(datetime(day.year, day.month, day.day, hour, tzinfo=NY))


def _trading_day(day: date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS


def _date(ms: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(ms // 1000, zone).date()


def trading_periods(kind: str, a: int, b: int) -> list[tuple[int, int]]:
    """Forex/metal trading hours overlapping [a, b), as merged [start, end) spans."""
    opens, closes = _HOURS[kind]
    out: list[tuple[int, int]] = []
    day, last = _date(a, NY) - timedelta(days=1), _date(b, NY) + timedelta(days=1)
    while day <= last:
        if _trading_day(day):
            start, end = _ny_ms(day - timedelta(days=1), opens), _ny_ms(day, closes)
            if start < b and end > a:
                if out and out[-1][1] == start:
                    out[-1] = (out[-1][0], end)
                else:
                    out.append((start, end))
        day += timedelta(days=1)
    return out


@cache
def sessions() -> tuple[list[int], list[int]]:
    """NYSE session opens and closes (epoch ms, ascending), 1990 to 2030."""
    import exchange_calendars as xc  # loaded on first use: a third of a second

    schedule = xc.get_calendar("XNYS", start="1990-01-02", end="2030-12-31").schedule
    return ([int(v) // 1_000_000 for v in schedule["open"].array.asi8],
            [int(v) // 1_000_000 for v in schedule["close"].array.asi8])


def bars(kind: str, interval: str, a: int, b: int, strays: list[int]) -> list[tuple[int, int]]:
    """(open, end) of the bars opening in [a, b] (inclusive), ascending, plus `strays`."""
    iv = INTERVALS[interval]
    out: list[tuple[int, int]] = []
    if kind == "stock":
        opens, closes = sessions()
        if interval == "1day":
            out = [(opens[i], closes[i])
                   for i in range(bisect_left(opens, a), bisect_right(opens, b))]
        else:
            for i in range(bisect_right(closes, a), bisect_right(opens, b)):
                o, c = opens[i], closes[i]
                g = o + max(0, -(-(a - o) // iv)) * iv
                while g < c and g <= b:
                    out.append((g, min(g + iv, c)))
                    g += iv
    elif interval == "1day":
        day = _date(-(-a // DAY) * DAY, UTC)
        while (t := _ms(datetime(day.year, day.month, day.day, tzinfo=UTC))) <= b:
            if _trading_day(day):
                out.append((t, t + DAY))
            day += timedelta(days=1)
    else:
        for start, end in trading_periods(kind, a, b + iv):
            g = max(start - start % iv, -(-a // iv) * iv)
            if out and g <= out[-1][0]:
                g = out[-1][0] + iv
            while g < end and g <= b:
                out.append((g, g + iv))
                g += iv
    served = {o for o, _ in out}
    extra = [t for t in strays if a <= t <= b and t not in served]
    if extra:
        out = sorted(out + [(t, t + iv) for t in extra])
    return out


def select(kind: str, interval: str, lo: int, hi: int, first: int, strays: list[int],
           hidden: list, limit: int | None, from_end: bool) -> list[tuple[int, int]]:
    """The bars opening in [lo, hi] that end after `first` (the listing) and open outside
    every hidden span (.start, .end): all, or the first (last, `from_end`) `limit` of them,
    found by walking windows from that end, so a long history costs only what is asked."""

    def keep(bar: tuple[int, int]) -> bool:
        return bar[1] > first and not any(h.start <= bar[0] < h.end for h in hidden)

    if limit is None:
        return [bar for bar in bars(kind, interval, lo, hi, strays) if keep(bar)]
    out: list[tuple[int, int]] = []
    width = max(2 * limit * INTERVALS[interval], 14 * DAY)
    a, b = (hi - width + 1, hi) if from_end else (lo, lo + width - 1)
    while len(out) < limit and b >= lo and a <= hi:
        part = [bar for bar in bars(kind, interval, max(a, lo), min(b, hi), strays) if keep(bar)]
        out = part + out if from_end else out + part
        a, b = (a - width, a - 1) if from_end else (b + 1, b + width)
    return out[-limit:] if from_end else out[:limit]


# -- how bars are written -------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    outputsize: int | None
    desc: bool
    dp: int
    timezone: str | None
    start: str | None
    end: str | None


def parse_ask(params: dict[str, str]) -> Ask | str:
    """The window and format options of a request, or the 400 message."""
    size, dp = params.get("outputsize"), params.get("dp", "-1")
    if size is not None and not (size.isdigit() and 1 <= int(size) <= MAX_OUTPUTSIZE):
        return f"**outputsize** must be between 1 and {MAX_OUTPUTSIZE}, got {size}"
    order = params.get("order", "desc").lower()
    if order not in ("asc", "desc"):
        return f"Invalid **order** provided: {order}. Supported: asc, desc"
    if params.get("format", "JSON").upper() != "JSON":
        return "Only JSON **format** is served by this emulator"
    if not (dp.lstrip("-").isdigit() and -1 <= int(dp) <= 11):
        return f"**dp** must be between -1 and 11, got {dp}"
    tz = params.get("timezone") or None
    if tz not in (None, "Exchange", "UTC"):
        try:
            ZoneInfo(tz)
        except (KeyError, ValueError):
            return f"Invalid **timezone** provided: {tz}"
    return Ask(None if size is None else int(size), order == "desc", int(dp), tz,
               params.get("start_date") or None, params.get("end_date") or None)


def zone_of(name: str | None, inst: Instrument) -> ZoneInfo:
    return inst.zone if name in (None, "Exchange") else ZoneInfo(name)


def parse_time(text: str | None, zone: ZoneInfo, daily: bool) -> int | None:
    if text is None:
        return None
    for pattern in _DATE_FORMATS:
        try:
            value = datetime.strptime(text, pattern)
        except ValueError:
            continue
        if daily:
            value = datetime(value.year, value.month, value.day)
        return int(value.replace(tzinfo=zone).timestamp() * 1000)
    raise ValueError(f"Invalid **date** provided: {text}. Use YYYY-MM-DD or "
                     "YYYY-MM-DD HH:MM:SS")


def label(inst: Instrument, interval: str, t: int, zone: ZoneInfo) -> str:
    if interval == "1day":  # the session date, whatever the timezone asked
        return datetime.fromtimestamp(t // 1000, inst.zone).strftime("%Y-%m-%d")
    return datetime.fromtimestamp(t // 1000, zone).strftime("%Y-%m-%d %H:%M:%S")


def number(text: str, dp: int) -> str:
    value = Decimal(text)
    if not value.is_finite():
        return text
    if dp < 0:  # dp=-1: as many decimals as the value has
        return format(value.normalize(), "f")
    return format(value.quantize(Decimal(1).scaleb(-dp), ROUND_HALF_UP), "f")


def volume(text: str) -> str:
    value = Decimal(text)
    return str(int(value)) if value.is_finite() else text


def _meta(inst: Instrument, interval: str) -> dict:
    if inst.kind == "stock":
        return {"symbol": inst.symbol, "interval": interval, "currency": "USD",
                "exchange_timezone": "America/New_York", "exchange": "NASDAQ",
                "mic_code": "XNGS", "type": "Common Stock"}
    return {"symbol": inst.symbol, "interval": interval, "currency_base": inst.base_name,
            "currency_quote": inst.quote_name,
            "type": "Precious Metal" if inst.kind == "metal" else "Physical Currency"}


def payload(symbol: str, interval: str, rows: list[list], ask: Ask) -> dict:
    inst = instrument(symbol)
    zone = zone_of(ask.timezone, inst)
    values = []
    for row in reversed(rows) if ask.desc else rows:
        value = {"datetime": label(inst, interval, row[0], zone),
                 **{k: number(v, ask.dp)
                    for k, v in zip(("open", "high", "low", "close"), row[1:5], strict=True)}}
        if inst.kind == "stock":
            value["volume"] = volume(row[5])
        values.append(value)
    return {"meta": _meta(inst, interval), "values": values, "status": "ok"}


def reference(kind: str, inst: Instrument) -> dict | None:
    """The instrument's row in the reference list of `kind`, None if it is not of that kind:
    /forex_pairs (forex), /commodities (metal) or /stocks (stock)."""
    if inst.kind != kind:
        return None
    if kind == "forex":
        base, quote = inst.symbol.split("/")
        return {"symbol": inst.symbol, "currency_group": "Major" if inst.symbol in MAJORS
                else "Minor", "currency_base": base, "currency_quote": quote}
    if kind == "metal":
        return {"symbol": inst.symbol, "name": inst.base_name, "category": "Precious Metal",
                "description": f"{inst.base_name} in {inst.quote_name}"}
    _, figi, cfi, isin, cusip = STOCK_IDS.get(inst.symbol, ("", "", "", "", ""))
    return {"symbol": inst.symbol, "name": inst.base_name, "currency": "USD",
            "exchange": "NASDAQ", "mic_code": "XNGS", "country": "United States",
            "type": "Common Stock", "figi_code": figi, "cfi_code": cfi, "isin": isin,
            "cusip": cusip}
