"""The Twelve Data emulator over real HTTP (urllib): shapes, windows, errors, key, credits,
market hours, scripted trouble and faults. Time is the emulator's clock, set by each test."""

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from titan_dagster.emulator import EMULATORS, Fault
from titan_dagster.emulator.twelvedata import (
    APIKEY,
    COMMODITIES,
    EARLIEST,
    FOREX_PAIRS,
    NO_DATA,
    STOCKS,
    SYMBOL,
    TIME_SERIES,
    TwelveDataEmulator,
)
from titan_dagster.emulator.venue import to_ms

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = to_ms("2026-12-01T12:34:56")  # a Tuesday
LISTINGS = {"EUR/USD": "2018-01-01", "GBP/USD": "2018-01-01", "XAU/USD": "2018-01-01",
            "AAPL": "2018-01-02"}
INTRADAY_FROM = "2023-12-04"
PRICING = "Wait for the next {} or consider switching to a higher tier plan at " \
          "https://twelvedata.com/pricing"


class Clock:
    def __init__(self, t: int = NOW) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


def make(**options) -> TwelveDataEmulator:
    options.setdefault("clock", Clock())
    options.setdefault("error_style", "http")
    return TwelveDataEmulator(LISTINGS, intraday_from=INTRADAY_FROM, **options)


@pytest.fixture
def emu():
    with make() as emulator:
        yield emulator


def fetch(emu, path, key="k", header=False, timeout=5.0, **params):
    """(status, headers, body bytes) of GET path?params, error statuses included."""
    headers = {}
    if key is not None and header:
        headers["Authorization"] = f"apikey {key}"
    elif key is not None:
        params["apikey"] = key
    request = urllib.request.Request(f"{emu.base_url}{path}?{urlencode(params)}",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def get(emu, path, **params):
    """(status, parsed JSON body)."""
    status, _, body = fetch(emu, path, **params)
    return status, json.loads(body)


def series(emu, **params) -> list[dict]:
    status, body = get(emu, TIME_SERIES, **params)
    assert (status, body["status"]) == (200, "ok"), body
    return body["values"]


def times(emu, **params) -> list[str]:
    return [v["datetime"] for v in series(emu, **params)]


def test_forex_metal_and_stock_shapes(emu):
    metas = {
        "EUR/USD": {"symbol": "EUR/USD", "interval": "1h", "currency_base": "Euro",
                    "currency_quote": "US Dollar", "type": "Physical Currency"},
        "XAU/USD": {"symbol": "XAU/USD", "interval": "1h", "currency_base": "Gold Spot",
                    "currency_quote": "US Dollar", "type": "Precious Metal"},
        "AAPL": {"symbol": "AAPL", "interval": "1h", "currency": "USD",
                 "exchange_timezone": "America/New_York", "exchange": "NASDAQ",
                 "mic_code": "XNGS", "type": "Common Stock"},
    }
    levels = {"EUR/USD": (0.9, 1.4, 5), "XAU/USD": (1500, 5000, 2), "AAPL": (100, 400, 2)}
    for symbol, meta in metas.items():
        status, body = get(emu, TIME_SERIES, symbol=symbol, interval="1h", outputsize=200)
        assert status == 200 and body["status"] == "ok" and body["meta"] == meta
        low, high, decimals = levels[symbol]
        keys = {"datetime", "open", "high", "low", "close"}
        for value in body["values"]:
            assert set(value) == (keys | {"volume"} if symbol == "AAPL" else keys)
            prices = [value[k] for k in ("open", "high", "low", "close")]
            for text in prices:
                assert re.fullmatch(rf"\d+(\.\d{{0,{decimals - 1}}}[1-9])?", text), text
            o, h, lo, c = map(Decimal, prices)
            assert lo <= min(o, c) <= max(o, c) <= h and low < c < high
        if symbol == "AAPL":
            assert all(v["volume"].isdigit() for v in body["values"])
            assert int(body["values"][1]["volume"]) > 0
    fixed = series(emu, symbol="EUR/USD", interval="1day", outputsize=5, dp=3)
    assert all(re.fullmatch(r"\d\.\d{3}", v["close"]) for v in fixed)
    assert get(emu, TIME_SERIES, symbol="EUR/USD", interval="1h", format="CSV")[0] == 400


def test_datetimes_print_the_open_time_in_the_asked_timezone(emu):
    assert times(emu, symbol="EUR/USD", interval="1h", outputsize=2) == [
        "2026-12-01 12:00:00", "2026-12-01 11:00:00"]  # forex: UTC; the first one forming
    assert times(emu, symbol="EUR/USD", interval="1h", outputsize=1,
                 timezone="America/New_York") == ["2026-12-01 07:00:00"]
    day = {"start_date": "2026-11-30", "end_date": "2026-12-01", "order": "asc"}
    assert times(emu, symbol="AAPL", interval="1h", **day)[0] == "2026-11-30 09:30:00"
    assert times(emu, symbol="AAPL", interval="1h", timezone="UTC", **day)[0] == \
        "2026-11-30 14:30:00"
    # Dates are read in the timezone asked (NY 09:00 = 14:00 UTC), with a T or a space.
    assert times(emu, symbol="EUR/USD", interval="1h", start_date="2026-11-30T09:00:00",
                 timezone="America/New_York", order="asc")[0] == "2026-11-30 09:00:00"
    assert times(emu, symbol="EUR/USD", interval="1h", start_date="2026-11-30 09:00:00",
                 order="asc")[0] == "2026-11-30 09:00:00"
    # Daily bars carry the session date whatever the timezone.
    for tz in ("UTC", "Asia/Tokyo", "Exchange"):
        assert times(emu, symbol="EUR/USD", interval="1day", outputsize=2, timezone=tz) == [
            "2026-12-01", "2026-11-30"]
        assert times(emu, symbol="AAPL", interval="1day", outputsize=2, timezone=tz) == [
            "2026-11-30", "2026-11-27"]
    assert get(emu, TIME_SERIES, symbol="EUR/USD", interval="1h", timezone="Mars/Base")[0] \
        == 400


def test_window_start_inclusive_end_exclusive_newest_first(emu):
    window = {"symbol": "EUR/USD", "interval": "1h", "start_date": "2026-11-24 00:00:00",
              "end_date": "2026-11-24 05:00:00"}
    hours = [f"2026-11-24 0{h}:00:00" for h in range(5)]
    assert times(emu, order="asc", **window) == hours
    assert times(emu, **window) == hours[::-1]  # desc by default
    assert times(emu, outputsize=2, **window) == hours[:2:-1]  # the newest 2 of the window
    assert times(emu, outputsize=2, order="ASC", **window) == hours[3:]
    only_end = {k: v for k, v in window.items() if k != "start_date"}
    assert times(emu, outputsize=3, **only_end) == hours[:1:-1]
    only_start = {k: v for k, v in window.items() if k != "end_date"}
    assert times(emu, outputsize=3, **only_start) == [
        "2026-12-01 12:00:00", "2026-12-01 11:00:00", "2026-12-01 10:00:00"]
    assert len(times(emu, symbol="EUR/USD", interval="1h")) == 30  # no dates: 30
    minutes = times(emu, symbol="EUR/USD", interval="1min", start_date="2026-11-02")
    assert len(minutes) == 5000 and minutes[0] == "2026-12-01 12:34:00"
    # Daily: the end date is not included, the start date is.
    assert times(emu, symbol="AAPL", interval="1day", end_date="2026-11-25", outputsize=2) \
        == ["2026-11-24", "2026-11-23"]
    assert times(emu, symbol="AAPL", interval="1day", start_date="2026-11-24",
                 end_date="2026-11-25") == ["2026-11-24"]
    for size in (0, 5001, "x"):
        assert get(emu, TIME_SERIES, symbol="EUR/USD", interval="1h", outputsize=size)[0] \
            == 400


@pytest.mark.parametrize(("style", "statuses"), [("http", [400, 400, 400]),
                                                 ("body", [200, 200, 200]),
                                                 ("mixed", [400, 200, 400])])
def test_a_window_without_bars_is_the_no_data_error(style, statuses):
    weekend = {"symbol": "EUR/USD", "interval": "1h", "start_date": "2026-11-28",
               "end_date": "2026-11-29"}
    before_listing = {"symbol": "XAU/USD", "interval": "1day", "end_date": "2017-06-01"}
    with make(error_style=style) as emu:
        answers = [get(emu, TIME_SERIES, **weekend), get(emu, TIME_SERIES, **before_listing),
                   get(emu, TIME_SERIES, **weekend)]
        assert emu.credits_used_today == 0  # errors are not charged
    assert [status for status, _ in answers] == statuses
    assert all(body == {"code": 400, "message": NO_DATA, "status": "error"}
               for _, body in answers)


def test_unknown_symbols_and_intervals(emu):
    not_found = {"code": 404, "message": SYMBOL, "status": "error"}
    assert get(emu, TIME_SERIES, symbol="NOPE", interval="1h") == (404, not_found)
    assert get(emu, TIME_SERIES, interval="1h") == (404, not_found)
    assert get(emu, EARLIEST, symbol="EUR/JPY", interval="1h") == (404, not_found)
    assert get(emu, STOCKS, symbol="NOPE") == (200, {"data": [], "status": "ok"})
    for interval in ("1m", "1week", ""):
        status, body = get(emu, TIME_SERIES, symbol="EUR/USD", interval=interval)
        assert (status, body["code"]) == (400, 400)
        assert body["message"] == (
            f"Invalid **interval** provided: {interval}. Supported intervals: 1min, 5min, "
            "15min, 30min, 45min, 1h, 2h, 4h, 8h, 1day, 1week, 1month")
    # Symbols and parameter names are case-insensitive.
    assert len(times(emu, SYMBOL="eur/usd", Interval="45min", outputsize=3)) == 3


def test_api_key_in_header_or_query():
    refused = (401, {"code": 401, "message": APIKEY, "status": "error"})
    with make(api_key="s3cret") as emu:
        ask = {"symbol": "EUR/USD", "interval": "1day", "outputsize": 1}
        assert get(emu, TIME_SERIES, key="s3cret", header=True, **ask)[0] == 200
        assert get(emu, TIME_SERIES, key="s3cret", **ask)[0] == 200
        assert get(emu, TIME_SERIES, key="wrong", header=True, **ask) == refused
        assert get(emu, TIME_SERIES, key="wrong", **ask) == refused
        assert get(emu, TIME_SERIES, key=None, **ask) == refused
        assert get(emu, FOREX_PAIRS, key=None) == refused
        assert "s3cret" not in repr(emu.requests)
        assert emu.count(symbol="EUR/USD", interval="1day") == 5
    with make() as emu:  # no key configured: any key will do, none will not
        assert get(emu, TIME_SERIES, key="anything", header=True, **ask)[0] == 200
        assert get(emu, TIME_SERIES, key="", **ask) == refused


def test_credits_per_minute_with_headers_and_429s():
    clock = Clock()
    with make(clock=clock, credits_per_minute=3) as emu:
        ask = {"symbol": "EUR/USD", "interval": "1h", "outputsize": 1}
        seen = [fetch(emu, TIME_SERIES, **ask), fetch(emu, EARLIEST, **ask),
                fetch(emu, TIME_SERIES, **ask)]
        assert [(s, h["api-credits-used"], h["api-credits-left"]) for s, h, _ in seen] == [
            (200, "1", "2"), (200, "2", "1"), (200, "3", "0")]
        assert get(emu, TIME_SERIES, symbol="NOPE", interval="1h")[0] == 404  # not charged
        refusals = [fetch(emu, TIME_SERIES, **ask) for _ in range(2)]
        for n, (status, headers, body) in enumerate(refusals, start=4):
            assert (status, headers["api-credits-used"], headers["api-credits-left"]) == (
                429, "3", "0")
            assert json.loads(body) == {"code": 429, "status": "error", "message": (
                "You have run out of API credits for the current minute. "
                f"{n} API credits were used, with the current limit being 3. "
                + PRICING.format("minute"))}
        assert (emu.minute_limit_hits, emu.day_limit_hits) == (2, 0)
        clock.t += MINUTE - clock.t % MINUTE  # the next UTC minute
        status, headers, _ = fetch(emu, TIME_SERIES, **ask)
        assert (status, headers["api-credits-used"], headers["api-credits-left"]) == (
            200, "1", "2")
        assert emu.credits_used_today == 4


def test_credits_per_day_and_batches_cost_per_symbol():
    clock = Clock()
    with make(clock=clock, credits_per_day=4) as emu:
        status, headers, body = fetch(emu, TIME_SERIES, symbol="EUR/USD,AAPL,NOPE",
                                      interval="1day", outputsize=1)
        batch = json.loads(body)
        assert status == 200 and headers["Is_batch"] == "true"
        assert batch["EUR/USD"]["values"][0]["datetime"] == "2026-12-01"
        assert batch["AAPL"]["meta"]["symbol"] == "AAPL"
        assert batch["NOPE"] == {"code": 404, "message": SYMBOL, "status": "error"}
        assert "api-credits-left" not in headers  # no per-minute limit
        assert get(emu, FOREX_PAIRS)[0] == 200
        assert emu.credits_used_today == 4
        for n in (5, 6):
            status, body = get(emu, EARLIEST, symbol="AAPL", interval="1day")
            assert (status, body["message"]) == (429, (
                f"You have run out of API credits for the day. {n} API credits were used, "
                "with the current limit being 4. " + PRICING.format("day")))
            clock.t += MINUTE  # a new minute does not help
        assert emu.day_limit_hits == 2 and emu.credits_used_today == 4
        clock.t += DAY - clock.t % DAY
        assert get(emu, EARLIEST, symbol="AAPL", interval="1day")[0] == 200
        assert emu.credits_used_today == 1


def test_forex_hours_follow_new_york_time(emu):
    def day(symbol, interval, start, end):
        return times(emu, symbol=symbol, interval=interval, start_date=start, end_date=end,
                     order="asc")

    # Summer: Sunday 17:00 NY = 21:00 UTC to Friday 21:00 UTC; winter an hour later.
    assert day("EUR/USD", "1h", "2026-07-05", "2026-07-06")[0] == "2026-07-05 21:00:00"
    assert day("EUR/USD", "1h", "2026-07-03", "2026-07-04")[-1] == "2026-07-03 20:00:00"
    assert day("EUR/USD", "1h", "2026-01-11", "2026-01-12")[0] == "2026-01-11 22:00:00"
    assert day("EUR/USD", "1h", "2026-01-09", "2026-01-10")[-1] == "2026-01-09 21:00:00"
    # A 4h slot overlapping the open has a bar.
    assert day("EUR/USD", "4h", "2026-07-05", "2026-07-06")[0] == "2026-07-05 20:00:00"
    # No trading day ending 17:00 NY on Christmas (a Thursday in 2025).
    assert day("GBP/USD", "1h", "2025-12-24 20:00:00", "2025-12-26 00:00:00") == [
        "2025-12-24 20:00:00", "2025-12-24 21:00:00", "2025-12-25 22:00:00",
        "2025-12-25 23:00:00"]
    assert day("EUR/USD", "1day", "2025-12-22", "2025-12-30") == [
        "2025-12-22", "2025-12-23", "2025-12-24", "2025-12-26", "2025-12-29"]


def test_metals_have_a_daily_break(emu):
    def hours(start, end):
        return [t[11:13] for t in times(emu, symbol="XAU/USD", interval="1h", start_date=start,
                                        end_date=end, order="asc")]

    assert hours("2026-07-08 18:00:00", "2026-07-09") == ["18", "19", "20", "22", "23"]
    assert hours("2026-01-07 19:00:00", "2026-01-08") == ["19", "20", "21", "23"]
    assert hours("2026-07-05", "2026-07-06")[0] == "22"  # Sunday 18:00 NY
    assert hours("2026-07-03", "2026-07-04")[-1] == "20"  # Friday 17:00 NY


def test_stock_bars_follow_nyse_sessions(emu):
    def utc(interval, start, end):
        return times(emu, symbol="AAPL", interval=interval, start_date=start, end_date=end,
                     timezone="UTC", order="asc")

    assert [t[11:16] for t in utc("1h", "2026-07-07", "2026-07-08")] == [
        "13:30", "14:30", "15:30", "16:30", "17:30", "18:30", "19:30"]
    assert [t[11:16] for t in utc("1h", "2026-01-06", "2026-01-07")] == [
        "14:30", "15:30", "16:30", "17:30", "18:30", "19:30", "20:30"]
    assert get(emu, TIME_SERIES, symbol="AAPL", interval="1h", start_date="2026-11-26",
               end_date="2026-11-27")[1]["message"] == NO_DATA  # Thanksgiving
    assert [t[11:16] for t in utc("1h", "2026-11-27", "2026-11-28")] == [
        "14:30", "15:30", "16:30", "17:30"]  # 13:00 NY early close
    assert utc("1min", "2026-11-27 17:50:00", "2026-11-27 19:00:00")[-1] == \
        "2026-11-27 17:59:00"
    assert times(emu, symbol="AAPL", interval="1day", start_date="2026-11-24",
                 end_date="2026-12-01", order="asc") == [
        "2026-11-24", "2026-11-25", "2026-11-27", "2026-11-30"]
    # The session's last hour bar is half an hour long: it closes with the 15:59 minute.
    last_hour = emu.candles("AAPL", "1h", "2026-07-07T19:30", "2026-07-07T19:31")[0]
    last_minute = emu.candles("AAPL", "1min", "2026-07-07T19:59", "2026-07-07T20:00")[0]
    assert last_hour[4] == last_minute[4]


def test_strays_holes_and_corrections_are_served(emu):
    saturday = to_ms("2026-11-21")
    emu.add_stray("EUR/USD", "1day", saturday)
    emu.add_stray("EUR/USD", "1h", saturday + 10 * HOUR)
    days = series(emu, symbol="EUR/USD", interval="1day", start_date="2026-11-20",
                  end_date="2026-11-24", order="asc")
    assert [v["datetime"] for v in days] == ["2026-11-20", "2026-11-21", "2026-11-23"]
    assert days[1]["open"] == days[0]["close"]  # opens at Friday's close
    assert times(emu, symbol="EUR/USD", interval="1h", start_date="2026-11-21",
                 end_date="2026-11-22") == ["2026-11-21 10:00:00"]
    with pytest.raises(ValueError):
        emu.add_stray("EUR/USD", "1h", saturday + MINUTE)

    emu.add_hole("EUR/USD", "2026-11-24T02:00", "2026-11-24T04:00")
    emu.add_hole("EUR/USD", "2026-11-25T02:00", "2026-11-25T03:00", transient_requests=1)
    at_five = to_ms("2026-11-24T05:00")
    emu.set_candle("EUR/USD", "1h", at_five, close="1.23450", high="1.3")
    emu.add_invalid("EUR/USD", "1h", at_five - 4 * HOUR, "high_below_low")
    window = {"symbol": "EUR/USD", "interval": "1h", "order": "asc"}
    served = series(emu, start_date="2026-11-24", end_date="2026-11-24 06:00:00", **window)
    assert [v["datetime"][11:13] for v in served] == ["00", "01", "04", "05"]
    assert (served[-1]["close"], served[-1]["high"]) == ("1.2345", "1.3")
    assert Decimal(served[1]["high"]) < Decimal(served[1]["low"])
    lagging = {"start_date": "2026-11-25 01:00:00", "end_date": "2026-11-25 04:00:00"}
    assert [t[11:13] for t in times(emu, **lagging, **window)] == ["01", "03"]
    assert [t[11:13] for t in times(emu, **lagging, **window)] == ["01", "02", "03"]


def test_earliest_timestamp_differs_by_interval(emu):
    def earliest(symbol, interval, **params):
        return get(emu, EARLIEST, symbol=symbol, interval=interval, **params)[1]

    # 2018-01-01 is a holiday; intraday history starts 2023-12-04 (a Monday).
    assert earliest("EUR/USD", "1day") == {"datetime": "2018-01-02",
                                           "unix_time": to_ms("2018-01-02") // 1000}
    assert earliest("EUR/USD", "1h") == {"datetime": "2023-12-04 00:00:00",
                                         "unix_time": to_ms("2023-12-04") // 1000}
    assert earliest("AAPL", "1day") == {"datetime": "2018-01-02",
                                        "unix_time": to_ms("2018-01-02T14:30") // 1000}
    assert earliest("AAPL", "1min") == {"datetime": "2023-12-04 09:30:00",
                                        "unix_time": to_ms("2023-12-04T14:30") // 1000}
    assert earliest("AAPL", "1min", timezone="UTC")["datetime"] == "2023-12-04 14:30:00"
    assert emu.credits_used_today == 5


FAULTS = {  # fault: (HTTP status, what the body is)
    "status429": (429, "minute"), "status200": (200, "minute"), "status500": (500, 500),
    "html502": (502, "html"), "html520": (520, "html"), "truncated": (200, "truncated"),
    "drop": (None, "drop"), "delay": (None, "timeout"),
}


def _fault_id(fault: Fault) -> str:
    return f"{fault.kind}{fault.status or ''}"


@pytest.mark.parametrize("fault", TwelveDataEmulator(LISTINGS).all_faults(), ids=_fault_id)
def test_each_fault_gives_what_it_should(emu, fault):
    status, shape = FAULTS[_fault_id(fault)]
    emu.inject(fault)
    ask = {"symbol": "EUR/USD", "interval": "1h", "outputsize": 2}
    if status is None:
        with pytest.raises((urllib.error.URLError, ConnectionError, TimeoutError)):
            fetch(emu, TIME_SERIES, timeout=0.3, **ask)
    else:
        got, headers, body = fetch(emu, TIME_SERIES, **ask)
        assert got == status
        if shape == "minute":
            answer = json.loads(body)
            assert answer["code"] == 429 and answer["status"] == "error"
            assert answer["message"].startswith("You have run out of API credits for the "
                                                "current minute")
        elif shape == "html":
            assert headers["Content-Type"].startswith("text/html") and b"cloudflare" in body
        elif shape == "truncated":
            with pytest.raises(json.JSONDecodeError):
                json.loads(body)
        else:
            assert json.loads(body)["code"] == shape
    assert emu.requests[-1].fault == fault.kind and emu.faults_injected == 1
    assert len(series(emu, **ask)) == 2  # the next request is served
    emu.inject_at_rate(1.0, seed=1)  # the Twelve Data mix by default
    fetch(emu, FOREX_PAIRS)
    assert emu.faults_injected == 1  # only the candle path by default


def test_helper_matches_what_is_served_and_the_forming_bar_moves():
    clock = Clock()
    with make(clock=clock) as emu:
        start, end = "2026-12-01", "2026-12-01T13:00"
        closed = emu.candles("EUR/USD", "1h", start, end)
        served = series(emu, symbol="EUR/USD", interval="1h", start_date=start,
                        end_date="2026-12-01 13:00:00", order="asc")
        assert len(closed) == 12 and len(served) == 13  # the 12:00 bar is still forming
        assert closed == [[to_ms(v["datetime"]), v["open"], v["high"], v["low"], v["close"],
                           None] for v in served[:-1]]
        stock = emu.candles("AAPL", "1day", "2026-11-30", "2026-12-01")
        assert len(stock) == 1 and stock[0][5].isdigit()

        forming = served[-1]
        clock.t += 10 * MINUTE
        later = series(emu, symbol="EUR/USD", interval="1h", outputsize=1)[0]
        assert later["datetime"] == forming["datetime"] and later["open"] == forming["open"]
        assert later["close"] != forming["close"]
        clock.t = to_ms("2026-12-01T13:00")
        newest, done = series(emu, symbol="EUR/USD", interval="1h", outputsize=2)
        assert newest["datetime"] == "2026-12-01 13:00:00"
        final = emu.candles("EUR/USD", "1h", "2026-12-01T12:00", end)[0]
        assert [done["close"], done["high"]] == [final[4], final[2]]


def test_reference_lists(emu):
    assert get(emu, FOREX_PAIRS)[1]["data"] == [
        {"symbol": "EUR/USD", "currency_group": "Major", "currency_base": "EUR",
         "currency_quote": "USD"},
        {"symbol": "GBP/USD", "currency_group": "Major", "currency_base": "GBP",
         "currency_quote": "USD"}]
    assert get(emu, FOREX_PAIRS, symbol="GBP/USD")[1]["data"][0]["symbol"] == "GBP/USD"
    assert get(emu, COMMODITIES)[1]["data"] == [
        {"symbol": "XAU/USD", "name": "Gold Spot", "category": "Precious Metal",
         "description": "Gold Spot in US Dollar"}]
    aapl = get(emu, STOCKS, symbol="aapl")[1]["data"]
    assert [(s["symbol"], s["name"], s["mic_code"], s["isin"]) for s in aapl] == [
        ("AAPL", "Apple Inc.", "XNGS", "US0378331005")]


def test_module_serves_the_default_listings():
    assert EMULATORS["twelvedata"] is TwelveDataEmulator
    command = [sys.executable, "-m", "titan_dagster.emulator", "--exchange", "twelvedata",
               "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split()[3]
        query = urlencode({"symbol": "XAU/USD", "interval": "1h", "apikey": "demo"})
        with urllib.request.urlopen(f"{url}{EARLIEST}?{query}", timeout=5) as response:
            first = json.loads(response.read())
        with urllib.request.urlopen(f"{url}{STOCKS}?apikey=demo", timeout=5) as response:
            assert [s["symbol"] for s in json.loads(response.read())["data"]] == ["AAPL"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    years_back = (time.time() - first["unix_time"]) / (365 * 86400)
    assert 2.9 < years_back < 3.2
