"""The Coinbase emulator, driven by the real ccxt coinbase client over HTTP."""


import ccxt.async_support as ccxt
import pytest

from tests.emulator import ccxt_clients
from tests.emulator.ccxt_clients import fetch, ohlcv, raises, raw, with_client
from titan_dagster.emulator.coinbase import CANDLES, PRODUCTS, CoinbaseEmulator
from titan_dagster.emulator.venue import Fault

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_709_296_496_789  # 2024-03-01T12:34:56.789Z, inside an open candle of every interval
DAY0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
SOL_LISTED = 1_624_551_180_000  # 2021-06-24T16:13:00Z


def candles_json(emu, product: str, granularity: str, start_s: int, end_s: int):
    return raw(emu, f"{PRODUCTS}/{product}/candles", granularity=granularity, start=start_s,
               end=end_s)


@pytest.fixture
def emu():
    listings = {"BTC/USD": "2015-07-20", "ETH/USD": "2016-05-18", "SOL/USD": SOL_LISTED}
    with CoinbaseEmulator(listings, clock=lambda: NOW) as emulator:
        yield emulator


@pytest.mark.parametrize("currencies", [True, False])
def test_load_markets_gives_spot_markets_with_active_flags(emu, currencies):
    emu.add_symbol("XRP/USD", "2019-02-25", delisted_at="2021-01-19")
    emu.add_symbol("BTC/EUR", "2015-04-23", delisted_at=NOW + DAY)  # delisting announced
    config = {} if currencies else {"has": {"fetchCurrencies": False}}

    async def load(ex):
        return await ex.load_markets(), ex.currencies

    markets, codes = with_client(emu, load, **config)

    assert {s: m["active"] for s, m in markets.items()} == {
        "BTC/USD": True, "ETH/USD": True, "SOL/USD": True, "XRP/USD": False, "BTC/EUR": True,
    }
    btc = markets["BTC/USD"]
    assert (btc["id"], btc["base"], btc["quote"], btc["type"]) == ("BTC-USD", "BTC", "USD", "spot")
    assert btc["spot"] and not btc["contract"]
    assert btc["precision"] == {"amount": "0.00000001", "price": "0.01"}
    assert markets["XRP/USD"]["precision"]["price"] == "0.00001"
    products = [(r.path, r.params) for r in emu.requests if r.path == PRODUCTS]
    assert products == [(PRODUCTS, {}), (PRODUCTS, {"product_type": "FUTURE"})]
    v2 = ["/v2/currencies", "/v2/currencies/crypto", "/v2/exchange-rates"]
    assert sorted(r.path for r in emu.requests if r.path.startswith("/v2")) == (
        v2 if currencies else [])
    if currencies:
        assert {"BTC", "ETH", "SOL", "XRP", "USD", "EUR"} <= set(codes)
        assert codes["USD"]["type"] == "fiat" and codes["BTC"]["type"] == "crypto"


@pytest.mark.parametrize(
    ("timeframe", "since", "limit", "served"),
    [
        ("1h", DAY0, 300, 300),
        ("1d", DAY0, 10, 10),
        ("1m", DAY0 + 7 * MINUTE, 45, 45),
        # An unaligned since floors to a start whose first candle ccxt drops as too early.
        ("1d", DAY0 + 1, 10, 9),
        # The window reaches past now: it ends with the open candle.
        ("1h", NOW - 5 * HOUR, 300, 5),
    ],
)
def test_fetch_ohlcv_returns_the_window_served(emu, timeframe, since, limit, served):
    step = {"1m": MINUTE, "1h": HOUR, "1d": DAY}[timeframe]

    rows = fetch(emu, "BTC/USD", timeframe, since=since, limit=limit)

    start = since // 1000 * 1000
    window = emu.candles("BTC/USD", timeframe, start, start + limit * step)
    assert len(rows) == served
    assert rows == ohlcv([r for r in window if r[0] >= since])
    assert emu.requests[-1].params == {
        "granularity": {"1m": "ONE_MINUTE", "1h": "ONE_HOUR", "1d": "ONE_DAY"}[timeframe],
        "start": str(since // 1000),
        "end": str(since // 1000 + limit * step // 1000),
        "product_id": "BTC-USD",
    }
    if since > NOW - DAY:
        assert rows[-1][0] == NOW - NOW % step


def test_raw_window_is_start_inclusive_end_exclusive_newest_first(emu):
    status, body = candles_json(emu, "ETH-USD", "ONE_HOUR", DAY0 // 1000, DAY0 // 1000 + 5 * 3600)

    assert status == 200
    truth = emu.candles("ETH/USD", "1h", DAY0, DAY0 + 5 * HOUR)
    assert body == {"candles": [
        {"start": str(r[0] // 1000), "low": r[3], "high": r[2], "open": r[1], "close": r[4],
         "volume": r[5]}
        for r in reversed(truth)
    ]}
    assert [int(c["start"]) * 1000 for c in body["candles"]] == [DAY0 + i * HOUR
                                                                 for i in range(4, -1, -1)]


def test_more_than_max_candles_in_a_window_is_rejected_not_cut(emu):
    start = DAY0 // 1000
    status, body = candles_json(emu, "BTC-USD", "ONE_HOUR", start, start + 350 * 3600)
    assert status == 200 and len(body["candles"]) == 350

    status, body = candles_json(emu, "BTC-USD", "ONE_HOUR", start, start + 351 * 3600)
    assert status == 400
    assert body == {
        "error": "INVALID_ARGUMENT",
        "error_details": "start and end argument is invalid - number of candles requested "
        "should be less than 350",
        "message": "start and end argument is invalid - number of candles requested "
        "should be less than 350",
    }

    # ccxt asks for `until` as the window's end, so it can ask for too much.
    error, _ = raises(emu, lambda ex: ex.fetch_ohlcv("BTC/USD", "1h", DAY0, None,
                                                     {"until": DAY0 + 351 * HOUR}))
    assert type(error) is ccxt.BadRequest
    assert len(fetch(emu, "BTC/USD", "1h", DAY0, None, {"until": DAY0 + 350 * HOUR})) == 300


def test_max_candles_is_a_constructor_argument():
    with CoinbaseEmulator({"BTC/USD": "2015-07-20"}, clock=lambda: NOW, max_candles=10) as emu:
        assert len(fetch(emu, "BTC/USD", "1d", DAY0, 10)) == 10
        error, _ = raises(emu, lambda ex: ex.fetch_ohlcv("BTC/USD", "1d", DAY0, 11))
        assert type(error) is ccxt.BadRequest
        assert "less than 10" in str(error)


def test_window_before_the_listing_is_empty_and_one_across_it_starts_there(emu):
    assert fetch(emu, "SOL/USD", "1h", since=SOL_LISTED - 400 * HOUR, limit=300) == []
    assert emu.requests[-1].status == 200
    status, body = candles_json(emu, "SOL-USD", "ONE_DAY", 0, 300 * 86400)
    assert (status, body) == (200, {"candles": []})

    since = SOL_LISTED - 10 * HOUR
    rows = fetch(emu, "SOL/USD", "1h", since=since, limit=20)

    first = SOL_LISTED - SOL_LISTED % HOUR  # the listing's candle, 9h47m into the window
    assert [r[0] for r in rows] == [first + i * HOUR for i in range(11)]
    assert rows == ohlcv(emu.candles("SOL/USD", "1h", first, since + 20 * HOUR))


def test_holes_are_missing_and_transient_ones_come_back(emu):
    emu.add_hole("BTC/USD", DAY0 + 5 * HOUR, DAY0 + 8 * HOUR)
    emu.add_hole("BTC-USD", DAY0 + 20 * HOUR, DAY0 + 22 * HOUR, transient_requests=1)

    first = fetch(emu, "BTC/USD", "1h", since=DAY0, limit=24)
    second = fetch(emu, "BTC/USD", "1h", since=DAY0, limit=24)

    hours = [(t - DAY0) // HOUR for t, *_ in first]
    assert hours == [h for h in range(24) if not (5 <= h < 8 or 20 <= h < 22)]
    assert [(t - DAY0) // HOUR for t, *_ in second] == [h for h in range(24) if not 5 <= h < 8]
    assert second == ohlcv(emu.candles("BTC/USD", "1h", DAY0, DAY0 + DAY))


INVALID = {
    kind: ccxt_clients.LOOKS_INVALID[kind]
    for kind in ("high_below_low", "zero_price", "negative_volume", "nan")
}


def test_invalid_rows_are_served_as_configured(emu):
    hours = {kind: DAY0 + i * HOUR for i, kind in enumerate(INVALID, start=1)}
    for kind, t in hours.items():
        emu.add_invalid("BTC/USD", "1h", t, kind)
    extras = {"misaligned": DAY0 + 12 * HOUR, "duplicate": DAY0 + 13 * HOUR, "future": DAY0}
    for kind, t in extras.items():
        emu.add_invalid("BTC/USD", "1h", t, kind)
    future = NOW - NOW % HOUR + 2 * HOUR

    rows = fetch(emu, "BTC/USD", "1h", since=DAY0, params={"until": DAY0 + DAY})

    by_time = {}
    for row in rows:
        by_time.setdefault(row[0], []).append(row)
    for kind, t in hours.items():
        assert INVALID[kind](*by_time[t][0][1:6]), kind
    # Coinbase speaks seconds: a misaligned row is a second off, not a millisecond.
    assert DAY0 + 12 * HOUR + 1000 in by_time
    assert len(by_time[DAY0 + 13 * HOUR]) == 2
    assert rows[-1][0] == future and len(rows) == 27


FAULT_OUTCOMES = [
    (Fault("status", 429, retry_after=1), ccxt.RateLimitExceeded),
    # {"error":"INTERNAL"} and "UNAVAILABLE" are not in ccxt's table: a plain ExchangeError.
    (Fault("status", 500), ccxt.ExchangeError),
    (Fault("status", 503, code="UNAVAILABLE"), ccxt.ExchangeError),
    (Fault("html", 502), ccxt.ExchangeNotAvailable),
    (Fault("status", 503), ccxt.ExchangeNotAvailable),
    (Fault("delay", delay=3.0), ccxt.RequestTimeout),
    (Fault("drop"), "all"),  # aiohttp retries a dropped GET once
    (Fault("truncated"), "none"),
    (Fault("empty200"), "none"),
    (Fault("duplicate_rows"), "head_and_dups"),
    (Fault("disordered_rows"), "all"),  # ccxt sorts
    (Fault("outside_rows"), "head"),  # ccxt drops the rows before since
]


def test_the_fault_mix_is_coinbase_s(emu):
    assert set(emu.all_faults()) == {fault for fault, _ in FAULT_OUTCOMES}
    assert len(emu.all_faults()) == len(FAULT_OUTCOMES)


@pytest.mark.parametrize(
    ("fault", "expected"),
    FAULT_OUTCOMES,
    ids=ccxt_clients.fault_id,
)
def test_each_fault_of_the_mix_gets_its_ccxt_outcome(emu, fault, expected):
    truth = ohlcv(emu.candles("BTC/USD", "1h", DAY0, DAY0 + DAY))
    emu.inject(fault)

    if isinstance(expected, type):
        error, client = raises(emu, lambda ex: ex.fetch_ohlcv("BTC/USD", "1h", DAY0, 24),
                               timeout=300)
        assert type(error) is expected
        if fault.retry_after:
            assert client.last_response_headers["Retry-After"] == "1"
    else:
        rows = fetch(emu, "BTC/USD", "1h", since=DAY0, limit=24)
        # A row fault damages the page's last 2 of 24 rows.
        assert rows == {"all": truth, "none": [], "head": truth[:22],
                        "head_and_dups": sorted(truth[:22] + truth[:2])}[expected]
    assert fault.kind in [r.fault for r in emu.requests]


def test_unknown_product_and_bad_arguments_get_coinbase_errors(emu):
    status, body = candles_json(emu, "NOPE-USD", "ONE_HOUR", DAY0 // 1000, DAY0 // 1000 + 3600)
    assert status == 404
    assert body["error"] == "NOT_FOUND" and body["message"] == "Product NOPE-USD not supported"

    def candles(params):
        return lambda ex: ex.v3PublicGetBrokerageMarketProductsProductIdCandles(params)

    base = {"product_id": "BTC-USD", "granularity": "ONE_HOUR", "start": "1704067200",
            "end": "1704070800"}
    cases = [
        ({**base, "product_id": "NOPE-USD"}, ccxt.ExchangeError),  # NOT_FOUND: not in ccxt's map
        ({**base, "granularity": "ONE_WEEK"}, ccxt.BadRequest),
        ({**base, "start": "yesterday"}, ccxt.BadRequest),
    ]
    for params, expected in cases:
        error, _ = raises(emu, candles(params))
        assert type(error) is expected, params
    assert [r.status for r in emu.requests] == [404, 404, 400, 400]
    assert emu.count(symbol="BTC/USD") == 2


def test_max_requests_per_second_answers_429_with_retry_after():
    with CoinbaseEmulator({"BTC/USD": "2015-07-20"}, clock=lambda: NOW,
                          max_requests_per_second=3) as emu:

        answers = ccxt_clients.fetch_times(
            emu, 5, ccxt.RateLimitExceeded, lambda ex: ex.last_response_headers["Retry-After"])
        assert answers == [NOW // 1000 * 1000] * 3 + ["1", "1"]
        assert [(r.status, r.fault) for r in emu.requests] == [(200, None)] * 3 + [
            (429, "rate_limit")] * 2


def test_requests_are_counted_per_symbol_and_interval(emu):
    fetch(emu, "BTC/USD", "1h", since=DAY0, limit=2)
    fetch(emu, "BTC/USD", "1h", since=DAY0, limit=2)
    fetch(emu, "ETH/USD", "1d", since=DAY0, limit=2)

    assert emu.count(symbol="BTC/USD") == emu.count(symbol="BTC-USD") == 2
    assert emu.count(interval="1d") == emu.count(symbol="ETH/USD", interval="1d") == 1
    assert emu.count() == 3 and emu.count(path=PRODUCTS) == 6
    assert emu.count(path=None) == 3 + 6 + 9  # candles, products, v2 currencies
    record = emu.requests[-1]
    assert (record.path, record.symbol, record.interval, record.status) == (
        CANDLES, "ETH/USD", "1d", 200)

    emu.inject(Fault("status", 503), symbol="ETH/USD")
    assert fetch(emu, "BTC/USD", "1d", since=DAY0, limit=2)
    error, _ = raises(emu, lambda ex: ex.fetch_ohlcv("ETH/USD", "1d", DAY0, 2))
    assert type(error) is ccxt.ExchangeNotAvailable
