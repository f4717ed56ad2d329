"""One OHLCV asset per (exchange, symbol); the symbols of an exchange compute in one step.

One step per exchange means one ccxt client, so every symbol shares the exchange's rate
limiter; one asset per symbol keeps Dagster's per-partition bookkeeping to one row pair per
symbol and day (../shared/notes/dagster.md), and lets a user select any subset.
"""

import time

import dagster as dg
from pydantic import Field

from titan_dagster.calendars import CRYPTO, calendar_of, has_volume
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.defs.ohlcv.checks import check_result, check_specs, evaluate
from titan_dagster.defs.ohlcv.metadata import materialization_metadata
from titan_dagster.defs.ohlcv.partitions import days_of_window
from titan_dagster.defs.ohlcv.table_schema import OHLCV_TABLE, ohlcv_columns
from titan_dagster.defs.resources import ExchangeResource, WarehouseResource
from titan_dagster.ingest.backfill import backfill
from titan_dagster.ingest.threaded import iterate_in_thread
from titan_dagster.sources.twelvedata.intervals import TWELVEDATA

# The minute refresh and the backfills share an exchange's requests_per_second like this,
# so that both run at once within the budget and a backfill never starves the refresh. The
# quarter left over absorbs jitter: a process busy writing Dagster events sends requests
# later than its pacer let them go, and they can then arrive closer together than paced.
REFRESH_SHARE = 0.25
BACKFILL_SHARE = 0.5
BOOKKEEPING_LOG = "Dagster recorded the materializations of"
WRITES_LOG = "warehouse writes took, summed over symbols,"


class OhlcvRunConfig(dg.Config):
    timeframes: list[str] = Field(
        default_factory=list,
        description="Fetch only these of the configured timeframes; empty means all.",
    )
    archives: bool = Field(
        default=True,
        description="Take closed days from the exchange's archive files where it has them "
                    "(titan.yaml's archives); the minute refresh, which fetches today, does not.",
    )
    budget_share: float = Field(
        default=BACKFILL_SHARE, gt=0, le=1,
        description="Fraction of the exchange's requests_per_second this run may use "
                    f"(backfills {BACKFILL_SHARE}, the minute refresh {REFRESH_SHARE}).",
    )


def ohlcv_asset_key(exchange: str, symbol: str) -> dg.AssetKey:
    return dg.AssetKey(["ohlcv", exchange, symbol.replace("/", "_")])


def build_ohlcv_assets(settings: ExchangeSettings, partitions_def: dg.PartitionsDefinition,
                       warehouse_kind: str, max_price_jump: float = 0.10) -> dg.AssetsDefinition:
    symbol_of = {ohlcv_asset_key(settings.name, symbol): symbol for symbol in settings.symbols}
    timeframes = ", ".join(settings.timeframes)
    specs = [
        dg.AssetSpec(
            key,
            group_name=settings.name,
            description=f"{symbol} {_market(settings.name, symbol)} candles from "
                        f"{settings.name} ({timeframes}); partition = the candles whose open "
                        f"time falls on that UTC day. Rows live in table `{OHLCV_TABLE}` with "
                        f"exchange='{settings.name}', symbol='{symbol}'.",
            kinds={"twelvedata" if settings.name == TWELVEDATA else "ccxt", warehouse_kind},
            metadata={
                "dagster/column_schema": ohlcv_columns(has_volume(settings.name, symbol)),
                "dagster/table_name": OHLCV_TABLE,
                "exchange": settings.name,
                "symbol": symbol,
                "timeframes": timeframes,
            },
            skippable=True,
        )
        for key, symbol in symbol_of.items()
    ]

    @dg.multi_asset(
        name=f"ohlcv_{settings.name}",
        specs=specs,
        check_specs=[spec for key in symbol_of
                     for spec in check_specs(key, settings.archive_url is not None)],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        description=f"Fetches and stores {settings.name} candles for the selected symbols and "
                    "days; days already complete in the warehouse cost no request.",
    )
    def ohlcv_assets(context: dg.AssetExecutionContext, config: OhlcvRunConfig,
                     warehouse: WarehouseResource, exchanges: ExchangeResource):
        selected = [symbol for key, symbol in symbol_of.items()
                    if key in context.selected_asset_keys]
        chosen = _chosen_timeframes(settings, config.timeframes)
        window = context.partition_time_window
        first_day, last_day = days_of_window(window)
        store = warehouse.warehouse
        context.log.info(f"{settings.name}: {len(selected)} symbols x {list(chosen)} from "
                         f"{first_day} to {last_day} into {store.display_url}")

        async def run():
            async with exchanges.client(settings, context.log, config.budget_share,
                                        store) as client, \
                    exchanges.archive(settings, client, context.log, config.archives) as archive:
                async for outcome in backfill(
                        client, store, selected, chosen, first_day, last_day,
                        max_concurrent_symbols=exchanges.max_concurrent_symbols,
                        run_id=context.run.run_id, archive=archive):
                    yield outcome
                if archive is not None:
                    context.log.info(f"{settings.name}: {archive.downloads.summary()}")

        failures = {}
        # Dagster writes the events of what is yielded before resuming this generator, while
        # the fetch thread goes on; the time spent there is the run's bookkeeping.
        recording, recorded, writing = 0.0, 0, 0.0
        for outcome in iterate_in_thread(run):
            writing += sum(t.write_s for t in outcome.timeframes.values())
            if outcome.error is not None:
                failures[outcome.symbol] = outcome.error
                context.log.error(f"{outcome.symbol}: {outcome.error}")
                continue
            stored = store.summarize(settings.name, outcome.symbol, window.start, window.end)
            metadata = materialization_metadata(
                outcome, stored, chosen, window,
                store.first_candle_ms(settings.name, outcome.symbol))
            key = ohlcv_asset_key(settings.name, outcome.symbol)
            checks = {check.name for check in context.selected_asset_check_keys
                      if check.asset_key == key}
            assessed = evaluate(checks, store, settings.name, outcome.symbol, chosen, window,
                                first_day, last_day, max_price_jump)
            started = time.perf_counter()
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)
            for name, assessment in assessed.items():
                yield check_result(key, name, assessment, first_day, last_day)
            recording += time.perf_counter() - started
            recorded += 1
        partitions = recorded * ((last_day - first_day).days + 1)
        context.log.info(f"{BOOKKEEPING_LOG} {partitions} asset-partitions in {recording:.2f} s "
                         f"(overlapped with fetching); {WRITES_LOG} {writing:.2f} s")
        if failures:
            raise dg.Failure(
                description=f"{len(failures)} of {len(selected)} {settings.name} symbols failed "
                            f"(the others were stored): "
                            + "; ".join(f"{s}: {e}" for s, e in failures.items()),
                metadata={symbol: str(error) for symbol, error in failures.items()},
            )

    return ohlcv_assets


def _market(source: str, symbol: str) -> str:
    """What kind of market the candles are of, with its hours where they close."""
    calendar = calendar_of(source, symbol)
    if calendar is CRYPTO:
        return "spot"
    return f"{calendar.name} ({calendar.hours})"


def _chosen_timeframes(settings: ExchangeSettings, requested: list[str]) -> tuple[str, ...]:
    unknown = [tf for tf in requested if tf not in settings.timeframes]
    if unknown:
        raise dg.Failure(f"run config timeframes: {unknown[0]!r} is not configured for "
                         f"{settings.name} (configured: {', '.join(settings.timeframes)})")
    return tuple(tf for tf in settings.timeframes if not requested or tf in requested)
