"""Today's partition: closed candles, the still-open one marked as such, one request each."""

from datetime import UTC, date, datetime

import pytest

from tests.conftest import run_backfill
from titan_dagster.ingest.backfill import SETTLE_MS, settle_wait_s
from titan_dagster.timeframes import day_start_ms, floor_ms, now_ms

KLINES = "/api/v3/klines"


def test_today_stores_the_open_candle_as_not_closed_in_one_request_per_timeframe(
        emulator, warehouse):
    today = datetime.now(UTC).date()
    emulator.clear_requests()
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1d", "1h"], today, today)
    assert emulator.count(KLINES) == 2
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1m"], today, today)

    for timeframe, step in (("1d", 86_400_000), ("1h", 3_600_000), ("1m", 60_000)):
        frame = warehouse.read_candles("binance", "BTC/USDT", timeframe, include_open=True)
        newest = frame.iloc[-1]
        assert not newest["closed"]
        assert int(newest["ts"].timestamp() * 1000) >= floor_ms(now_ms(), step) - step
        closed = warehouse.read_candles("binance", "BTC/USDT", timeframe)
        assert len(closed) == frame["closed"].sum()
    assert warehouse.complete_days("binance", "BTC/USDT", "1h", today, today) == set()



MINUTE = 60_000
DAY = date(2026, 3, 1)
CLOSE = day_start_ms(DAY) + 600 * MINUTE  # 10:00, a 1m candle closes


@pytest.mark.parametrize(("after_close_ms", "wait_s"), [(0, 5.0), (1_500, 3.5), (4_999, 0.001),
                                                        (SETTLE_MS, 0.0), (30_000, 0.0)])
def test_a_run_right_after_a_close_waits_for_that_candle_to_settle(after_close_ms, wait_s):
    assert settle_wait_s(CLOSE + after_close_ms, MINUTE, DAY) == pytest.approx(wait_s)


def test_a_window_that_ends_before_the_just_closed_candle_does_not_wait():
    midnight = day_start_ms(DAY)
    # Yesterday's last candle closed at midnight: a window up to yesterday waits for it ...
    assert settle_wait_s(midnight + 1_000, MINUTE, date(2026, 2, 28)) == 4.0
    # ... but not a window of older days, nor a 1h one a minute after the hour's close.
    assert settle_wait_s(midnight + 1_000, MINUTE, date(2026, 2, 27)) == 0.0
    assert settle_wait_s(CLOSE + MINUTE + 1_000, 3_600_000, DAY) == 0.0
