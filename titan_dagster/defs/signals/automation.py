"""Strategies live without a human: declarative automation runs today's signals, outcomes
and performance once a candle of the strategy's timeframe has closed and the refresh has
stored it, and a sensor runs a new strategy version's whole history once, as one range run,
when the candles it reads are complete."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from titan_dagster.calendars import calendar_of
from titan_dagster.config.model import TitanConfig
from titan_dagster.config.strategies import StrategySettings
from titan_dagster.defs.automation.lanes import EPHEMERAL_TAG, LANE_TAG
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.timeframes import DAY_MS, timeframe_ms

MINUTE_MS = 60_000
EVERY_MINUTE = "* * * * *"


def close_cron(step: int, offset: int) -> str:
    """A cron that ticks at every close of a candle of `step` on the grid `offset + k * step`
    (every minute where the closes are not an hours x minutes product, as for 45m)."""
    closes = {(offset + k * step) % DAY_MS // MINUTE_MS for k in range(DAY_MS // step)}
    minutes, hours = sorted({m % 60 for m in closes}), sorted({m // 60 for m in closes})
    if len(minutes) * len(hours) != len(closes):
        return EVERY_MINUTE
    return " ".join([_field(minutes, 60), _field(hours, 24), "*", "*", "*"])


def _field(values: list[int], size: int) -> str:
    return "*" if len(values) == size else ",".join(map(str, values))


def live_condition(strategy: StrategySettings) -> dg.AutomationCondition:
    """Today's partition, once per candle close of the strategy's timeframe (on each symbol's
    calendar), after the refresh has stored a candle since that close and finished: the
    signal of a closed candle, and the outcomes it moves, follow within a refresh and a
    sensor tick. One refreshed symbol is enough, so a market that closed does not hold back
    the others."""
    step = timeframe_ms(strategy.timeframe)
    crons = sorted({close_cron(step, calendar_of(strategy.source, symbol).offset(step))
                    for symbol in strategy.symbols})
    ticks = [dg.AutomationCondition.cron_tick_passed(cron, "UTC") for cron in crons]
    tick = ticks[0]
    for other in ticks[1:]:
        tick = tick | other
    tick = tick.with_label(f"a {strategy.timeframe} candle closed")
    # Reset by this condition's own requests only, not by updates: the live run requested
    # for one close can end (and be seen newly updated) at the evaluation that sees the next
    # close's tick, and a reset there would use that close up (a 1m strategy then ran after
    # every other close, whenever its runs were requested late in the minute).
    return (dg.AutomationCondition.in_latest_time_window()
            & tick.since(dg.AutomationCondition.newly_requested())
            & dg.AutomationCondition.any_deps_match(
                dg.AutomationCondition.newly_updated().since(tick)
                | dg.AutomationCondition.will_be_requested()).with_label("candles stored since")
            & ~dg.AutomationCondition.any_deps_in_progress()
            & ~dg.AutomationCondition.in_progress()
            ).with_label(f"live on {strategy.timeframe} closes")


LIVE_LANE = {LANE_TAG: "strategies/live", EPHEMERAL_TAG: "true"}


def build_automation_sensor(targets: dg.AssetSelection) -> dg.AutomationConditionSensorDefinition:
    """On by default, so `titan dev` or the daemon is all live strategies need. Its runs queue
    in one lane (one at a time on a small machine) and are deleted by housekeeping when old,
    like the minute refresh."""
    return dg.AutomationConditionSensorDefinition(
        "strategies_live", target=targets, run_tags=LIVE_LANE,
        default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=30,
        description="Runs each active strategy's signals, outcomes and performance of today "
                    "after each close of a candle of its timeframe.")


HISTORY_TAG = "titan/strategy-history"


def build_history_sensor(config: TitanConfig, asset_keys: dict[str, list[dg.AssetKey]]
                         ) -> dg.SensorDefinition:
    """`asset_keys`: strategy name -> the keys its history run materializes."""

    @dg.sensor(name="strategies_history", minimum_interval_seconds=60,
               target=dg.AssetSelection.assets(*(k for keys in asset_keys.values()
                                                 for k in keys)),
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Runs each active strategy version's signals, outcomes, backtests "
                           "and performance from the configured start to today, once per "
                           "version, as one range run, when every closed day of the candles "
                           "it reads is settled (stored or confirmed absent).")
    def strategies_history(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        today = datetime.now(UTC).date()
        yesterday = today - timedelta(days=1)
        days = (yesterday - config.start).days + 1
        store, requests, waiting = warehouse.warehouse, [], []
        for strategy in config.strategies:
            if not strategy.active:
                continue
            missing = [symbol for symbol in strategy.symbols
                       if len(store.settled_days(strategy.source, symbol, strategy.timeframe,
                                                 config.start, yesterday)) < days]
            if missing:
                waiting.append(f"{strategy.name} ({', '.join(missing)})")
                continue
            requests.append(dg.RunRequest(
                run_key=f"strategy-history:{strategy.name}:{strategy.version}",
                asset_selection=asset_keys[strategy.name],
                tags={HISTORY_TAG: strategy.name,
                      "dagster/asset_partition_range_start": config.start.isoformat(),
                      "dagster/asset_partition_range_end": today.isoformat()}))
        if not requests and waiting:
            return dg.SkipReason(f"waiting for complete candles: {'; '.join(waiting)}")
        return dg.SensorResult(run_requests=requests)

    return strategies_history

