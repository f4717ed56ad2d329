"""Backfill through the real ccxt binance class against the emulator, on SQLite and PostgreSQL."""

from datetime import date

from tests.conftest import minimum_requests, run_backfill, stored_rows, truth_rows
from titan_dagster.emulator import Fault
from titan_dagster.timeframes import DAY_MS, day_start_ms

KLINES = "/api/v3/klines"
FIRST, LAST = date(2022, 1, 1), date(2023, 12, 31)
START, END = day_start_ms(FIRST), day_start_ms(LAST) + DAY_MS
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
TIMEFRAMES = ["1d", "1h"]


def test_two_years_of_three_symbols_equal_the_exchange_in_minimum_requests(emulator, warehouse):
    emulator.add_symbol("SOL/USDT", "2022-06-15T10:00:00")  # listed inside the range
    emulator.clear_requests()

    outcomes = run_backfill(emulator, warehouse, SYMBOLS, TIMEFRAMES, FIRST, LAST)

    assert {s: o.error for s, o in outcomes.items()} == dict.fromkeys(SYMBOLS)
    for symbol in SYMBOLS:
        for timeframe in TIMEFRAMES:
            truth = truth_rows(emulator, symbol, timeframe, START, END)
            assert len(truth) > 0
            assert stored_rows(warehouse, symbol, timeframe) == truth
            expected = minimum_requests(truth[0][0], timeframe, END)
            assert emulator.count(KLINES, symbol=symbol, interval=timeframe) == expected
            assert outcomes[symbol].timeframes[timeframe].requests == expected
    # 730 days x 24 h: 17520 candles = 18 pages; SOL from its listing hour only.
    assert emulator.count(KLINES, symbol="BTC/USDT", interval="1h") == 18
    assert outcomes["SOL/USDT"].timeframes["1h"].days_completed == 730


def test_second_identical_backfill_makes_no_request_and_changes_nothing(emulator, warehouse):
    emulator.add_symbol("SOL/USDT", "2022-06-15T10:00:00")
    run_backfill(emulator, warehouse, SYMBOLS, TIMEFRAMES, FIRST, LAST)
    before = {(s, tf): stored_rows(warehouse, s, tf) for s in SYMBOLS for tf in TIMEFRAMES}
    emulator.clear_requests()

    outcomes = run_backfill(emulator, warehouse, SYMBOLS, TIMEFRAMES, FIRST, LAST)

    assert emulator.count(KLINES) == 0
    assert all(o.timeframes[tf].days_skipped == 730 and o.timeframes[tf].candles_written == 0
               for o in outcomes.values() for tf in TIMEFRAMES)
    assert {(s, tf): stored_rows(warehouse, s, tf) for s in SYMBOLS for tf in TIMEFRAMES} == before


def test_days_before_listing_are_complete_and_empty(emulator, warehouse):
    emulator.add_symbol("SOL/USDT", "2022-06-15T10:00:00")
    run_backfill(emulator, warehouse, ["SOL/USDT"], ["1h"], FIRST, LAST)

    complete = warehouse.complete_days("binance", "SOL/USDT", "1h", FIRST, LAST)
    assert len(complete) == 730
    frame = warehouse.read_candles("binance", "SOL/USDT", "1h")
    assert frame["ts"].iloc[0].isoformat() == "2022-06-15T10:00:00+00:00"


def test_exchange_side_hole_is_neither_filled_nor_refetched(emulator, warehouse):
    hole = (day_start_ms(date(2023, 3, 1)) + 5 * 3_600_000, day_start_ms(date(2023, 3, 3)))
    emulator.add_hole("BTC/USDT", *hole)
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, LAST)

    stored = stored_rows(warehouse, "BTC/USDT", "1h")
    assert stored == truth_rows(emulator, "BTC/USDT", "1h", START, END)
    assert not [row for row in stored if hole[0] <= row[0] < hole[1]]
    assert len(stored) == 730 * 24 - 43
    emulator.clear_requests()
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, LAST)
    assert emulator.count(KLINES) == 0


def test_empty_page_inside_history_is_retried_not_taken_as_the_end(emulator, warehouse):
    # ccxt turns a 200 with an HTML body into [] without raising.
    emulator.inject(Fault("html200"), count=2, symbol="BTC/USDT")
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, LAST)

    assert stored_rows(warehouse, "BTC/USDT", "1h") == truth_rows(emulator, "BTC/USDT", "1h",
                                                                   START, END)
    assert emulator.count(KLINES, symbol="BTC/USDT") == 18 + 2


def test_exchange_faults_are_retried_and_lose_nothing(emulator, warehouse):
    emulator.inject(Fault("status", status=503), count=1, symbol="ETH/USDT")
    emulator.inject(Fault("html", status=502), count=1, symbol="ETH/USDT")
    emulator.inject(Fault("drop"), count=1, symbol="ETH/USDT")
    run_backfill(emulator, warehouse, ["ETH/USDT"], ["1d", "1h"], FIRST, LAST)

    for timeframe in ("1d", "1h"):
        assert stored_rows(warehouse, "ETH/USDT", timeframe) == truth_rows(
            emulator, "ETH/USDT", timeframe, START, END)
    assert emulator.count(KLINES, symbol="ETH/USDT") == 1 + 18 + 3


def test_unknown_symbol_fails_by_name_while_the_others_are_stored(emulator, warehouse):
    outcomes = run_backfill(emulator, warehouse, ["BTC/USDT", "NOPE/USDT"], ["1d"], FIRST, LAST)

    assert "NOPE/USDT" in str(outcomes["NOPE/USDT"].error)
    assert "binance" in str(outcomes["NOPE/USDT"].error)
    assert outcomes["BTC/USDT"].error is None
    assert len(stored_rows(warehouse, "BTC/USDT", "1d")) == 730
    assert emulator.count(KLINES, symbol="NOPE/USDT") == 0


def test_a_corrected_candle_replaces_the_stored_one(emulator, warehouse):
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1d"], FIRST, FIRST)
    emulator.set_candle("BTC/USDT", "1d", START, high="12345.67890000", close="12345.67890000")
    # A correction reaches the warehouse when the day is fetched again.
    warehouse.engine.dispose()
    with warehouse.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM ohlcv_complete_days")
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1d"], FIRST, FIRST)

    rows = stored_rows(warehouse, "BTC/USDT", "1d")
    assert len(rows) == 1
    assert str(rows[0][4]) == "12345.6789"


def test_a_hole_at_the_end_of_a_window_costs_one_request_and_not_the_page_size(
        emulator, warehouse, caplog):
    # The last three hours of the range are missing: the window's answer is short there and
    # the request after it finds candles only after the hole. That is no page cap.
    emulator.add_hole("BTC/USDT", END - 3 * 3_600_000, END)
    emulator.clear_requests()
    with caplog.at_level("INFO"):
        outcome = run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, LAST)
    assert outcome["BTC/USDT"].error is None
    assert not [r for r in caplog.records if "pages hold at most" in r.message]
    # 18 pages (the last one filled up with candles from after the hole) and one targeted
    # re-request of the hole.
    assert emulator.count(KLINES) == 18 + 1
    assert warehouse.exchange_gaps("binance", "BTC/USDT", "1h", START, END) == \
        [(END - 3 * 3_600_000, END)]
