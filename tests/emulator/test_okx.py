"""The OKX emulator, driven by the real ccxt okx client over HTTP."""

import json
import time

import ccxt.async_support as ccxt
import pytest

from tests.emulator import ccxt_clients
from tests.emulator.ccxt_clients import fetch, ohlcv, raises, raw, with_client
from titan_dagster.emulator.okx import CANDLES, HISTORY_CANDLES, INSTRUMENTS, OkxEmulator
from titan_dagster.emulator.venue import Fault

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_709_296_496_789  # 2024-03-01T12:34:56.789Z
DAY0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z: far enough back that ccxt asks history
SOL_LISTED = 1_597_126_380_000  # 2020-08-11T06:13:00Z
# ccxt picks candles vs history-candles by its own wall clock: tests of that choice run
# the emulator at (fixed) wall time.
WALL = time.time_ns() // 1_000_000


@pytest.fixture
def emu():
    listings = {"BTC/USDT": "2018-01-11", "ETH/USDT": "2018-01-11", "SOL/USDT": SOL_LISTED}
    with OkxEmulator(listings, clock=lambda: NOW) as emulator:
        yield emulator


def test_load_markets_is_one_request_with_listing_times_and_states(emu):
    emu.add_symbol("LUNA/USDT", "2019-07-26", delisted_at="2022-05-13")
    emu.add_symbol("FTT/USDT", "2019-07-30", delisted_at=NOW + DAY)  # delisting announced

    markets = with_client(emu, lambda ex: ex.load_markets())

    assert {s: m["active"] for s, m in markets.items()} == {
        "BTC/USDT": True, "ETH/USDT": True, "SOL/USDT": True, "LUNA/USDT": False,
        "FTT/USDT": True,
    }
    sol = markets["SOL/USDT"]
    assert (sol["id"], sol["base"], sol["quote"], sol["type"]) == ("SOL-USDT", "SOL", "USDT",
                                                                    "spot")
    assert sol["spot"] and not sol["contract"]
    assert sol["created"] == SOL_LISTED
    assert sol["precision"]["amount"] == "0.00001"
    assert [(r.path, r.params) for r in emu.requests] == [(INSTRUMENTS, {"instType": "SPOT"})]
    _, body = raw(emu, INSTRUMENTS, instType="SPOT")
    assert {i["instId"]: i["state"] for i in body["data"]}["LUNA-USDT"] == "suspend"
    assert raw(emu, INSTRUMENTS, instType="SWAP") == (200, {"code": "0", "msg": "", "data": []})
    assert raw(emu, INSTRUMENTS)[1]["code"] == "50014"


def test_history_window_is_served_newest_first(emu):
    rows = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)

    truth = emu.candles("BTC/USDT", "1h", DAY0, DAY0 + DAY)
    assert rows == ohlcv(truth)
    request = emu.requests[-1]
    assert request.path == HISTORY_CANDLES
    assert request.params == {"instId": "BTC-USDT", "bar": "1H", "limit": "24",
                              "before": str(DAY0 - 1), "after": str(DAY0 + DAY)}
    status, body = raw(emu, HISTORY_CANDLES, **request.params)
    assert status == 200 and (body["code"], body["msg"]) == ("0", "")
    assert [int(row[0]) for row in body["data"]] == [r[0] for r in reversed(truth)]
    newest, last = body["data"][0], truth[-1]
    assert newest == [str(last[0]), *last[1:6], last[7], last[7], "1"]


def test_a_window_is_not_a_start_time(emu):
    # Binance would answer with the first candles after the listing; OKX with nothing.
    assert fetch(emu, "SOL/USDT", "1h", since=SOL_LISTED - 400 * HOUR, limit=100) == []

    rows = fetch(emu, "SOL/USDT", "1h", since=SOL_LISTED - 50 * HOUR, limit=100)

    first = SOL_LISTED - 13 * MINUTE
    assert rows[0][0] == first and len(rows) == 51
    assert rows == ohlcv(emu.candles("SOL/USDT", "1h", first, first + 51 * HOUR))


@pytest.mark.parametrize("cap", [100, 300])
def test_history_cap_keeps_the_newest_rows_of_a_300_window(cap):
    with OkxEmulator({"BTC/USDT": "2018-01-11"}, clock=lambda: NOW, history_cap=cap) as emu:
        truth = ohlcv(emu.candles("BTC/USDT", "1h", DAY0, DAY0 + 300 * HOUR))
        asked = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=300)
        # Without a limit ccxt asks for 300 rows of a 100-candle window.
        default = fetch(emu, "BTC/USDT", "1h", since=DAY0)
        sent = [r.params for r in emu.requests if r.path == HISTORY_CANDLES]

    assert asked == truth[300 - cap:]
    assert default == truth[:100]
    assert [(p["limit"], int(p["after"]) - DAY0) for p in sent] == [("300", 300 * HOUR),
                                                                    ("300", 100 * HOUR)]


def test_limit_defaults_to_100_and_is_clamped_silently(emu):
    assert len(raw(emu, HISTORY_CANDLES, instId="BTC-USDT", bar="1m")[1]["data"]) == 100
    _, body = raw(emu, HISTORY_CANDLES, instId="BTC-USDT", bar="1m", limit=1000)
    assert len(body["data"]) == 300
    assert raw(emu, HISTORY_CANDLES, instId="BTC-USDT", limit=0)[1]["code"] == "51000"


def test_before_alone_gives_the_latest_and_after_pages_backwards(emu):
    open_now = NOW - NOW % HOUR
    _, latest = raw(emu, HISTORY_CANDLES, instId="BTC-USDT", bar="1H", before=DAY0)
    _, older = raw(emu, HISTORY_CANDLES, instId="BTC-USDT", bar="1H", after=DAY0, limit=5)

    latest_times = [int(row[0]) for row in latest["data"]]
    assert latest_times == [open_now - i * HOUR for i in range(100)]
    assert [row[8] for row in latest["data"][:2]] == ["0", "1"]  # the open candle: confirm 0
    assert [int(row[0]) for row in older["data"]] == [DAY0 - i * HOUR for i in range(1, 6)]


def test_recent_endpoint_serves_the_last_1440_candles():
    with OkxEmulator({"BTC/USDT": "2018-01-11"}, clock=lambda: WALL) as emu:
        open_now = WALL - WALL % HOUR
        rows = fetch(emu, "BTC/USDT", "1h", since=open_now - 49 * HOUR, limit=100)
        newest = fetch(emu, "BTC/USDT", "1m")
        far = {"instId": "BTC-USDT", "bar": "1m", "after": WALL - 1500 * MINUTE}
        recent, history = raw(emu, CANDLES, **far)[1], raw(emu, HISTORY_CANDLES, **far)[1]
        paths = [r.path for r in emu.requests if r.symbol]

    assert paths == [CANDLES, CANDLES, CANDLES, HISTORY_CANDLES]
    assert [t for t, *_ in rows] == [open_now - i * HOUR for i in range(49, -1, -1)]
    assert len(newest) == 100 and newest[-1][0] == WALL - WALL % MINUTE
    assert recent["data"] == [] and len(history["data"]) == 100


def test_long_bars_are_utc_aligned(emu):
    daily = fetch(emu, "BTC/USDT", "1d", since=1_609_459_200_000, limit=3)  # 2021-01-01
    six = fetch(emu, "ETH/USDT", "6h", since=DAY0, limit=4)

    assert [t for t, *_ in daily] == [1_609_459_200_000 + i * DAY for i in range(3)]
    assert [t % DAY for t, *_ in six] == [0, 6 * HOUR, 12 * HOUR, 18 * HOUR]
    assert [r.params["bar"] for r in emu.requests if r.symbol] == ["1Dutc", "6Hutc"]
    assert emu.count(interval="1d") == emu.count(interval="6h") == 1
    # Hong Kong-time bars are not emulated.
    assert raw(emu, HISTORY_CANDLES, instId="BTC-USDT", bar="1D")[1]["code"] == "51000"


def test_holes_are_missing_candles(emu):
    emu.add_hole("BTC/USDT", DAY0 + 5 * HOUR, DAY0 + 8 * HOUR)
    emu.add_hole("BTC-USDT", DAY0 + 20 * HOUR, DAY0 + 21 * HOUR, transient_requests=1)

    first = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)
    second = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)

    hours = [(t - DAY0) // HOUR for t, *_ in first]
    assert hours == [h for h in range(24) if not 5 <= h < 8 and h != 20]
    assert [(t - DAY0) // HOUR for t, *_ in second] == [h for h in range(24) if not 5 <= h < 8]
    assert second == ohlcv(emu.candles("BTC/USDT", "1h", DAY0, DAY0 + DAY))


INVALID = {
    kind: ccxt_clients.LOOKS_INVALID[kind]
    for kind in ("high_below_low", "zero_price", "negative_volume", "nan")
}


def test_invalid_rows_are_served(emu):
    hours = {kind: DAY0 + i * HOUR for i, kind in enumerate(INVALID, start=1)}
    for kind, t in hours.items():
        emu.add_invalid("BTC/USDT", "1h", t, kind)
    emu.add_invalid("BTC/USDT", "1h", DAY0 + 10 * HOUR, "duplicate")

    rows = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)
    _, body = raw(emu, HISTORY_CANDLES, **emu.requests[-1].params)

    by_time = {row[0]: row for row in rows}
    for kind, t in hours.items():
        assert INVALID[kind](*by_time[t][1:6]), kind
    times = [int(row[0]) for row in body["data"]]
    assert len(times) == 25 and times.count(DAY0 + 10 * HOUR) == 2
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("params", "expected", "status", "code"),
    [
        ({"instId": "NOPE-USDT", "bar": "1H"}, ccxt.BadSymbol, 200, "51001"),
        ({"instId": "BTC-USDT", "bar": "7m"}, ccxt.BadRequest, 400, "51000"),
        ({"instId": "BTC-USDT", "after": "soon"}, ccxt.BadRequest, 400, "51000"),
        ({"bar": "1H"}, ccxt.BadRequest, 400, "50014"),
    ],
)
def test_bad_candle_requests_get_okx_errors(emu, params, expected, status, code):
    error, client = raises(emu, lambda ex: ex.publicGetMarketHistoryCandles(params))

    assert type(error) is expected
    body = json.loads(client.last_http_response)
    assert (body["code"], body["data"]) == (code, [])
    assert emu.requests[-1].status == status


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault("status", 503, code="50001"), ccxt.OnMaintenance),
        (Fault("status", 400, code="50004"), ccxt.RequestTimeout),
        (Fault("status", 429, code="50013"), ccxt.ExchangeNotAvailable),
        (Fault("status", 500, code="50026"), ccxt.ExchangeNotAvailable),
        (Fault("status", 200, code="50026"), ccxt.ExchangeNotAvailable),
        (Fault("status", 429, retry_after=3), ccxt.RateLimitExceeded),
        (Fault("status", 503), ccxt.OnMaintenance),
        (Fault("status", 500), ccxt.ExchangeNotAvailable),
        # The gateway's JSON has a numeric code ccxt does not know: no NetworkError.
        (Fault("status", 502), ccxt.ExchangeError),
        (Fault("html", 502), ccxt.ExchangeNotAvailable),
    ],
)
def test_faults_raise_the_matching_ccxt_error(emu, fault, expected):
    emu.inject(fault)

    error, client = raises(emu, lambda ex: ex.fetch_ohlcv("BTC/USDT", "1h", DAY0, 24))

    assert type(error) is expected
    assert (emu.requests[-1].status, emu.requests[-1].fault) == (fault.status, fault.kind)
    if fault.code is not None:
        assert json.loads(client.last_http_response)["code"] == fault.code
    if fault.retry_after is not None:
        assert client.last_response_headers["Retry-After"] == "3"
    assert len(fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)) == 24


def test_every_okx_status_fault_is_in_ccxts_retryable_family(emu):
    statuses = [f for f in emu.all_faults() if f.kind == "status"]
    assert {f.code for f in statuses} >= {"50001", "50004", "50013", "50026"}
    assert all(f.status != 418 for f in emu.all_faults())
    for fault in statuses:
        emu.inject(fault)
        error, _ = raises(emu, lambda ex: ex.fetch_ohlcv("BTC/USDT", "1h", DAY0, 24))
        assert isinstance(error, ccxt.NetworkError), fault


def test_row_faults_and_garbled_answers(emu):
    truth = ohlcv(emu.candles("BTC/USDT", "1h", DAY0, DAY0 + DAY))
    emu.inject(Fault("disordered_rows"))
    params = {"instId": "BTC-USDT", "bar": "1H", "before": DAY0 - 1, "after": DAY0 + DAY}
    _, body = raw(emu, HISTORY_CANDLES, **params)
    assert [int(row[0]) for row in body["data"]] == [t for t, *_ in truth]  # ascending
    emu.inject(Fault("outside_rows"))
    # ccxt drops the rows before since: the page comes back short, without an error.
    assert fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24) == truth[:22]
    for kind in ("truncated", "html200", "empty200"):
        emu.inject(Fault(kind))
        assert fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24) == []
    assert emu.empty_reply().body == b'{"code":"0","msg":"","data":[]}'


def test_max_requests_per_second_answers_429_with_50011():
    with OkxEmulator({"BTC/USDT": "2018-01-11"}, clock=lambda: NOW,
                     max_requests_per_second=3) as emu:

        limited = {"msg": "Too Many Requests", "code": "50011"}
        answers = ccxt_clients.fetch_times(
            emu, 5, ccxt.RateLimitExceeded, lambda ex: json.loads(ex.last_http_response))
        assert answers == [NOW, NOW, NOW, limited, limited]
        assert [(r.status, r.fault) for r in emu.requests][2:] == [
            (200, None), (429, "rate_limit"), (429, "rate_limit")]


def test_request_counting(emu):
    fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=2)
    fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=2)
    fetch(emu, "ETH/USDT", "1m", since=DAY0, limit=2)
    raw(emu, CANDLES, instId="ETH-USDT", bar="1m")

    assert emu.count(symbol="BTC/USDT") == emu.count(symbol="BTC-USDT") == 2
    assert emu.count(symbol="ETH/USDT", interval="1m") == 1  # history-candles by default
    assert emu.count(path=CANDLES) == 1
    assert emu.count(path=None, symbol="ETH/USDT") == 2
    assert emu.count(path=INSTRUMENTS) == 3
    record = emu.requests[-2]
    assert (record.time_ms, record.symbol, record.interval, record.status) == (
        NOW, "ETH/USDT", "1m", 200)


def test_time_and_unknown_paths(emu):
    assert with_client(emu, lambda ex: ex.fetch_time()) == NOW
    status, body = raw(emu, "/api/v5/market/books", instId="BTC-USDT")
    assert status == 404 and (body["code"], body["msg"]) == (404, "Not Found")
    with pytest.raises(ValueError, match="cap"):
        OkxEmulator(history_cap=0)
