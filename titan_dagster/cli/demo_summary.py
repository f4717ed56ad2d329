"""What the demo stored, in a few lines: candles per source and timeframe, each strategy's
backtest metrics per symbol, where the reports are and what to try next."""

import os
from datetime import UTC, datetime, time
from pathlib import Path

from titan_dagster.cli.demo_progress import DemoPlan
from titan_dagster.signals.report import format_metric, report_index_path
from titan_dagster.state import state_dir
from titan_dagster.timeframes import DAY_MS, day_start_ms
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.signal_store import SignalStore

METRICS = (("trades", "trades"), ("win_rate", "win rate"), ("profit_factor", "profit factor"),
           ("expectancy_r", "expectancy R"), ("max_drawdown", "max drawdown"),
           ("total_return", "return"))


def show_summary(plan: DemoPlan, database: Path) -> None:
    store = Warehouse(f"sqlite:///{database}")
    try:
        print(f"\nStored, {plan.first} to {plan.last}:")
        _table(["source", "timeframe", "symbols", "candles", "days settled"],
               _candle_rows(plan, store))
        reports = []
        if plan.strategies:
            print("\nBacktests:")
            rows, reports = _backtest_rows(plan, store)
            _table(["strategy", "symbol", *(label for _, label in METRICS)], rows)
        for strategy, index in reports:
            print(f"  report {strategy}: {index}")
    finally:
        store.dispose()
    titan = "uv run titan" if "UV" in os.environ else "titan"  # as the user started it
    print(f"\nNext:\n"
          f"  the demo in the Dagster UI   {titan} dev --demo\n"
          f"  what it stored               TITAN_DATABASE_URL=sqlite:///{database} "
          f"{titan} list-data\n"
          f"  SQL                          sqlite3 {database} \"SELECT * FROM ohlcv LIMIT 5\"")


def _candle_rows(plan: DemoPlan, store: Warehouse) -> list[list[str]]:
    start = datetime.combine(plan.first, time(), UTC)
    end = datetime.fromtimestamp((day_start_ms(plan.last) + DAY_MS) / 1000, UTC)
    settled = store.settled_day_counts(plan.first, plan.last)
    rows = []
    for source in plan.sources:
        counts = [store.summarize(source.name, symbol, start, end) for symbol in source.symbols]
        for tf in source.timeframes:
            candles = sum(count[tf].candles for count in counts if tf in count)
            days = sum(settled.get((source.name, symbol, tf), 0) for symbol in source.symbols)
            rows.append([source.name, tf, str(len(source.symbols)), f"{candles:,}",
                         f"{days:,} of {plan.days * len(source.symbols):,}"])
    return rows


def _backtest_rows(plan: DemoPlan, store: Warehouse):
    signals = SignalStore(store)
    start, end = day_start_ms(plan.first), day_start_ms(plan.last) + DAY_MS
    rows, reports = [], []
    for strategy in plan.strategies:
        for result in signals.backtests(strategy.name, strategy.version, start, end):
            rows.append([strategy.name, result["symbol"],
                         *(format_metric(name, result[name]) for name, _ in METRICS)])
        index = report_index_path(state_dir(), strategy.name, strategy.version)
        if index.exists():
            reports.append((strategy.name, index))
    return rows, reports


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  " + "  ".join(cell.ljust(width) if i < 2 else cell.rjust(width)
                               for i, (cell, width) in enumerate(zip(row, widths, strict=True))))
