"""A new strategy version's history: one range run, once, when the candles it reads are
settled, with the daemon's part (evaluate the sensor, launch what it asks) done by hand."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from tests.conftest import binance_settings, run_backfill
from tests.signals.test_strategy_runs import STRATEGY
from titan_dagster.config.model import TitanConfig
from titan_dagster.defs.ohlcv.partitions import daily_partitions
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.defs.signals.assets import build_strategy_assets, signal_asset_keys
from titan_dagster.defs.signals.automation import build_history_sensor

TODAY = datetime.now(UTC).date()
START = TODAY - timedelta(days=4)
YESTERDAY = TODAY - timedelta(days=1)


def history_sensor(emulator, *strategies):
    settings = binance_settings(emulator, list(STRATEGY.symbols), ["1h"])
    config = TitanConfig(Path("titan.yaml"), START, (settings,), strategies=strategies)
    return build_history_sensor(config, {s.name: list(signal_asset_keys(s.name))
                                         for s in strategies})


def tick(sensor, instance, warehouse_url):
    with dg.build_sensor_context(instance=instance, resources={
            "warehouse": WarehouseResource(database_url=warehouse_url)}) as context:
        return sensor(context)


def test_the_history_runs_once_the_candles_are_settled_as_one_range_run(emulator,
                                                                        warehouse_url,
                                                                        warehouse):
    sensor = history_sensor(emulator, STRATEGY)
    with dg.instance_for_test() as instance:
        waiting = tick(sensor, instance, warehouse_url)
        assert waiting.skip_message == ("waiting for complete candles: btc_sma_cross "
                                        "(BTC/USDT, ETH/USDT)")
        run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], START, YESTERDAY)
        assert tick(sensor, instance, warehouse_url).skip_message.endswith("(ETH/USDT)")

        run_backfill(emulator, warehouse, ["ETH/USDT"], ["1h"], START, YESTERDAY)
        (request,) = tick(sensor, instance, warehouse_url).run_requests
        assert request.run_key == f"strategy-history:btc_sma_cross:{STRATEGY.version}"
        assert request.asset_selection == list(signal_asset_keys("btc_sma_cross"))
        assert (request.tags["dagster/asset_partition_range_start"],
                request.tags["dagster/asset_partition_range_end"]) == (START.isoformat(),
                                                                       TODAY.isoformat())
        result = dg.materialize(
            [build_strategy_assets(STRATEGY, daily_partitions(START))], instance=instance,
            selection=request.asset_selection, tags=request.tags,
            resources={"warehouse": WarehouseResource(database_url=warehouse_url)})
        assert result.success
        assert len(instance.get_runs()) == 1
        signals = signal_asset_keys("btc_sma_cross")[0]
        assert len(instance.get_materialized_partitions(signals)) == 5  # START to today


def test_an_edited_strategy_is_a_new_run_key_and_an_inactive_one_none(emulator,
                                                                     warehouse_url,
                                                                     warehouse):
    run_backfill(emulator, warehouse, list(STRATEGY.symbols), ["1h"], START, YESTERDAY)
    edited = replace(STRATEGY, params={"fast": 3, "slow": 20})
    resting = replace(STRATEGY, name="resting", active=False)
    with dg.instance_for_test() as instance:
        keys = [r.run_key for r in tick(history_sensor(emulator, edited, resting), instance,
                                        warehouse_url).run_requests]
    assert keys == [f"strategy-history:btc_sma_cross:{edited.version}"]
    assert edited.version != STRATEGY.version
