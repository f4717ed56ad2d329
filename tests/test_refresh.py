"""Today's partition: closed candles, the still-open one marked as such, one request each."""

from datetime import UTC, datetime

from tests.conftest import run_backfill
from titan_dagster.timeframes import floor_ms, now_ms

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

