"""Self-healing: re-materializes the days the warehouse does not hold completely, in range
runs, with run keys so nothing is requested twice, and at most MAX_ATTEMPTS runs per day."""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from titan_dagster.config.model import TitanConfig
from titan_dagster.defs.automation.lanes import backfill_lane, run_active
from titan_dagster.defs.ohlcv.assets import ohlcv_asset_key
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.quality.healing import attempt_key, incomplete_days, plan_heal_runs
from titan_dagster.timeframes import days_between

MAX_ATTEMPTS = 3
HEAL_TAG = "titan/heal"


def build_heal_sensor(config: TitanConfig) -> dg.SensorDefinition:
    @dg.sensor(
        name="ohlcv_heal",
        minimum_interval_seconds=300,
        target=dg.AssetSelection.key_prefixes("ohlcv"),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Finds closed days not completely in the warehouse (never fetched, "
                    "failed, unconfirmed holes; not the days an exchange no longer serves) "
                    f"and re-materializes them as range runs, at most {MAX_ATTEMPTS} times "
                    "per day.",
    )
    def ohlcv_heal(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        attempts: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
        yesterday = datetime.now(UTC).date() - timedelta(days=1)
        store = warehouse.warehouse
        requests, still_needed = [], set()
        for exchange in config.exchanges:
            needs = incomplete_days(store, exchange, config.start, yesterday)
            still_needed |= {attempt_key(exchange.name, day) for day in needs}
            if run_active(context.instance, {HEAL_TAG: exchange.name}):
                continue
            for run in plan_heal_runs(exchange.name, needs, attempts, MAX_ATTEMPTS):
                requests.append(dg.RunRequest(
                    run_key=f"heal:{run.exchange}:{run.first}:{run.last}:{run.attempt}",
                    asset_selection=[ohlcv_asset_key(run.exchange, s) for s in run.symbols],
                    tags={HEAL_TAG: run.exchange, **backfill_lane(run.exchange),
                          "dagster/asset_partition_range_start": run.first.isoformat(),
                          "dagster/asset_partition_range_end": run.last.isoformat()}))
                for day in days_between(run.first, run.last):
                    key = attempt_key(run.exchange, day)
                    attempts[key] = attempts.get(key, 0) + 1
        # Days that became complete are forgotten, so the cursor stays small.
        attempts = {key: n for key, n in attempts.items() if key in still_needed}
        given_up = sum(1 for n in attempts.values() if n >= MAX_ATTEMPTS)
        if given_up:
            context.log.warning(f"{given_up} days still incomplete after {MAX_ATTEMPTS} runs; "
                                "see the no_gaps and valid_candles checks")
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(attempts))

    return ohlcv_heal

