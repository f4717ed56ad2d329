"""The Binance emulator, driven by the real ccxt binance client over HTTP."""

import contextlib
import http.client
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from statistics import median

import ccxt.async_support as ccxt
import pytest

from tests.emulator import ccxt_clients
from tests.emulator.ccxt_clients import fetch, ohlcv, raises, with_client
from titan_dagster.emulator import DEFAULT_LISTINGS, BinanceEmulator, Fault

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_709_296_496_789  # 2024-03-01T12:34:56.789Z, inside an open candle of every interval
DAY0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
SOL_LISTED = 1_597_126_380_000  # 2020-08-11T06:13:00Z


@pytest.fixture
def emu():
    listings = {"BTC/USDT": "2017-08-17", "ETH/USDT": "2017-08-17", "SOL/USDT": SOL_LISTED}
    with BinanceEmulator(listings, clock=lambda: NOW) as emulator:
        yield emulator


def test_load_markets_gives_spot_markets_with_active_flags(emu):
    emu.add_symbol("LUNA/USDT", "2019-07-26", delisted_at="2022-05-13")
    emu.add_symbol("FTT/USDT", "2019-07-30", delisted_at=NOW + DAY)  # delisting announced

    markets = with_client(emu, lambda ex: ex.load_markets())

    assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT", "LUNA/USDT", "FTT/USDT"}
    assert {s: m["active"] for s, m in markets.items()} == {
        "BTC/USDT": True,
        "ETH/USDT": True,
        "SOL/USDT": True,
        "LUNA/USDT": False,
        "FTT/USDT": True,
    }
    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["base"], btc["quote"], btc["type"]) == ("BTCUSDT", "BTC", "USDT", "spot")
    assert btc["spot"] and not btc["margin"] and not btc["contract"]
    assert btc["precision"]["amount"] == "0.00001000"
    assert emu.count(path="/api/v3/exchangeInfo") == 1


@pytest.mark.parametrize(
    ("timeframe", "first_open"),
    [
        ("1m", SOL_LISTED),
        ("1h", SOL_LISTED - 13 * MINUTE),
        ("1d", SOL_LISTED - 6 * HOUR - 13 * MINUTE),
    ],
)
def test_since_before_listing_starts_at_the_first_candle(emu, timeframe, first_open):
    rows = fetch(emu, "SOL/USDT", timeframe, since=0, limit=5)

    assert rows[0][0] == first_open
    assert rows == ohlcv(emu.candles("SOL/USDT", timeframe, 0, first_open + 5 * DAY))[:5]
    assert emu.requests[-1].params["startTime"] == "0"


@pytest.mark.parametrize(
    ("symbol", "timeframe", "since", "pages"),
    [("ETH/USDT", "1d", 0, 3), ("BTC/USDT", "1m", NOW - 2_500 * MINUTE, 3)],
)
def test_paging_with_limit_1000_matches_the_truth(emu, symbol, timeframe, since, pages):
    step = {"1m": MINUTE, "1d": DAY}[timeframe]

    async def page_through(ex):
        out, cursor = [], since
        while True:
            page = await ex.fetch_ohlcv(symbol, timeframe, cursor, 1000)
            out += page
            if len(page) < 1000:
                return out
            cursor = page[-1][0] + step

    rows = with_client(emu, page_through)

    times = [row[0] for row in rows]
    assert all(t % step == 0 for t in times)
    assert all(b - a == step for a, b in zip(times, times[1:], strict=False))
    assert times[-1] == NOW - NOW % step  # the still-open candle is served
    assert rows == ohlcv(emu.candles(symbol, timeframe, since, NOW + step))
    assert emu.count(symbol=symbol, interval=timeframe) == pages


def test_candles_are_well_formed_deterministic_and_continuous(emu):
    rows = emu.candles("BTC/USDT", "5m", DAY0, DAY0 + 10 * DAY)
    assert len(rows) == 10 * 288
    for row in rows:
        o, h, low, c, v = (Decimal(x) for x in row[1:6])
        assert h >= max(o, c) and low <= min(o, c) and low > 0 and v >= 0
        assert all(Decimal(x) % Decimal("0.01") == 0 for x in row[1:5])
        assert row[6] == row[0] + 5 * MINUTE - 1 and row[11] == "0"
        assert all(len(x.split(".")[1]) == 8 for x in row[1:6])
    zero = [row for row in rows if row[5] == "0.00000000"]
    assert 0.005 < len(zero) / len(rows) < 0.05
    # A candle closes where the next one opens, unless it traded nothing (then it is flat).
    assert all(a[4] == b[1] for a, b in zip(rows, rows[1:], strict=False) if a[5] != "0.00000000")

    with BinanceEmulator({"BTC/USDT": "2017-08-17"}, clock=lambda: NOW + DAY) as other:
        assert other.candles("BTC/USDT", "5m", DAY0, DAY0 + 10 * DAY) == rows
        daily = other.candles("BTC/USDT", "1d", DAY0, DAY0 + DAY)[0]
    assert daily[1] == rows[0][1]  # an open is the same price at every interval


def test_default_listings_span_cheap_and_dear_coins():
    with BinanceEmulator(DEFAULT_LISTINGS, clock=lambda: NOW) as emu:
        opens = {s: Decimal(emu.candles(s, "1d", DAY0, DAY0 + DAY)[0][1]) for s in DEFAULT_LISTINGS}
    assert len(DEFAULT_LISTINGS) == 20 and DEFAULT_LISTINGS["BTC/USDT"] == "2017-08-17"
    assert min(opens.values()) < 1 < 1_000 < max(opens.values())
    # Coins under 1 quote on a finer tick than 0.01.
    assert any(p < 1 and p % Decimal("0.01") != 0 for p in opens.values())


def test_times_parse_and_bad_scenarios_are_rejected(emu):
    emu.add_symbol("APT/USDT", datetime(2022, 10, 19, 1, 30, tzinfo=UTC))
    emu.add_symbol("SUI/USDT", "2023-05-03T12:00:00+02:00")
    assert emu.candles("APT/USDT", "1h", 0, NOW)[0][0] == 1_666_141_200_000  # 01:00Z
    assert emu.candles("SUIUSDT", "1d", 0, NOW)[0][0] == 1_683_072_000_000  # 2023-05-03

    with pytest.raises(ValueError):
        emu.add_invalid("BTC/USDT", "1h", DAY0, "sideways")
    with pytest.raises(ValueError):
        emu.set_candle("BTC/USDT", "1h", DAY0 + MINUTE, close="1")  # not a 1h open time
    with pytest.raises(ValueError):
        emu.add_hole("DOGE/USDT", DAY0, DAY0 + DAY)
    with pytest.raises(ValueError):
        Fault("teapot")


def test_permanent_hole_is_missing_at_every_interval(emu):
    emu.add_hole("BTC/USDT", DAY0 + 5 * HOUR, DAY0 + 8 * HOUR)
    emu.add_hole("BTCUSDT", DAY0 + 2 * DAY, DAY0 + 2 * DAY + MINUTE)

    hourly = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)
    daily = fetch(emu, "BTC/USDT", "1d", since=DAY0, limit=3)

    assert [t for t, *_ in hourly] == [DAY0 + i * HOUR for i in range(27) if not 5 <= i < 8]
    assert [t for t, *_ in daily] == [DAY0, DAY0 + DAY, DAY0 + 3 * DAY]
    assert hourly == ohlcv(emu.candles("BTC/USDT", "1h", DAY0, DAY0 + 27 * HOUR))


def test_transient_hole_disappears_after_n_touching_requests(emu):
    emu.add_hole("BTC/USDT", DAY0 + 5 * HOUR, DAY0 + 8 * HOUR, transient_requests=2)
    full = ohlcv(emu.candles("BTC/USDT", "1h", DAY0, DAY0 + 24 * HOUR))

    def hours(rows):
        return {(t - DAY0) // HOUR for t, *_ in rows}

    assert not {5, 6, 7} & hours(fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24))
    # A request whose window does not reach the hole does not use it up.
    fetch(emu, "BTC/USDT", "1h", since=DAY0 + 12 * HOUR, limit=5)
    assert not {5, 6, 7} & hours(fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24))
    assert fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24) == full


INVALID = ccxt_clients.LOOKS_INVALID  # Binance's test serves every kind a row can show


def test_invalid_rows_are_served_as_configured(emu):
    hours = {kind: DAY0 + i * HOUR for i, kind in enumerate(INVALID, start=1)}
    for kind, t in hours.items():
        emu.add_invalid("BTC/USDT", "1h", t, kind)
    extras = {"misaligned": DAY0 + 12 * HOUR, "duplicate": DAY0 + 13 * HOUR, "future": DAY0}
    for kind, t in extras.items():
        emu.add_invalid("BTC/USDT", "1h", t, kind)
    future = NOW - NOW % HOUR + 2 * HOUR

    # `until` makes ccxt ask for 1000 rows, so it keeps the 3 extra rows past 24.
    rows = fetch(emu, "BTC/USDT", "1h", since=DAY0, params={"until": DAY0 + DAY - 1})

    by_time = {}
    for row in rows:
        by_time.setdefault(row[0], []).append(row)
    for kind, t in hours.items():
        assert INVALID[kind](*by_time[t][0][1:6]), kind
    assert DAY0 + 12 * HOUR + 1 in by_time
    assert len(by_time[DAY0 + 13 * HOUR]) == 2
    assert rows[-1][0] == future and len(rows) == 27
    truth = emu.candles("BTC/USDT", "1h", DAY0, future + HOUR)
    assert rows == ohlcv([r for r in truth if r[0] < DAY0 + DAY or r[0] == future])


def test_set_candle_overrides_fields_verbatim(emu):
    t = DAY0 + 3 * HOUR
    before = emu.candles("BTC/USDT", "1h", t, t + HOUR)[0]
    emu.set_candle("BTC/USDT", "1h", t, close="12345.67000000", volume="-1")
    emu.set_candle("BTC/USDT", "1h", t, open="0")

    row = fetch(emu, "BTC/USDT", "1h", since=t, limit=1)[0]

    assert row == [t, "0", before[2], before[3], "12345.67000000", "-1"]
    assert emu.candles("BTC/USDT", "1h", t, t + HOUR)[0][:6] == row
    assert emu.candles("BTC/USDT", "4h", DAY0, DAY0 + 4 * HOUR)[0][4] != "12345.67000000"


@pytest.mark.parametrize(
    ("fault", "count", "expected"),
    [
        (Fault("status", 429, retry_after=7), 1, ccxt.DDoSProtection),
        (Fault("status", 418), 1, ccxt.DDoSProtection),
        (Fault("status", 500), 1, ccxt.ExchangeNotAvailable),
        (Fault("status", 503), 1, ccxt.ExchangeNotAvailable),
        (Fault("html"), 1, ccxt.ExchangeNotAvailable),
        (Fault("status", 504), 1, ccxt.RequestTimeout),
        # ccxt maps a body's Binance code before the HTTP status: these are not NetworkErrors.
        (Fault("status", 500, code=-1001), 1, ccxt.OperationFailed),
        (Fault("status", 503, code=-1008), 1, ccxt.ExchangeError),
        # aiohttp silently retries a GET once after a dropped connection.
        (Fault("drop"), 2, ccxt.ExchangeNotAvailable),
        (Fault("delay", delay=5), 1, ccxt.RequestTimeout),
    ],
)
def test_faults_raise_the_matching_ccxt_error(emu, fault, count, expected):
    emu.inject(fault, count)

    error, client = raises(emu, lambda ex: ex.fetch_ohlcv("BTC/USDT", "1h", DAY0, 24), timeout=300)

    assert type(error) is expected
    assert [r.fault for r in emu.requests[-count:]] == [fault.kind] * count
    if fault.retry_after is not None:
        assert client.last_response_headers["Retry-After"] == "7"
    # The fault is used up: the next request is answered normally.
    assert fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24) == ohlcv(
        emu.candles("BTC/USDT", "1h", DAY0, DAY0 + DAY)
    )


@pytest.mark.parametrize("fault", [Fault("html200"), Fault("truncated"), Fault("empty200")])
def test_garbled_200_answers_come_back_as_no_candles(emu, fault):
    emu.inject(fault)

    assert fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24) == []
    assert emu.requests[-1].status == 200 and emu.requests[-1].fault == fault.kind


def test_html200_without_since_gives_junk_rows(emu):
    emu.inject(Fault("html200"))

    rows = fetch(emu, "BTC/USDT", "1h")

    assert rows and all(row[1:] == [None] * 5 for row in rows)


def test_single_drop_and_short_delay_are_invisible_to_ccxt(emu):
    truth = ohlcv(emu.candles("BTC/USDT", "1h", DAY0, DAY0 + DAY))
    emu.inject(Fault("drop"))
    emu.inject(Fault("delay", delay=0.05))

    assert fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24) == truth
    assert [(r.status, r.fault) for r in emu.requests if r.path.endswith("klines")] == [
        (0, "drop"),
        (200, "delay"),
    ]


def test_faults_target_a_path_and_symbol(emu):
    emu.inject(Fault("status", 503), 2, symbol="ETH/USDT")
    emu.inject(Fault("status", 500), path="/api/v3/exchangeInfo")

    error, _ = raises(emu, lambda ex: ex.load_markets())
    assert type(error) is ccxt.ExchangeNotAvailable
    assert fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=2)
    for _ in range(2):
        error, _ = raises(emu, lambda ex: ex.fetch_ohlcv("ETH/USDT", "1h", DAY0, 2))
        assert type(error) is ccxt.ExchangeNotAvailable
    assert len(fetch(emu, "ETH/USDT", "1h", since=DAY0, limit=2)) == 2


def klines_json(emu, since: int, limit: int) -> list[list]:
    url = f"{emu.base_url}/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={since}&limit={limit}"
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())


def test_row_faults_damage_a_page_within_its_limit(emu):
    truth = klines_json(emu, DAY0, 20)
    for kind in ("duplicate_rows", "disordered_rows", "outside_rows"):
        emu.inject(Fault(kind))
        page = klines_json(emu, DAY0, 20)
        assert len(page) == 20 and page != truth
        if kind == "duplicate_rows":
            assert page == sorted(truth[:18] + truth[:2])
        elif kind == "disordered_rows":
            assert page == truth[::-1]
        else:
            assert [row[0] for row in page[:2]] == [DAY0 - 2 * HOUR, DAY0 - HOUR]
            assert page[2:] == truth[:18]
    assert [r.fault for r in emu.requests][-3:] == ["duplicate_rows", "disordered_rows",
                                                    "outside_rows"]


def test_faults_at_a_rate_are_seeded_and_stop_at_rate_zero(emu):
    def faults_of_100(seed: int) -> list:
        emu.clear_requests()
        emu.inject_at_rate(0.25, [Fault("status", 503), Fault("empty200")], seed=seed)
        for _ in range(100):
            with contextlib.suppress(urllib.error.HTTPError):
                klines_json(emu, DAY0, 1)
        return [r.fault for r in emu.requests]

    first = faults_of_100(seed=1)
    assert first == faults_of_100(seed=1) != faults_of_100(seed=2)
    assert 10 < emu.faults_injected < 40
    emu.inject_at_rate(0)
    emu.clear_requests()
    assert len(klines_json(emu, DAY0, 3)) == 3 and emu.faults_injected == 0
    with pytest.raises(ValueError, match="rate"):
        emu.inject_at_rate(1.5)


@pytest.mark.parametrize(
    ("params", "expected", "code"),
    [
        ({"symbol": "NOPEUSDT", "interval": "1h"}, ccxt.BadSymbol, -1121),
        ({"symbol": "BTCUSDT", "interval": "7m"}, ccxt.BadRequest, -1120),
        ({"symbol": "BTCUSDT", "interval": "1h", "limit": 1001}, ccxt.BadRequest, -1130),
        ({"symbol": "BTCUSDT", "interval": "1h", "startTime": -5}, ccxt.BadRequest, -1100),
        ({"symbol": "BTCUSDT"}, ccxt.BadRequest, -1102),
    ],
)
def test_bad_klines_requests_get_binance_errors(emu, params, expected, code):
    error, client = raises(emu, lambda ex: ex.publicGetKlines(params))

    assert type(error) is expected
    assert json.loads(client.last_http_response)["code"] == code
    assert emu.requests[-1].status == 400


def test_unknown_path_is_404_and_weight_is_reported(emu):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{emu.base_url}/api/v3/depth?symbol=BTCUSDT")
    assert info.value.code == 404
    assert json.loads(info.value.read()) == {"code": -1, "msg": "Not found"}

    with urllib.request.urlopen(f"{emu.base_url}/api/v3/ping") as response:
        assert json.loads(response.read()) == {}
        assert response.headers["x-mbx-used-weight-1m"] == "2"
    assert with_client(emu, lambda ex: ex.fetch_time()) == NOW


def test_max_requests_per_second_answers_429():
    with BinanceEmulator(
        {"BTC/USDT": "2017-08-17"}, clock=lambda: NOW, max_requests_per_second=3
    ) as emu:

        answers = ccxt_clients.fetch_times(
            emu, 5, ccxt.DDoSProtection, lambda ex: ex.last_response_headers["Retry-After"]
        )
        assert answers == [NOW, NOW, NOW, "1", "1"]
        assert [r.status for r in emu.requests] == [200, 200, 200, 429, 429]
        assert [r.fault for r in emu.requests][3:] == ["rate_limit", "rate_limit"]


def test_request_counting(emu):
    fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=2)
    fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=2)
    fetch(emu, "ETH/USDT", "1d", since=DAY0, limit=2)

    assert emu.count(symbol="BTC/USDT") == emu.count(symbol="BTCUSDT") == 2
    assert emu.count(interval="1d") == emu.count(symbol="ETH/USDT", interval="1d") == 1
    assert emu.count() == 3
    assert emu.count(path="/api/v3/exchangeInfo") == 3
    assert emu.count(path=None) == 6
    record = emu.requests[-1]
    assert (record.time_ms, record.path, record.status, record.fault) == (
        NOW,
        "/api/v3/klines",
        200,
        None,
    )
    assert record.params == {
        "symbol": "ETHUSDT",
        "interval": "1d",
        "startTime": str(DAY0),
        "limit": "2",
    }
    emu.clear_requests()
    assert emu.count(path=None) == 0 and emu.requests == []


def test_open_candle_moves_with_the_clock():
    t0 = DAY0 + 10 * HOUR
    clock = [t0 + 5_000]
    with BinanceEmulator({"BTC/USDT": "2017-08-17"}, clock=lambda: clock[0]) as emu:
        early = fetch(emu, "BTC/USDT", "1h", limit=1)[0]
        clock[0] = t0 + 50 * MINUTE
        late = fetch(emu, "BTC/USDT", "1h", limit=1)[0]
        clock[0] = t0 + HOUR + 1
        closed, next_open = fetch(emu, "BTC/USDT", "1h", since=t0, limit=2)
        truth = emu.candles("BTC/USDT", "1h", t0, t0 + HOUR)

    assert early[0] == late[0] == closed[0] == t0 and next_open[0] == t0 + HOUR
    assert early[1] == late[1] == closed[1]
    assert Decimal(early[5]) < Decimal(late[5]) < Decimal(closed[5])
    assert early[4] != late[4]
    for _, o, h, low, c, _ in (early, late):
        assert Decimal(h) >= max(Decimal(o), Decimal(c)) and Decimal(low) <= min(
            Decimal(o), Decimal(c)
        )
    assert closed == truth[0][:6]


def test_keep_alive_and_1000_candles_in_a_few_ms(emu):
    connection = http.client.HTTPConnection("127.0.0.1", emu.port)
    durations = []
    for i in range(20):
        start = time.perf_counter()
        connection.request(
            "GET", f"/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000&endTime={NOW - i}"
        )
        body = connection.getresponse().read()
        durations.append(time.perf_counter() - start)
        assert len(json.loads(body)) == 1000
    connection.close()
    assert median(durations) < 0.05


def test_module_serves_until_interrupted():
    command = [sys.executable, "-m", "titan_dagster.emulator", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--symbols", "BTC/USDT=2017-08-17,ETH/USDT=2017-08-17"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().split()[3]
        with urllib.request.urlopen(f"{url}/api/v3/exchangeInfo") as response:
            symbols = [s["symbol"] for s in json.loads(response.read())["symbols"]]
        assert symbols == ["BTCUSDT", "ETHUSDT"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
