"""Degradation end to end through Dagster: the emulator's market rises steadily until the
strategy goes live and falls steadily after, so the same trades that hit their targets in the
backtest hit their stops live. One range run of the strategy assets, on both backends, flags
that symbol in `strategy_performance` on the first day enough live trades have closed (and
not before), and the `strategy_not_degraded` check warns naming it; the symbols whose market
kept rising, or was left alone, are not flagged."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import numpy as np
import sqlalchemy as sa

from tests.conftest import run_backfill
from titan_dagster.config.strategies import StrategySettings
from titan_dagster.defs.ohlcv.partitions import daily_partitions
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.defs.signals.assets import build_strategy_assets, signal_asset_keys
from titan_dagster.emulator import BinanceEmulator
from titan_dagster.emulator.candles import turn
from titan_dagster.signals.model import RawSignals, Risk
from titan_dagster.timeframes import to_ms

FIRST, LAST = date(2024, 1, 1), date(2024, 1, 6)
LIVE = to_ms(datetime(2024, 1, 4, tzinfo=UTC))  # three days of backtest, three live
SLOPE = 0.05  # log price per hour: far steeper than the generated wander (<= ~3% a swing)
FALLS, RISES, PLAIN = "BTC/USDT", "ETH/USDT", "SOL/USDT"
MIN_LIVE_TRADES = 6
STRATEGY = StrategySettings(
    name="every_sixth", kind="tests.signals.test_degradation:every_kth", source="binance",
    symbols=(FALLS, RISES, PLAIN), timeframe="1h", params={"every": 6},
    # A 3% stop and a single 1R target: on a 5%/h trend the next hour decides either way.
    risk=Risk(stop_pct=0.03, tp1_r=1.0, tp2_r=2.0, tp1_fraction=1.0, max_hold_candles=24,
              fee_bps=10, slippage_bps=2),
    live_since=LIVE, min_live_trades=MIN_LIVE_TRADES)


def every_kth(candles, params):
    """Long at the close of every k-th candle of the clock (open time // step % k == k - 1),
    whatever the market does: 4 a day on 1h with k = 6."""
    k = params["every"]
    index = np.flatnonzero(candles.ts // candles.step % k == k - 1).astype(np.int64)
    return RawSignals(index=index, direction=np.ones(len(index), dtype=np.int8),
                      confidence=np.full(len(index), 0.5))


def rows(warehouse, query: str, **params) -> list[tuple]:
    with warehouse.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query), params).all()]


def test_live_outcomes_that_lose_are_flagged_once_enough_have_closed(warehouse_url, warehouse):
    # Level: the market starts where it would, peaks ~36x higher at LIVE, and is back by LAST.
    shapes = {FALLS: turn(LIVE, SLOPE, -SLOPE, level=SLOPE * 72),
              RISES: turn(LIVE, SLOPE, SLOPE, level=SLOPE * 72)}
    with BinanceEmulator({s: "2017-08-17" for s in STRATEGY.symbols}, shape=shapes) as emu:
        run_backfill(emu, warehouse, list(STRATEGY.symbols), ["1h"], FIRST, LAST)
    signals, outcomes, backtests, performance = signal_asset_keys(STRATEGY.name)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_strategy_assets(STRATEGY, daily_partitions(FIRST))], instance=instance,
            tags={"dagster/asset_partition_range_start": FIRST.isoformat(),
                  "dagster/asset_partition_range_end": LAST.isoformat()},
            resources={"warehouse": WarehouseResource(database_url=warehouse_url)})
        assert result.success
        assert len(instance.get_materialized_partitions(performance)) == 6
        assert len(instance.get_runs()) == 1  # the whole range, one run

    # The market did what it was told: targets before going live, stops after.
    statuses = rows(warehouse, "SELECT s.signal_ts < :live, o.status, count(*) FROM signals s "
                               "JOIN outcomes o ON o.signal_id = s.id WHERE s.symbol = :symbol "
                               "GROUP BY 1, 2 ORDER BY 1, 2",
                    live=datetime.fromtimestamp(LIVE / 1000, UTC), symbol=FALLS)
    assert {(bool(before), status) for before, status, _ in statuses} == {
        (True, "tp1"), (False, "stopped")}, statuses

    days = [FIRST + timedelta(n) for n in range(3, 6)]  # from the day it went live
    for symbol in STRATEGY.symbols:
        record = rows(warehouse, "SELECT as_of, live_trades, backtest_trades, degraded, reason "
                                 "FROM strategy_performance WHERE symbol = :symbol "
                                 "ORDER BY as_of", symbol=symbol)
        assert [date.fromisoformat(str(r[0])[:10]) for r in record] == days, symbol
        assert all(r[2] >= MIN_LIVE_TRADES for r in record)  # the backtest is judgeable
        waiting = [r for r in record if r[1] < MIN_LIVE_TRADES]
        judged = [r for r in record if r[1] >= MIN_LIVE_TRADES]
        assert waiting and judged and record == waiting + judged, record  # in that order
        for _, live_trades, _, degraded, reason in waiting:
            assert not degraded
            assert reason.startswith(f"not judged yet: {live_trades} of {MIN_LIVE_TRADES}")
        for _, live_trades, _, degraded, reason in judged:
            if symbol == FALLS:
                # Flagged on the first judged day and every day after.
                assert degraded
                assert reason.startswith(f"live expectancy -1.079R over {live_trades} trades "
                                         "is below "), reason
            else:
                assert not degraded and reason.startswith("within the backtest"), reason

    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    check = checks["strategy_not_degraded"]
    assert check.asset_key == performance
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.description.startswith(f"{FALLS}: live expectancy -1.079R over ")
    assert RISES not in check.description and PLAIN not in check.description
    assert check.metadata["degraded_symbols"].value == 1
    assert check.metadata["judged_symbols"].value == 3
    assert checks["no_lookahead"].passed
