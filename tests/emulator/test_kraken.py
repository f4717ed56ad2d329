"""The Kraken emulator, driven by the real ccxt kraken client over HTTP."""

import json
from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from tests.emulator import ccxt_clients
from tests.emulator.ccxt_clients import fetch, ohlcv, raises, raw, with_client
from titan_dagster.emulator.kraken import OHLC, KrakenEmulator
from titan_dagster.emulator.venue import Fault

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_709_296_496_789  # 2024-03-01T12:34:56.789Z, inside an open candle of every interval
STEPS = {"1m": MINUTE, "1h": HOUR, "4h": 4 * HOUR, "1d": DAY}
OPEN = {tf: NOW - NOW % step for tf, step in STEPS.items()}  # the open candle per interval


@pytest.fixture
def emu():
    listings = {"BTC/USD": "2013-10-06", "ETH/USD": "2015-08-07", "SOL/USD": "2021-06-16"}
    with KrakenEmulator(listings, clock=lambda: NOW) as emulator:
        yield emulator


@pytest.mark.parametrize("assets", [True, False])
def test_load_markets_gives_kraken_ids_and_the_listed_symbols(emu, assets):
    extra = {
        "ETH/BTC": "XETHXXBT",  # two pre-2018 assets: their ids joined
        "BTC/USDT": "XBTUSDT",  # otherwise the altname
        "DOGE/USD": "XDGUSD",
        "LUNA/USD": "LUNA2USD",  # ccxt renames Kraken's LUNA to LUNC
        "LUNC/USD": "LUNAUSD",
    }
    for symbol in extra:
        emu.add_symbol(symbol, "2022-06-01")
    emu.add_symbol("XRP/EUR", "2017-05-18", delisted_at="2021-01-01")
    emu.add_symbol("ADA/EUR", "2018-09-27", delisted_at=NOW + DAY)  # delisting announced
    config = {} if assets else {"has": {"fetchCurrencies": False}}

    markets = with_client(emu, lambda ex: ex.load_markets(), **config)

    ids = {"BTC/USD": "XXBTZUSD", "ETH/USD": "XETHZUSD", "SOL/USD": "SOLUSD", **extra,
           "XRP/EUR": "XXRPZEUR", "ADA/EUR": "ADAEUR"}
    assert {s: m["id"] for s, m in markets.items()} == ids
    assert [s for s, m in markets.items() if not m["active"]] == ["XRP/EUR"]
    btc, sol = markets["BTC/USD"], markets["SOL/USD"]
    assert (btc["altname"], btc["wsId"], btc["info"]["base"], btc["info"]["quote"]) == (
        "XBTUSD", "XBT/USD", "XXBT", "ZUSD")
    assert (sol["altname"], sol["wsId"], sol["info"]["base"], sol["info"]["quote"]) == (
        "SOLUSD", "SOL/USD", "SOL", "ZUSD")
    assert btc["spot"] and btc["type"] == "spot" and btc["created"] is None
    assert btc["precision"] == {"amount": "0.00000001", "price": "0.01"}
    assert [r.path for r in emu.requests] == (["/0/public/Assets"] if assets else []) + [
        "/0/public/AssetPairs"]


@pytest.mark.parametrize(
    ("timeframe", "since", "limit"),
    [
        ("1h", OPEN["1h"] - 100 * HOUR, 50),
        ("1m", OPEN["1m"] - 30 * MINUTE, 720),  # runs into the open candle
        ("4h", OPEN["4h"] - 300 * 4 * HOUR, 10),
        ("1d", OPEN["1d"] - 700 * DAY, 5),
        ("1h", OPEN["1h"] - 100 * HOUR + 1, 3),  # unaligned: starts at the next candle
    ],
)
def test_fetch_ohlcv_within_reach_returns_the_rows_after_since(emu, timeframe, since, limit):
    step = STEPS[timeframe]

    rows = fetch(emu, "BTC/USD", timeframe, since=since, limit=limit)

    truth = ohlcv(emu.candles("BTC/USD", timeframe, since, NOW + step))[:limit]
    assert rows == truth and len(rows) == min(limit, (NOW - since) // step + 1)
    # ccxt asks one candle early, as Kraken serves only the candles after since.
    assert emu.requests[-1].params == {"pair": "XXBTZUSD", "interval": str(step // MINUTE),
                                       "since": str(since // 1000 - step // 1000)}


def test_raw_rows_are_ascending_after_since_and_end_with_the_open_candle(emu):
    since = OPEN["1h"] - 5 * HOUR

    status, body = raw(emu, OHLC, pair="XXBTZUSD", interval=60, since=since // 1000)

    assert status == 200 and body["error"] == [] and set(body["result"]) == {"XXBTZUSD", "last"}
    rows = body["result"]["XXBTZUSD"]
    assert [r[0] for r in rows] == [(OPEN["1h"] - i * HOUR) // 1000 for i in range(4, -1, -1)]
    assert body["result"]["last"] == (OPEN["1h"] - HOUR) // 1000  # the last committed candle
    truth = emu.candles("BTC/USD", "1h", since + 1, NOW)
    for row, kline in zip(rows, truth, strict=True):
        t, o, h, low, c, vwap, volume, count = row
        assert [t * 1000, o, h, low, c, volume, count] == [*kline[:6], kline[8]]
        assert isinstance(count, int) and Decimal(low) <= Decimal(vwap) <= Decimal(h)


def test_only_the_most_recent_reach_slots_are_ever_served(emu):
    first = OPEN["1h"] - 719 * HOUR

    for since in (0, first // 1000 - 3600 * 100):
        _, body = raw(emu, OHLC, pair="XETHZUSD", interval=60, since=since)
        times = [r[0] * 1000 for r in body["result"]["XETHZUSD"]]
        assert times == [first + i * HOUR for i in range(720)]
    assert len(fetch(emu, "ETH/USD", "1h")) == 720

    # Asked from long before, ccxt gets what there is: the window starts at the reach.
    rows = fetch(emu, "ETH/USD", "1h", since=first - 1000 * HOUR, limit=720)
    assert rows == ohlcv(emu.candles("ETH/USD", "1h", first, NOW))

    # However late since is, the open candle is there.
    for since in (OPEN["1h"], NOW + DAY):
        _, body = raw(emu, OHLC, pair="XETHZUSD", interval=60, since=since // 1000)
        assert [r[0] * 1000 for r in body["result"]["XETHZUSD"]] == [OPEN["1h"]]


def test_reach_is_a_constructor_argument_and_a_recent_listing_starts_inside_it():
    listed = OPEN["1h"] - 10 * HOUR - 13 * MINUTE
    with KrakenEmulator({"BTC/USD": "2013-10-06", "SUI/USD": listed}, clock=lambda: NOW,
                        reach=10) as emu:
        assert [r[0] for r in fetch(emu, "BTC/USD", "1h", since=0)] == [
            OPEN["1h"] - i * HOUR for i in range(9, -1, -1)]
        assert len(fetch(emu, "BTC/USD", "1m")) == 10
    with KrakenEmulator({"SUI/USD": listed}, clock=lambda: NOW) as emu:
        rows = fetch(emu, "SUI/USD", "1h", since=0)
        assert rows[0][0] == listed - listed % HOUR and len(rows) == 12


def test_holes_shrink_the_served_rows_and_transient_ones_come_back(emu):
    emu.add_hole("BTC/USD", OPEN["1h"] - 50 * HOUR, OPEN["1h"] - 40 * HOUR)
    emu.add_hole("XXBTZUSD", OPEN["1h"] - 20 * HOUR, OPEN["1h"] - 18 * HOUR,
                 transient_requests=1)

    first = fetch(emu, "BTC/USD", "1h")
    second = fetch(emu, "BTC/USD", "1h")

    assert len(first) == 720 - 10 - 2 and len(second) == 720 - 10
    assert OPEN["1h"] - 45 * HOUR not in {r[0] for r in second}
    assert OPEN["1h"] - 19 * HOUR in {r[0] for r in second} - {r[0] for r in first}
    assert second == ohlcv(emu.candles("BTC/USD", "1h", OPEN["1h"] - 719 * HOUR, NOW))


def test_invalid_rows_are_served_as_configured(emu):
    base = OPEN["1h"] - 24 * HOUR
    kinds = {"high_below_low": 1, "negative_price": 2, "inf": 3, "misaligned": 4,
             "duplicate": 5, "future": 6}
    for kind, i in kinds.items():
        emu.add_invalid("BTC/USD", "1h", base + i * HOUR, kind)

    rows = fetch(emu, "BTC/USD", "1h", since=base, limit=100)

    by_time = {}
    for row in rows:
        by_time.setdefault(row[0], []).append(row)
    _, _, h, low, *_ = by_time[base + HOUR][0]
    assert Decimal(h) < Decimal(low)
    assert Decimal(by_time[base + 2 * HOUR][0][3]) < 0
    assert by_time[base + 3 * HOUR][0][2] == "Infinity"
    # Kraken speaks seconds: a misaligned row is a second off, not a millisecond.
    assert base + 4 * HOUR + 1000 in by_time
    assert len(by_time[base + 5 * HOUR]) == 2
    assert rows[-1][0] == OPEN["1h"] + 2 * HOUR and len(rows) == 25 + 3


FAULT_OUTCOMES = [
    (Fault("status", 200, code="EService:Unavailable"), ccxt.ExchangeNotAvailable),
    (Fault("status", 200, code="EService:Busy"), ccxt.ExchangeNotAvailable),
    (Fault("status", 200, code="EGeneral:Internal error"), ccxt.ExchangeNotAvailable),
    (Fault("status", 200, code="EAPI:Rate limit exceeded"), ccxt.DDoSProtection),
    (Fault("status", 503), ccxt.ExchangeNotAvailable),
    (Fault("html", 502), ccxt.ExchangeNotAvailable),
    (Fault("html", 520), ccxt.ExchangeNotAvailable),
    (Fault("delay", delay=3.0), ccxt.RequestTimeout),
    (Fault("drop"), "all"),  # aiohttp retries a dropped GET once
    (Fault("truncated"), "none"),
    (Fault("empty200"), "none"),
    (Fault("duplicate_rows"), "head_and_dups"),
    (Fault("disordered_rows"), "all"),  # ccxt sorts
    (Fault("outside_rows"), "head"),  # ccxt drops the rows before since
]


def test_the_fault_mix_is_kraken_s(emu):
    assert set(emu.all_faults()) == {fault for fault, _ in FAULT_OUTCOMES}
    assert len(emu.all_faults()) == len(FAULT_OUTCOMES)


@pytest.mark.parametrize(
    ("fault", "expected"),
    FAULT_OUTCOMES,
    ids=ccxt_clients.fault_id,
)
def test_each_fault_of_the_mix_gets_its_ccxt_outcome(emu, fault, expected):
    since = OPEN["1h"] - 30 * HOUR
    truth = ohlcv(emu.candles("BTC/USD", "1h", since, NOW + HOUR))
    emu.inject(fault)

    if isinstance(expected, type):
        error, _ = raises(emu, lambda ex: ex.fetch_ohlcv("BTC/USD", "1h", since), timeout=300)
        assert type(error) is expected
    else:
        rows = fetch(emu, "BTC/USD", "1h", since=since)
        # A row fault damages the page's last 3 of 31 rows (30 after since, the open one).
        assert len(truth) == 31
        assert rows == {"all": truth, "none": [], "head": truth[:28],
                        "head_and_dups": sorted(truth[:28] + truth[:3])}[expected]
    assert fault.kind in [r.fault for r in emu.requests]


def test_unknown_pair_and_bad_arguments_get_kraken_errors(emu):
    status, body = raw(emu, OHLC, pair="NOPEUSD", interval=60)
    assert (status, body) == (200, {"error": ["EQuery:Unknown asset pair"]})

    cases = [
        ({"pair": "NOPEUSD"}, ccxt.ExchangeError),  # not in ccxt's exact map
        ({"pair": "XXBTZUSD", "interval": 2}, ccxt.BadRequest),
        ({"pair": "XXBTZUSD", "interval": 60, "since": "yesterday"}, ccxt.BadRequest),
        ({"interval": 60}, ccxt.BadRequest),
    ]
    for params, expected in cases:
        error, client = raises(emu, lambda ex, params=params: ex.publicGetOHLC(params))
        assert type(error) is expected, params
        assert json.loads(client.last_http_response)["error"][0].startswith(("EQuery", "EGen"))
    # A weekly candle is beyond the emulator's intervals.
    error, _ = raises(emu, lambda ex: ex.fetch_ohlcv("BTC/USD", "1w"))
    assert type(error) is ccxt.BadRequest
    assert {r.status for r in emu.requests} == {200}


def test_max_requests_per_second_answers_kraken_s_rate_limit_error():
    with KrakenEmulator({"BTC/USD": "2013-10-06"}, clock=lambda: NOW,
                        max_requests_per_second=3) as emu:

        limited = {"error": ["EAPI:Rate limit exceeded"]}
        answers = ccxt_clients.fetch_times(
            emu, 5, ccxt.DDoSProtection, lambda ex: json.loads(ex.last_http_response))
        assert answers == [NOW // 1000 * 1000] * 3 + [limited] * 2
        assert [(r.status, r.fault) for r in emu.requests] == [(200, None)] * 3 + [
            (200, "rate_limit")] * 2


def test_requests_are_counted_per_symbol_and_interval(emu):
    fetch(emu, "BTC/USD", "1h", since=OPEN["1h"] - 2 * HOUR, limit=2)
    fetch(emu, "BTC/USD", "1h", since=OPEN["1h"] - 2 * HOUR, limit=2)
    fetch(emu, "SOL/USD", "1d", limit=2)

    assert emu.count(symbol="BTC/USD") == emu.count(symbol="XXBTZUSD") == 2
    assert emu.count(interval="1d") == emu.count(symbol="SOLUSD", interval="1d") == 1
    assert emu.count() == 3 and emu.count(path="/0/public/AssetPairs") == 3
    record = emu.requests[-1]
    assert (record.time_ms, record.path, record.symbol, record.interval, record.params) == (
        NOW, OHLC, "SOL/USD", "1d", {"pair": "SOLUSD", "interval": "1440"})

    emu.inject(Fault("status", 200, code="EService:Busy"), symbol="SOL/USD")
    assert fetch(emu, "BTC/USD", "1d", limit=2)
    error, _ = raises(emu, lambda ex: ex.fetch_ohlcv("SOL/USD", "1d", None, 2))
    assert type(error) is ccxt.ExchangeNotAvailable
