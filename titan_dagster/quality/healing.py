"""Which re-fetches would heal the warehouse: the closed days that are not complete (never
fetched, failed, holes not yet confirmed), grouped into few range runs, each day tried a
bounded number of times."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from titan_dagster.config.model import ExchangeSettings
from titan_dagster.ingest.backfill import contiguous_runs
from titan_dagster.timeframes import days_between
from titan_dagster.warehouse import Warehouse


@dataclass(frozen=True)
class HealRun:
    exchange: str
    symbols: tuple[str, ...]
    first: date
    last: date
    attempt: int  # the highest attempt number this run makes for any of its days


def incomplete_days(store: Warehouse, exchange: ExchangeSettings, first: date,
                    last: date) -> dict[date, set[str]]:
    """Day -> symbols with a timeframe not complete that day, leaving out days whose missing
    slots the exchange no longer serves: asking again would not get them."""
    days = days_between(first, last)
    needs: dict[date, set[str]] = defaultdict(set)
    for symbol in exchange.symbols:
        for timeframe in exchange.timeframes:
            done = store.settled_days(exchange.name, symbol, timeframe, first, last)
            for day in days:
                if day not in done:
                    needs[day].add(symbol)
    return needs


def plan_heal_runs(exchange: str, needs: dict[date, set[str]], attempts: dict[str, int],
                   max_attempts: int) -> list[HealRun]:
    """One run per contiguous range of days still worth trying. `attempts` is keyed by
    "<exchange>/<day>" and counts the runs already requested for that day."""
    eligible = sorted(day for day in needs
                      if attempts.get(attempt_key(exchange, day), 0) < max_attempts)
    runs = []
    for first, last in contiguous_runs(eligible):
        span = days_between(first, last)
        symbols = sorted(set().union(*(needs[day] for day in span)))
        attempt = 1 + max(attempts.get(attempt_key(exchange, day), 0) for day in span)
        runs.append(HealRun(exchange, tuple(symbols), first, last, attempt))
    return runs


def attempt_key(exchange: str, day: date) -> str:
    return f"{exchange}/{day.isoformat()}"
