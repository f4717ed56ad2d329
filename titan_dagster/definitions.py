"""The titan_dagster code location: `dagster dev` and `dagster asset materialize -m
titan_dagster.definitions` load this. Reads titan.yaml (or $TITAN_CONFIG) at load, so a
config error shows up here, naming the file, the field and the value."""

import os

import dagster as dg

from titan_dagster.config import load_config
from titan_dagster.dagster_env import apply_bookkeeping_settings
from titan_dagster.defs.automation.heal_sensor import build_heal_sensor
from titan_dagster.defs.automation.housekeeping import housekeeping_schedule, titan_housekeeping
from titan_dagster.defs.automation.refresh import build_refresh_schedule, refresh_job
from titan_dagster.defs.ohlcv.assets import build_ohlcv_assets
from titan_dagster.defs.ohlcv.jobs import ohlcv_history_job
from titan_dagster.defs.ohlcv.partitions import daily_partitions
from titan_dagster.defs.quality.gap_report import build_gap_report
from titan_dagster.defs.resources import ExchangeResource, WarehouseResource
from titan_dagster.defs.signals.assets import build_strategy_assets, signal_asset_keys
from titan_dagster.defs.signals.automation import build_automation_sensor, build_history_sensor
from titan_dagster.warehouse import default_database_url

apply_bookkeeping_settings()
config = load_config()
partitions = daily_partitions(config.start)
warehouse_kind = "postgres" if default_database_url().startswith("postgres") else "sqlite"

refresh_jobs = [refresh_job(exchange) for exchange in config.exchanges]
strategy_keys = {strategy.name: signal_asset_keys(strategy.name) for strategy in config.strategies}
live_keys = [key for strategy in config.strategies if strategy.active
             for key in strategy_keys[strategy.name] if key.path[0] != "backtests"]

defs = dg.Definitions(
    assets=[*(build_ohlcv_assets(exchange, partitions, warehouse_kind, config.max_price_jump)
              for exchange in config.exchanges),
            build_gap_report(config),
            *(build_strategy_assets(strategy, partitions) for strategy in config.strategies)],
    sensors=[build_heal_sensor(config),
             build_automation_sensor(dg.AssetSelection.assets(*live_keys)),
             build_history_sensor(config, {name: list(keys) for name, keys in
                                           strategy_keys.items()})],
    schedules=[*(build_refresh_schedule(exchange, job)
                 for exchange, job in zip(config.exchanges, refresh_jobs, strict=True)),
               housekeeping_schedule],
    jobs=[ohlcv_history_job, *refresh_jobs, titan_housekeeping],
    # A run's steps in the run's own process: no second process to start and load this code
    # location in (seconds per run). The sensors' and schedules' runs are per exchange, and a
    # step fetches its symbols concurrently; ad-hoc runs over several exchanges fetch them
    # one after another, except with ohlcv_history, which runs a process per exchange.
    executor=dg.in_process_executor,
    resources={
        "warehouse": WarehouseResource.from_env(os.environ),
        "exchanges": ExchangeResource(),
    },
)
