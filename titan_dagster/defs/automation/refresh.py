"""The minute refresh: every minute, one run per exchange materializes today's partition of
all its symbols (and, in the first hour after midnight, finishes yesterday's)."""

from datetime import timedelta

import dagster as dg

from titan_dagster.calendars import calendar_of
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.defs.automation.lanes import LANE_TAG, refresh_lane, run_active
from titan_dagster.defs.ohlcv.assets import REFRESH_SHARE, ohlcv_asset_key
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.ingest.source import paging_of_source
from titan_dagster.timeframes import timeframe_ms, to_ms

MINUTE_MS = 60_000

# After midnight, yesterday's last candles close; the refresh finishes the day in this time,
# after which any leftover is the heal sensor's.
FINISH_YESTERDAY_FOR = timedelta(hours=1)


def refresh_job(exchange: ExchangeSettings):
    return dg.define_asset_job(
        f"ohlcv_refresh_{exchange.name}",
        # Of the checks only freshness: each check a minute adds event-log rows, and the
        # others judge history, which backfills and heal runs check.
        selection=dg.AssetSelection.groups(exchange.name).without_checks()
        | dg.AssetSelection.checks(*(dg.AssetCheckKey(ohlcv_asset_key(exchange.name, s), "fresh")
                                     for s in exchange.symbols)),
        executor_def=dg.in_process_executor,  # no step subprocess: a refresh must be cheap
        config=refresh_run_config(exchange),
        tags=refresh_lane(exchange.name),
        description=f"Today's {exchange.name} candles, every minute, within "
                    f"{REFRESH_SHARE:.0%} of the exchange's request budget.",
    )


def refresh_run_config(exchange: ExchangeSettings, timeframes: list[str] | None = None) -> dict:
    config: dict = {"budget_share": REFRESH_SHARE}
    if exchange.archive_url:
        config["archives"] = False  # today is in no archive file yet
    if timeframes:
        config["timeframes"] = timeframes
    return {"ops": {f"ohlcv_{exchange.name}": {"config": config}}}


def closed_at(exchange: ExchangeSettings, tick: int) -> dict[str, list[str]]:
    """Timeframe -> the symbols with a candle of it that closed in the minute up to `tick`,
    by each symbol's market calendar."""
    due: dict[str, list[str]] = {}
    for timeframe in exchange.timeframes:
        step = timeframe_ms(timeframe)
        symbols = [symbol for symbol in exchange.symbols
                   if calendar_of(exchange.name, symbol).expected(tick - MINUTE_MS - step + 1,
                                                                   tick - step + 1, step)]
        if symbols:
            due[timeframe] = symbols
    return due


def build_refresh_schedule(exchange: ExchangeSettings,
                           job) -> dg.ScheduleDefinition:
    @dg.schedule(name=f"ohlcv_refresh_{exchange.name}_every_minute", cron_schedule="* * * * *",
                 job=job, execution_timezone="UTC",
                 default_status=dg.DefaultScheduleStatus.RUNNING)
    def refresh(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
        if run_active(context.instance, {LANE_TAG: refresh_lane(exchange.name)[LANE_TAG]}):
            return dg.SkipReason(f"the previous {exchange.name} refresh is still running")
        tick = context.scheduled_execution_time
        run_config, symbols = refresh_run_config(exchange), exchange.symbols
        if not paging_of_source(exchange.name).open_candles:
            # A source without open candles (Twelve Data, a credit a request) has nothing
            # new until one of its candles closes: only those symbols and timeframes run.
            due = closed_at(exchange, to_ms(tick))
            if not due:
                return dg.SkipReason(f"no {exchange.name} candle closed at {tick:%H:%M}")
            run_config = refresh_run_config(exchange, list(due))
            symbols = [s for s in exchange.symbols if any(s in d for d in due.values())]
        today, yesterday = tick.date(), tick.date() - timedelta(days=1)
        since_midnight = tick - tick.replace(hour=0, minute=0, second=0, microsecond=0)
        first = today
        if since_midnight < FINISH_YESTERDAY_FOR and not warehouse.warehouse.day_complete(
                exchange.name, exchange.symbols, exchange.timeframes, yesterday):
            first = yesterday
        return dg.RunRequest(
            run_key=f"refresh:{exchange.name}:{tick:%Y-%m-%dT%H:%M}",
            run_config=run_config,  # a request's config replaces the job's
            asset_selection=[ohlcv_asset_key(exchange.name, s) for s in symbols],
            asset_check_keys=[dg.AssetCheckKey(ohlcv_asset_key(exchange.name, s), "fresh")
                              for s in symbols],
            tags={**refresh_lane(exchange.name),
                  "dagster/asset_partition_range_start": first.isoformat(),
                  "dagster/asset_partition_range_end": today.isoformat()})

    return refresh
