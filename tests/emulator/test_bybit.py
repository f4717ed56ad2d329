"""The Bybit emulator, driven by the real ccxt bybit client over HTTP."""

import json
import urllib.error
import urllib.request

import ccxt.async_support as ccxt
import pytest

from tests.emulator import ccxt_clients
from tests.emulator.ccxt_clients import fetch, ohlcv, raises, raw, with_client
from titan_dagster.emulator.bybit import INSTRUMENTS, KLINE, BybitEmulator
from titan_dagster.emulator.venue import Fault

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_709_296_496_789  # 2024-03-01T12:34:56.789Z
DAY0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
SOL_LISTED = 1_626_070_380_000  # 2021-07-12T06:13:00Z


def kline(emu, **params) -> list[list]:
    query = {"category": "spot", "symbol": "BTCUSDT", "interval": "60", **params}
    status, body = raw(emu, KLINE, **query)
    assert status == 200
    assert (body["retCode"], body["retMsg"], body["time"]) == (0, "OK", NOW)
    assert (body["result"]["symbol"], body["result"]["category"]) == ("BTCUSDT", "spot")
    return body["result"]["list"]


def times(rows) -> list[int]:
    return [int(row[0]) for row in rows]


@pytest.fixture
def emu():
    listings = {"BTC/USDT": "2021-07-05", "ETH/USDT": "2021-07-05", "SOL/USDT": SOL_LISTED}
    with BybitEmulator(listings, clock=lambda: NOW) as emulator:
        yield emulator


def test_load_markets_is_one_request_with_active_flags(emu):
    emu.add_symbol("LUNA/USDT", "2021-10-01", delisted_at="2022-05-13")
    emu.add_symbol("FTT/USDT", "2021-10-01", delisted_at=NOW + DAY)  # delisting announced

    markets = with_client(emu, lambda ex: ex.load_markets())

    assert {s: m["active"] for s, m in markets.items()} == {
        "BTC/USDT": True, "ETH/USDT": True, "SOL/USDT": True, "LUNA/USDT": False,
        "FTT/USDT": True,
    }
    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["base"], btc["quote"], btc["type"]) == ("BTCUSDT", "BTC", "USDT",
                                                                    "spot")
    assert btc["spot"] and not btc["margin"] and btc["created"] is None
    assert btc["precision"] == {"amount": "0.00001", "price": "0.01"}
    assert [(r.path, r.params) for r in emu.requests] == [(INSTRUMENTS, {"category": "spot"})]
    assert markets["LUNA/USDT"]["info"]["status"] == "Closed"


def test_start_pages_forward_and_rows_come_newest_first(emu):
    rows = fetch(emu, "BTC/USDT", "1h", since=DAY0 + 1, limit=24)  # ccxt aligns start up

    truth = emu.candles("BTC/USDT", "1h", DAY0 + HOUR, DAY0 + 25 * HOUR)
    assert rows == ohlcv(truth)
    assert emu.requests[-1].params == {"symbol": "BTCUSDT", "start": str(DAY0 + HOUR),
                                       "limit": "24", "interval": "60", "category": "spot"}
    listed = kline(emu, start=DAY0 + HOUR, limit=24)
    assert times(listed) == [r[0] for r in reversed(truth)]
    assert listed[0] == [str(truth[-1][0]), *truth[-1][1:6], truth[-1][7]]
    # Bybit itself starts at the candle containing start.
    assert times(kline(emu, start=DAY0 + 30 * MINUTE, limit=2)) == [DAY0 + HOUR, DAY0]


@pytest.mark.parametrize(
    ("timeframe", "first_open"),
    [("1m", SOL_LISTED), ("1h", SOL_LISTED - 13 * MINUTE),
     ("1d", SOL_LISTED - 6 * HOUR - 13 * MINUTE)],
)
def test_start_before_listing_gives_the_first_candles(emu, timeframe, first_open):
    rows = fetch(emu, "SOL/USDT", timeframe, since=0, limit=5)

    assert rows[0][0] == first_open
    assert rows == ohlcv(emu.candles("SOL/USDT", timeframe, 0, first_open + 5 * DAY))[:5]


def test_end_or_nothing_gives_the_newest_candles(emu):
    open_now = NOW - NOW % HOUR
    assert times(kline(emu, end=DAY0, limit=3)) == [DAY0, DAY0 - HOUR, DAY0 - 2 * HOUR]
    assert times(kline(emu, end=DAY0 + 1, limit=1)) == [DAY0]  # the candle containing end
    assert len(kline(emu)) == 200
    assert times(kline(emu, limit=2)) == [open_now, open_now - HOUR]

    rows = fetch(emu, "BTC/USDT", "1h")
    assert len(rows) == 200 and rows[-1][0] == open_now
    assert emu.requests[-1].params == {"symbol": "BTCUSDT", "limit": "200", "interval": "60",
                                       "category": "spot"}


def test_start_and_end_give_the_newest_of_the_range(emu):
    rows = kline(emu, start=DAY0, end=DAY0 + DAY, limit=5)
    assert times(rows) == [DAY0 + DAY - i * HOUR for i in range(5)]

    until = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=5, params={"until": DAY0 + 4 * HOUR})
    assert until == ohlcv(emu.candles("BTC/USDT", "1h", DAY0, DAY0 + 5 * HOUR))
    assert emu.requests[-1].params["end"] == str(DAY0 + 4 * HOUR)


def test_limit_above_1000_is_clamped(emu):
    assert len(kline(emu, interval="1", start=DAY0, limit=1500)) == 1000


def test_paging_forward_with_limit_1000_matches_the_truth(emu):
    since = NOW - 2_500 * MINUTE

    async def page_through(ex):
        out, cursor = [], since
        while True:
            page = await ex.fetch_ohlcv("BTC/USDT", "1m", cursor, 1000)
            out += page
            if len(page) < 1000:
                return out
            cursor = page[-1][0] + MINUTE

    rows = with_client(emu, page_through)

    assert rows == ohlcv(emu.candles("BTC/USDT", "1m", since, NOW + MINUTE))
    assert rows[-1][0] == NOW - NOW % MINUTE
    assert emu.count(symbol="BTC/USDT", interval="1m") == 3


def test_holes_are_missing_candles(emu):
    emu.add_hole("BTC/USDT", DAY0 + 5 * HOUR, DAY0 + 8 * HOUR)
    emu.add_hole("BTCUSDT", DAY0 + 30 * HOUR, DAY0 + 31 * HOUR, transient_requests=1)

    first = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)
    second = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)

    # Forward paging: the page is still 24 candles long, reaching past the holes.
    hours = [h for h in range(32) if not 5 <= h < 8 and h != 30]
    assert [(t - DAY0) // HOUR for t, *_ in first] == hours[:24]
    assert [(t - DAY0) // HOUR for t, *_ in second] == hours[:24]
    third = fetch(emu, "BTC/USDT", "1h", since=DAY0 + 28 * HOUR, limit=4)
    assert [(t - DAY0) // HOUR for t, *_ in third] == [28, 29, 31, 32]
    fourth = fetch(emu, "BTC/USDT", "1h", since=DAY0 + 28 * HOUR, limit=4)
    assert fourth == ohlcv(emu.candles("BTC/USDT", "1h", DAY0 + 28 * HOUR, DAY0 + 32 * HOUR))


INVALID = {
    kind: ccxt_clients.LOOKS_INVALID[kind]
    for kind in ("high_below_open", "negative_price", "inf")
}


def test_invalid_rows_are_served(emu):
    hours = {kind: DAY0 + i * HOUR for i, kind in enumerate(INVALID, start=1)}
    for kind, t in hours.items():
        emu.add_invalid("BTC/USDT", "1h", t, kind)
    emu.add_invalid("BTC/USDT", "1h", DAY0 + 5 * HOUR, "misaligned")

    rows = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)
    listed = kline(emu, start=DAY0, limit=24)

    by_time = {row[0]: row for row in rows}
    for kind, t in hours.items():
        assert INVALID[kind](*by_time[t][1:6]), kind
    assert DAY0 + 5 * HOUR + 1 in by_time
    assert len(listed) == 25 and times(listed) == sorted(times(listed), reverse=True)


@pytest.mark.parametrize(
    ("params", "expected", "msg"),
    [
        ({"category": "spot", "symbol": "NOPEUSDT", "interval": "60"}, ccxt.BadSymbol,
         "Not supported symbols"),
        ({"symbol": "BTCUSDT", "interval": "60"}, ccxt.BadRequest, "Illegal category"),
        ({"category": "linear", "symbol": "BTCUSDT", "interval": "60"}, ccxt.BadRequest,
         "Illegal category"),
        ({"category": "spot", "symbol": "BTCUSDT", "interval": "W"}, ccxt.BadRequest,
         "Invalid period!"),
        ({"category": "spot", "symbol": "BTCUSDT", "interval": "60", "start": "x"},
         ccxt.BadRequest, "params error"),
    ],
)
def test_bad_kline_requests_get_bybit_errors(emu, params, expected, msg):
    error, client = raises(emu, lambda ex: ex.publicGetV5MarketKline(params))

    assert type(error) is expected
    body = json.loads(client.last_http_response)
    assert (body["retCode"], body["retMsg"], body["result"]) == (10001, msg, {})
    assert emu.requests[-1].status == 200


@pytest.mark.parametrize(
    ("fault", "expected", "status"),
    [
        # Bybit's own failure: ccxt's plain ExchangeError, outside its retryable family.
        (Fault("status", 200, code=10016), ccxt.ExchangeError, 200),
        (Fault("status", 200, code=10006), ccxt.RateLimitExceeded, 200),
        (Fault("status", 403, retry_after=4), ccxt.RateLimitExceeded, 403),
        (Fault("status", 429), ccxt.RateLimitExceeded, 429),
        (Fault("status", 503), ccxt.ExchangeNotAvailable, 503),
        (Fault("status", 504), ccxt.RequestTimeout, 504),
        (Fault("html", 502), ccxt.ExchangeNotAvailable, 502),
    ],
)
def test_faults_raise_the_matching_ccxt_error(emu, fault, expected, status):
    emu.inject(fault)

    error, client = raises(emu, lambda ex: ex.fetch_ohlcv("BTC/USDT", "1h", DAY0, 24))

    assert type(error) is expected
    assert (emu.requests[-1].status, emu.requests[-1].fault) == (status, fault.kind)
    if fault.code is not None:
        assert json.loads(client.last_http_response)["retCode"] == fault.code
    if fault.retry_after is not None:
        assert client.last_response_headers["Retry-After"] == "4"
    assert len(fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)) == 24


def test_all_faults_are_bybits_mix(emu):
    faults = emu.all_faults()
    assert {Fault("status", 200, code=10016), Fault("status", 200, code=10006),
            Fault("status", 403), Fault("html", 502), Fault("outside_rows")} <= set(faults)
    assert not {418, 429, 500} & {f.status for f in faults}


def test_garbled_200_answers_come_back_as_no_candles(emu):
    for kind in ("truncated", "html200", "empty200"):
        emu.inject(Fault(kind))
        assert fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24) == []
    assert json.loads(emu.empty_reply().body)["result"] == {"category": "spot", "list": []}


def test_max_requests_per_second_answers_403():
    with BybitEmulator({"BTC/USDT": "2021-07-05"}, clock=lambda: NOW,
                       max_requests_per_second=3) as emu:

        answers = ccxt_clients.fetch_times(
            emu, 5, ccxt.RateLimitExceeded, lambda ex: ex.last_http_response)
        assert answers == [NOW, NOW, NOW, "access too frequent", "access too frequent"]
        assert [(r.status, r.fault) for r in emu.requests][2:] == [
            (200, None), (403, "rate_limit"), (403, "rate_limit")]


def test_request_counting(emu):
    fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=2)
    fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=2)
    fetch(emu, "ETH/USDT", "1d", since=DAY0, limit=2)

    assert emu.count(symbol="BTC/USDT") == emu.count(symbol="BTCUSDT") == 2
    assert emu.count(interval="1d") == emu.count(symbol="ETH/USDT", interval="1d") == 1
    assert emu.count() == 3 and emu.count(path=INSTRUMENTS) == 3
    record = emu.requests[-1]
    assert (record.time_ms, record.path, record.params["interval"], record.interval) == (
        NOW, KLINE, "D", "1d")


def test_time_and_unknown_paths(emu):
    assert with_client(emu, lambda ex: ex.fetch_time()) == NOW
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{emu.base_url}/v5/market/orderbook?category=spot")
    assert info.value.code == 404 and json.loads(info.value.read())["retCode"] == 10017
