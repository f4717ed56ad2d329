"""What the demo is to store, and a progress bar per phase while its run stores it. The bars
read the warehouse the run writes (days settled, backtests stored), not Dagster's log: the
warehouse is what the demo is about, and it is written as each day lands."""

import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from titan_dagster.config import TitanConfig
from titan_dagster.config.strategies import StrategySettings
from titan_dagster.timeframes import DAY_MS, day_start_ms
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.signal_store import SignalStore

POLL_S = 0.5


@dataclass(frozen=True)
class DemoSource:
    name: str
    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]


@dataclass(frozen=True)
class DemoPlan:
    sources: tuple[DemoSource, ...]
    strategies: tuple[StrategySettings, ...]
    first: date
    last: date

    @classmethod
    def of(cls, config: TitanConfig, first: date, last: date) -> "DemoPlan":
        return cls(tuple(DemoSource(e.name, tuple(e.symbols), tuple(e.timeframes))
                         for e in config.exchanges), tuple(config.strategies), first, last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def series(self) -> int:
        return sum(len(source.symbols) * len(source.timeframes) for source in self.sources)

    @property
    def symbols(self) -> int:
        return sum(len(source.symbols) for source in self.sources)

    @property
    def backtests(self) -> int:
        return sum(len(strategy.symbols) for strategy in self.strategies)


@dataclass(frozen=True)
class Stored:
    symbols: int  # symbols with every day of every timeframe settled
    days: int  # settled days, summed over every symbol and timeframe
    backtests: int  # backtests of the demo's range stored since the run started


def stored(plan: DemoPlan, store: Warehouse, since: datetime) -> Stored:
    try:
        settled = store.settled_day_counts(plan.first, plan.last)
        backtests = _backtests_since(plan, store, since)
    except sa.exc.OperationalError:  # the run has not created the tables yet
        return Stored(0, 0, 0)
    complete = sum(all(settled.get((source.name, symbol, tf), 0) == plan.days
                       for tf in source.timeframes)
                   for source in plan.sources for symbol in source.symbols)
    days = sum(settled.get((source.name, symbol, tf), 0) for source in plan.sources
               for symbol in source.symbols for tf in source.timeframes)
    return Stored(complete, days, backtests)


def _backtests_since(plan: DemoPlan, store: Warehouse, since: datetime) -> int:
    signals = SignalStore(store)
    start, end = day_start_ms(plan.first), day_start_ms(plan.last) + DAY_MS
    # ran_at is kept to the second.
    since_ms = int(since.timestamp()) * 1000
    return sum(row["ran_at"] >= since_ms for strategy in plan.strategies
               for row in signals.backtests(strategy.name, strategy.version, start, end))


def watch(run: subprocess.Popen, plan: DemoPlan, database: Path, started: datetime) -> int:
    """Bars until `run` exits; its exit code."""
    store = Warehouse(f"sqlite:///{database}")
    columns = (TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[unit]}"), TimeElapsedColumn())
    try:
        with Progress(*columns) as progress:
            candles = progress.add_task("candles", total=plan.symbols, unit="symbols")
            days = progress.add_task("days", total=plan.days * plan.series,
                                     unit="days settled")
            backtests = progress.add_task("backtests", total=plan.backtests, unit="backtests",
                                          visible=bool(plan.strategies))
            while True:
                code = _wait(run)
                now = stored(plan, store, started)
                progress.update(candles, completed=now.symbols)
                progress.update(days, completed=now.days)
                progress.update(backtests, completed=now.backtests)
                if code is not None:
                    return code
    finally:
        store.dispose()


def _wait(run: subprocess.Popen) -> int | None:
    try:
        return run.wait(timeout=POLL_S)
    except subprocess.TimeoutExpired:
        return None

