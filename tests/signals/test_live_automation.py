"""Live strategies under declarative automation: the cron of each timeframe's closes, and
the condition evaluated as the automation sensor does, tick by tick, against refreshes of
the candles it reads."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from tests.signals.test_strategy_runs import STRATEGY
from titan_dagster.config.strategies import StrategySettings
from titan_dagster.defs.ohlcv.assets import ohlcv_asset_key
from titan_dagster.defs.ohlcv.partitions import daily_partitions
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.defs.signals.assets import build_strategy_assets, signal_asset_keys
from titan_dagster.defs.signals.automation import close_cron

MINUTE, HOUR = 60_000, 3_600_000


@pytest.mark.parametrize(("step", "offset", "cron"), [
    (MINUTE, 0, "* * * * *"),
    (15 * MINUTE, 0, "0,15,30,45 * * * *"),
    (HOUR, 0, "0 * * * *"),
    (HOUR, 30 * MINUTE, "30 * * * *"),  # NYSE hours open at 09:30 New York
    (4 * HOUR, 0, "0 0,4,8,12,16,20 * * *"),
    (24 * HOUR, 0, "0 0 * * *"),
    (24 * HOUR, 22 * HOUR, "0 22 * * *"),
    (45 * MINUTE, 0, "* * * * *"),  # no hours x minutes product: every minute
])
def test_the_cron_ticks_at_every_close(step, offset, cron):
    assert close_cron(step, offset) == cron


def requested(result) -> dict:
    return {r.key: set(r.true_subset.expensively_compute_partition_keys())
            for r in result.results if r.true_subset.size}


def test_today_runs_once_per_close_after_the_refresh_stored_candles(sqlite_url):
    # Yesterday's 10:00, so every evaluation below is in the past, as the events it reads
    # are: with a 10:00 still to come, the test failed every night before 10:00 UTC.
    today = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=0, second=0,
                                                            microsecond=0)
    day = today.date().isoformat()
    strategy = StrategySettings(**{**STRATEGY.__dict__, "symbols": ("BTC/USDT",)})
    assets = build_strategy_assets(strategy, daily_partitions(today.date() - timedelta(30)))
    candles = dg.AssetSpec(ohlcv_asset_key("binance", "BTC/USDT"),
                           partitions_def=daily_partitions(today.date() - timedelta(30)))
    signals, outcomes, backtests, performance = signal_asset_keys(strategy.name)
    checks = [dg.AssetCheckKey(signals, "no_lookahead"),
              dg.AssetCheckKey(performance, "strategy_not_degraded")]
    defs = dg.Definitions(assets=[assets, candles],
                          resources={"warehouse": WarehouseResource(database_url=sqlite_url)})
    with dg.instance_for_test() as instance:
        cursor = None

        def tick(at: datetime, refreshed: bool):
            nonlocal cursor
            if refreshed:
                instance.report_runless_asset_event(dg.AssetMaterialization(
                    candles.key, partition=day))
            result = dg.evaluate_automation_conditions(
                defs=defs, instance=instance, evaluation_time=at, cursor=cursor)
            cursor = result.cursor
            return requested(result)

        assert tick(today - timedelta(minutes=1, seconds=50), refreshed=True) == {}
        # The 10:00 close: nothing until the refresh has stored a candle since it.
        assert tick(today + timedelta(seconds=5), refreshed=False) == {}
        assert tick(today + timedelta(seconds=35), refreshed=True) == {
            signals: {day}, outcomes: {day}, performance: {day},  # never backtests
            **{check: {day} for check in checks}}
        # Refreshes in the same hour change nothing for a 1h strategy.
        assert tick(today + timedelta(minutes=1, seconds=5), refreshed=True) == {}
        assert tick(today + timedelta(minutes=30), refreshed=True) == {}
        assert tick(today + timedelta(hours=1, seconds=40), refreshed=True) == {
            signals: {day}, outcomes: {day}, performance: {day},
            **{check: {day} for check in checks}}
        assert backtests not in tick(today + timedelta(hours=2, seconds=40), refreshed=True)


def test_an_inactive_strategy_has_no_live_condition():
    strategy = StrategySettings(**{**STRATEGY.__dict__, "active": False})
    assets = build_strategy_assets(strategy, daily_partitions(datetime(2024, 1, 1).date()))
    assert all(spec.automation_condition is None for spec in assets.specs)


def test_a_1m_strategy_runs_after_every_close_even_when_its_last_run_ends_at_a_close(
        sqlite_url):
    """The sensor ticks every 30 s: a live run requested in the second half of a minute
    ends before the next close but is seen (newly updated) at the same evaluation as that
    close's cron tick. That must not use up the close."""
    # Yesterday's 10:00, so every evaluation below is in the past, as the events it reads
    # are: with a 10:00 still to come, the test failed every night before 10:00 UTC.
    today = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=0, second=0,
                                                            microsecond=0)
    day = today.date().isoformat()
    strategy = StrategySettings(**{**STRATEGY.__dict__, "symbols": ("BTC/USDT",),
                                   "timeframe": "1m"})
    partitions = daily_partitions(today.date() - timedelta(30))
    assets = build_strategy_assets(strategy, partitions)
    candles = dg.AssetSpec(ohlcv_asset_key("binance", "BTC/USDT"), partitions_def=partitions)
    signals, outcomes, _, performance = signal_asset_keys(strategy.name)
    defs = dg.Definitions(assets=[assets, candles],
                          resources={"warehouse": WarehouseResource(database_url=sqlite_url)})
    with dg.instance_for_test() as instance:
        cursor = None

        def tick(at: datetime, *materialized: dg.AssetKey):
            nonlocal cursor
            for key in materialized:
                instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=day))
            result = dg.evaluate_automation_conditions(
                defs=defs, instance=instance, evaluation_time=at, cursor=cursor)
            cursor = result.cursor
            return requested(result).get(signals)

        live = (signals, outcomes, performance)
        assert tick(today - timedelta(seconds=29), candles.key) is None
        assert tick(today + timedelta(seconds=1)) is None  # the refresh is not done yet
        assert tick(today + timedelta(seconds=31), candles.key) == {day}
        # Its run ended at 10:00:45; the 10:01 close's refresh has not stored anything yet.
        assert tick(today + timedelta(minutes=1, seconds=1), *live) is None
        assert tick(today + timedelta(minutes=1, seconds=31), candles.key) == {day}
        assert tick(today + timedelta(minutes=2, seconds=1), *live) is None
        assert tick(today + timedelta(minutes=2, seconds=31), candles.key) == {day}
