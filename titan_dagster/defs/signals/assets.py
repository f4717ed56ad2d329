"""Per strategy: signals/<name>, outcomes/<name>, backtests/<name> and performance/<name>,
daily partitioned like the candles they read, with lineage candles -> signals -> outcomes ->
backtests and performance (a group each, so the lineage graph names the layer of each node).

The four are one multi-asset: a run reads each symbol's candles once, and the engine yields
signals and outcomes together. Any range is one run (single_run backfill policy). Signals,
outcomes and performance run live (defs/signals/automation.py); backtests when asked."""

import warnings

import dagster as dg

from titan_dagster.config.strategies import StrategySettings
from titan_dagster.defs.ohlcv.assets import ohlcv_asset_key
from titan_dagster.defs.ohlcv.partitions import days_of_window
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.defs.signals.automation import live_condition
from titan_dagster.defs.signals.markdown import cell
from titan_dagster.defs.signals.performance import degraded_result, performance_metadata
from titan_dagster.signals.lookahead import SAMPLE
from titan_dagster.signals.report import write_index
from titan_dagster.signals.runs import run_range

PLOTTED = ("trades", "win_rate", "expectancy_r", "max_drawdown")
METRIC_FIELDS = ("trades", "win_rate", "profit_factor", "expectancy_r", "sqn", "max_drawdown",
                 "sharpe", "total_return")


def signal_asset_keys(name: str
                      ) -> tuple[dg.AssetKey, dg.AssetKey, dg.AssetKey, dg.AssetKey]:
    """signals, outcomes, backtests and performance."""
    return (dg.AssetKey(["signals", name]), dg.AssetKey(["outcomes", name]),
            dg.AssetKey(["backtests", name]), dg.AssetKey(["performance", name]))


def build_strategy_assets(strategy: StrategySettings,
                          partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    signals_key, outcomes_key, backtests_key, performance_key = signal_asset_keys(strategy.name)
    live = live_condition(strategy) if strategy.active else None
    about = (f"{strategy.kind} {strategy.params} on {strategy.source} "
             f"{', '.join(strategy.symbols)} {strategy.timeframe} (version {strategy.version})")
    specs = [
        dg.AssetSpec(signals_key, group_name="signals", kinds={"python"},
                     automation_condition=live,
                     deps=[ohlcv_asset_key(strategy.source, s) for s in strategy.symbols],
                     description=f"Signals of {about} whose signal time (the close of the "
                                 "candle that produced them) falls on the partition's day. "
                                 "Table `signals`."),
        dg.AssetSpec(outcomes_key, group_name="outcomes", kinds={"python"}, deps=[signals_key],
                     automation_condition=live,
                     description="Each signal's outcome tracked forward through every stored "
                                 "candle: the day's signals and older ones still pending or "
                                 "open. Table `outcomes`."),
        dg.AssetSpec(backtests_key, group_name="backtests", kinds={"python"},
                     deps=[outcomes_key],
                     description="One backtest per symbol over the run's range. Table "
                                 "`backtest_results`."),
        dg.AssetSpec(performance_key, group_name="performance", kinds={"python"},
                     deps=[outcomes_key], automation_condition=live,
                     description="Per symbol, as of the partition's day: the live record "
                                 "since the strategy went live beside its backtest before, "
                                 "and whether live is degraded (README: the degradation "
                                 "rule). Table `strategy_performance`."),
    ]

    check, degraded_check = _checks(strategy, partitions_def, signals_key, performance_key)

    @dg.multi_asset(name=f"strategy_{strategy.name}", specs=specs,
                    check_specs=[check, degraded_check],
                    partitions_def=partitions_def, can_subset=True,
                    backfill_policy=dg.BackfillPolicy.single_run())
    def strategy_assets(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        first, last = days_of_window(context.partition_time_window)
        store = warehouse.warehouse
        selected = context.selected_asset_keys
        checking = check.key in context.selected_asset_check_keys
        runs = [run_range(strategy, store, symbol, first, last,
                          backtest=backtests_key in selected, check_lookahead=checking,
                          performance=performance_key in selected)
                for symbol in strategy.symbols]
        if signals_key in selected:
            yield dg.MaterializeResult(asset_key=signals_key, metadata={
                "dagster/row_count": sum(r.signals for r in runs),
                **{f"signals {r.symbol}": r.signals for r in runs}})
        if checking:
            problems = [line for r in runs for line in r.lookahead]
            yield dg.AssetCheckResult(
                asset_key=signals_key, check_name="no_lookahead", passed=not problems,
                description="; ".join(problems[:5]) or "every sampled signal reproduced",
                metadata={"signals_checked": sum(r.lookahead_checked for r in runs),
                          "mismatches": len(problems)})
        if outcomes_key in selected:
            statuses: dict[str, int] = {}
            for r in runs:
                for status, n in r.outcomes.items():
                    statuses[status] = statuses.get(status, 0) + n
            yield dg.MaterializeResult(asset_key=outcomes_key, metadata={
                "dagster/row_count": sum(statuses.values()),
                **{f"status {status}": n for status, n in sorted(statuses.items())}})
        if backtests_key in selected:
            yield dg.MaterializeResult(asset_key=backtests_key,
                                       metadata=_backtest_metadata(runs))
        if performance_key in selected:
            yield dg.MaterializeResult(asset_key=performance_key,
                                       metadata=performance_metadata(runs))
        if degraded_check.key in context.selected_asset_check_keys:
            yield degraded_result(performance_key, runs)

    return strategy_assets


def _checks(strategy: StrategySettings, partitions_def: dg.PartitionsDefinition,
            signals_key: dg.AssetKey, performance_key: dg.AssetKey
            ) -> tuple[dg.AssetCheckSpec, dg.AssetCheckSpec]:
    """Partitioned like their assets: the automation sensor requests an unpartitioned check
    of a partitioned asset never, so live runs would go unchecked. (Partitioned checks are a
    preview in Dagster 1.13; its warning is silenced here, where the choice is made.)"""
    with_asset = dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.will_be_requested()) if strategy.active else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return (
            dg.AssetCheckSpec(
                "no_lookahead", asset=signals_key, blocking=False,
                automation_condition=with_asset, partitions_def=partitions_def,
                description=f"Up to {SAMPLE} of each symbol's signals of the run, recomputed "
                            "from the candles up to their own candle only, come out exactly "
                            "the same. Error."),
            dg.AssetCheckSpec(
                "strategy_not_degraded", asset=performance_key, blocking=False,
                automation_condition=with_asset, partitions_def=partitions_def,
                description="No symbol's live record, as of the run's last day, is degraded "
                            f"against its backtest (after {strategy.min_live_trades} closed "
                            "live trades). Warning."))


def _backtest_metadata(runs) -> dict:
    scored = [r for r in runs if r.metrics is not None]
    header = "| symbol | " + " | ".join(METRIC_FIELDS) + " |"
    lines = [header, "|" + " --- |" * (len(METRIC_FIELDS) + 1)]
    metadata: dict = {"dagster/row_count": len(scored)}
    for r in scored:
        values = r.metrics.as_dict()
        lines.append(f"| {r.symbol} | " + " | ".join(cell(values[f]) for f in METRIC_FIELDS)
                     + " |")
        # Numbers, so the UI plots them run over run.
        metadata |= {f"{name} {r.symbol}": values[name] for name in PLOTTED
                     if values[name] is not None}
    metadata["trades"] = sum(r.metrics.trades for r in scored)
    reports = [(r.symbol, r.report) for r in scored if r.report is not None]
    if reports:
        index = write_index(reports[0][1].parent, reports)
        metadata["report"] = dg.MetadataValue.path(str(index))
    metadata["metrics"] = dg.MetadataValue.md("\n".join(lines))
    return metadata

