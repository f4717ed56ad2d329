"""Live against backtest: the record's figures, the degradation rule at its edges, the
record as of each day, and the strategy_performance rows a run writes on both backends."""

from datetime import date, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from tests.conftest import run_backfill
from tests.signals.test_strategy_runs import STRATEGY
from titan_dagster.config.strategies import StrategySettings
from titan_dagster.signals.performance import judge, performance_by_day, record
from titan_dagster.signals.runs import run_range
from titan_dagster.timeframes import DAY_MS, day_start_ms


def test_a_record_scores_r_in_the_order_trades_closed():
    r = record(np.array([1.0, -1.0, -1.0, 2.0, -0.5, 0.0]))
    assert (r.trades, r.wins) == (6, 2)
    assert r.win_rate == pytest.approx(2 / 6)  # the breakeven counts in N, not as a win
    assert r.expectancy_r == pytest.approx(0.5 / 6)
    assert r.profit_factor == pytest.approx(3 / 2.5)
    assert r.max_drawdown_r == pytest.approx(2.0)  # from +1 down to -1
    assert r.std_r == pytest.approx(np.std([1, -1, -1, 2, -0.5, 0], ddof=1))


def test_an_empty_or_lossless_record_has_no_ratio_to_invent():
    empty = record(np.array([]))
    assert (empty.trades, empty.win_rate, empty.expectancy_r, empty.profit_factor,
            empty.max_drawdown_r, empty.std_r) == (0, None, None, None, 0.0, None)
    assert record(np.array([1.0, 2.0])).profit_factor is None
    assert record(np.array([-1.0])).max_drawdown_r == 1.0


BACKTEST = record(np.tile([2.0, -1.0, 1.0, -1.0], 25))  # 100 trades, +0.25R, 50% wins


def test_no_flag_before_enough_trades_on_either_side():
    losing = record(np.full(19, -1.0))
    verdict = judge(losing, BACKTEST, 20)
    assert not verdict.degraded and "19 of 20 live trades" in verdict.reason
    short_backtest = record(np.array([1.0] * 10))
    verdict = judge(record(np.full(30, -1.0)), short_backtest, 20)
    assert not verdict.degraded and "backtest before going live has 10" in verdict.reason
    assert verdict.expectancy_floor_r is None


def test_a_losing_live_record_is_degraded_at_the_nth_trade_and_names_why():
    verdict = judge(record(np.full(20, -1.0)), BACKTEST, 20)
    assert verdict.degraded
    assert "live expectancy -1.000R over 20 trades" in verdict.reason
    assert "win rate 0.0%" in verdict.reason
    assert verdict.expectancy_floor_r < BACKTEST.expectancy_r


def test_a_live_record_like_the_backtest_is_not_degraded():
    verdict = judge(record(np.tile([2.0, -1.0, 1.0, -1.0], 6)), BACKTEST, 20)
    assert not verdict.degraded and verdict.reason.startswith("within the backtest")


def test_the_floor_is_two_standard_errors_of_the_difference():
    live = record(np.tile([1.0, -1.0], 20))
    verdict = judge(live, BACKTEST, 20)
    se = np.sqrt(BACKTEST.std_r ** 2 / 100 + live.std_r ** 2 / 40)
    assert verdict.expectancy_floor_r == pytest.approx(0.25 - 2 * se)
    # Just under the floor is degraded, with the same spread.
    shift = verdict.expectancy_floor_r - 1e-6
    verdict = judge(record(np.tile([1.0, -1.0], 20) + shift), BACKTEST, 20)
    assert verdict.degraded and "expectancy" in verdict.reason


def test_rounding_alone_is_not_degradation():
    # Every trade hit its target on both sides: the engine's r_net of such trades differ in
    # the last bits (a pct stop's R is a fraction of each trade's own price), and with no
    # spread the floor is the backtest's mean itself.
    backtest = record(np.full(11, 0.9256666666666667))
    verdict = judge(record(np.full(8, 0.9256666666666665)), backtest, 6)
    assert not verdict.degraded and verdict.reason.startswith("within the backtest")
    assert judge(record(np.full(8, 0.9256)), backtest, 6).degraded


def test_the_record_as_of_a_day_counts_only_trades_closed_by_its_end():
    day0 = date(2024, 1, 1)
    at = day_start_ms(day0)
    live_since = at + 2 * DAY_MS
    # Two backtest trades, then live trades closing on days 2, 3 and 3.
    signal_ts = np.array([at, at + DAY_MS, live_since, live_since + DAY_MS, live_since + 3600e3])
    closed_ts = np.array([at + 1, at + DAY_MS + 1, live_since + 10, live_since + DAY_MS + 5,
                          live_since + DAY_MS + 6]).astype(np.int64)
    r_net = np.array([1.0, 1.0, -1.0, -1.0, 2.0])
    days = [day0 + timedelta(days=n) for n in range(2, 5)]
    out = performance_by_day(signal_ts.astype(np.int64), closed_ts, r_net, live_since, days, 2)
    assert [p.live.trades for p in out] == [1, 3, 3]
    assert all(p.backtest.trades == 2 for p in out)
    assert out[0].verdict.reason.startswith("not judged yet: 1 of 2")
    # A trade closing exactly at midnight belongs to the day that ends there.
    edge = performance_by_day(np.array([live_since]), np.array([live_since + DAY_MS]),
                              np.array([1.0]), live_since, [days[0]], 2)
    assert edge[0].live.trades == 1


def test_a_run_writes_the_record_as_of_each_live_day(emulator, warehouse):
    first, last = date(2024, 1, 1), date(2024, 2, 29)
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], first, last)
    live_since = day_start_ms(date(2024, 2, 1))
    strategy = StrategySettings(**{**STRATEGY.__dict__, "symbols": ("BTC/USDT",),
                                   "live_since": live_since, "min_live_trades": 5})
    run = run_range(strategy, warehouse, "BTC/USDT", first, last, backtest=False)
    assert run.live_since == live_since
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT as_of, live_trades, backtest_trades, degraded, reason, live_expectancy_r "
            "FROM strategy_performance ORDER BY as_of")).all()
    assert len(rows) == 29  # February, the days since going live
    assert str(rows[0][0]) == "2024-02-01" and str(rows[-1][0]) == "2024-02-29"
    live = [row[1] for row in rows]
    assert live == sorted(live) and live[-1] == run.performance.live.trades > 5
    assert rows[-1][2] == run.performance.backtest.trades
    assert rows[-1][5] == pytest.approx(run.performance.live.expectancy_r)
    judged = [row for row in rows if row[1] >= 5]
    assert judged and all(not row[4].startswith("not judged yet") for row in judged)
    # A second run of the same range replaces the rows, it does not add to them.
    run_range(strategy, warehouse, "BTC/USDT", first, last, backtest=False)
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM strategy_performance")).scalar() == 29


def test_live_since_is_the_first_active_record_unless_the_config_says(warehouse):
    from titan_dagster.warehouse.signal_store import SignalStore

    store = SignalStore(warehouse)
    args = ("s", "v1", "sma_cross", {}, {}, "binance", "1h")
    assert store.record_strategy(*args, active=False) is None
    first = store.record_strategy(*args, active=True)
    assert first is not None
    assert store.record_strategy(*args, active=True) == first  # kept, not moved on
    assert store.record_strategy(*args, active=True, live_since=1_700_000_000_000) \
        == 1_700_000_000_000
