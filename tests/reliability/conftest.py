"""The reliability suite's figures: each test records what it did (requests, faults injected,
candles compared, mismatches, duplicates) and the run ends with them as one table."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import minimum_requests, stored_rows, truth_rows
from titan_dagster.emulator import BinanceEmulator
from titan_dagster.ingest.backfill import contiguous_runs
from titan_dagster.timeframes import DAY_MS, day_start_ms, days_between
from titan_dagster.warehouse import Warehouse


@dataclass
class Figures:
    test: str
    requests: int = 0
    faults_injected: int = 0
    candles_compared: int = 0
    mismatches: int = 0
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)
    _truth: dict = field(default_factory=dict, repr=False)

    def compare(self, warehouse: Warehouse, emulator: BinanceEmulator, symbols, timeframe: str,
                start_ms: int, end_ms: int, days: dict[str, set[date]] | None = None) -> None:
        """Adds the warehouse-vs-exchange comparison of these symbols over [start_ms, end_ms)
        (only the days `days` gives per symbol, if given) and the warehouse's duplicate
        count to the figures."""
        for symbol in symbols:
            # The emulator's candles are deterministic: computed once per test.
            key = (symbol, timeframe, start_ms, end_ms)
            if key not in self._truth:
                self._truth[key] = truth_rows(emulator, symbol, timeframe, start_ms, end_ms)
            truth = self._truth[key]
            stored = [row for row in stored_rows(warehouse, symbol, timeframe)
                      if start_ms <= row[0] < end_ms]
            if days is not None:
                starts = {day_start_ms(day) for day in days[symbol]}
                truth = [row for row in truth if row[0] - row[0] % DAY_MS in starts]
                stored = [row for row in stored if row[0] - row[0] % DAY_MS in starts]
            self.candles_compared += len(truth)
            if stored != truth:  # both in time order; sets only to count the differences
                self.mismatches += len(set(truth) ^ set(stored))
        self.duplicates += duplicate_candles(warehouse)

    def take_requests(self, emulator: BinanceEmulator) -> None:
        self.requests += len(emulator.requests)
        self.faults_injected += emulator.faults_injected


_FIGURES: list[Figures] = []

# The market most of the suite fetches: three symbols listed long before any range asked
# for, at 5m (288 candles a day, so a year is 106 pages per symbol).
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
TIMEFRAME = "5m"
FIRST, LAST = date(2024, 1, 1), date(2024, 12, 31)
START, END = day_start_ms(FIRST), day_start_ms(LAST) + DAY_MS


def exchange() -> BinanceEmulator:
    return BinanceEmulator(listings={symbol: "2020-01-01" for symbol in SYMBOLS})


@pytest.fixture
def figures(request) -> Figures:
    row = Figures(request.node.name)
    _FIGURES.append(row)
    return row


def assert_next_run_converges(figures: Figures, warehouse: Warehouse, emulator: BinanceEmulator,
                              symbols, timeframe: str, first: date, last: date,
                              next_run: Callable[[], None]) -> dict[str, list[date]]:
    """After a run that failed or was killed: each day it recorded complete holds exactly the
    exchange's candles; then `next_run` fetches only the unfinished days, in the fewest
    pages, and the warehouse ends equal to the exchange. Returns the unfinished days."""
    assert_complete_days_hold_their_candles(figures, warehouse, emulator, symbols, timeframe,
                                            first, last)
    unfinished = {s: unfinished_days(warehouse, s, timeframe, first, last) for s in symbols}
    assert 0 < sum(map(len, unfinished.values())) < len(symbols) * ((last - first).days + 1)

    figures.take_requests(emulator)
    emulator.clear_requests()
    next_run()
    for symbol in symbols:
        asked = Counter(r.params.get("startTime") for r in emulator.requests
                        if r.symbol == symbol)
        repeated = sorted(start for start, times in asked.items() if times > 1)
        assert emulator.count(symbol=symbol) == minimum_pages(unfinished[symbol], timeframe), \
            f"{symbol}: pages asked more than once, by startTime: {repeated}"
    figures.take_requests(emulator)
    figures.compare(warehouse, emulator, symbols, timeframe, day_start_ms(first),
                    day_start_ms(last) + DAY_MS)
    assert (figures.mismatches, figures.duplicates) == (0, 0)
    return unfinished


def assert_complete_days_hold_their_candles(figures: Figures, warehouse: Warehouse,
                                            emulator: BinanceEmulator, symbols, timeframe: str,
                                            first: date, last: date) -> None:
    """Whatever happened to the run: a day recorded complete holds exactly its candles."""
    done = {s: warehouse.complete_days("binance", s, timeframe, first, last) for s in symbols}
    figures.compare(warehouse, emulator, symbols, timeframe, day_start_ms(first),
                    day_start_ms(last) + DAY_MS, days=done)
    assert (figures.mismatches, figures.duplicates) == (0, 0)


def unfinished_days(warehouse: Warehouse, symbol: str, timeframe: str, first: date,
                    last: date) -> list[date]:
    done = warehouse.complete_days("binance", symbol, timeframe, first, last)
    return [day for day in days_between(first, last) if day not in done]


def minimum_pages(days: list[date], timeframe: str) -> int:
    """Requests that fetch these days of a symbol listed before them: 1000 candles a page,
    each contiguous run of days fetched from its start."""
    return sum(minimum_requests(day_start_ms(a), timeframe, day_start_ms(b) + DAY_MS)
               for a, b in contiguous_runs(days))


def duplicate_candles(warehouse: Warehouse) -> int:
    """Rows beyond the first for any (exchange, symbol, timeframe, open time)."""
    with warehouse.engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM ohlcv "
            "GROUP BY exchange, symbol, timeframe, ts HAVING count(*) > 1) AS repeated")).scalar())


def pytest_terminal_summary(terminalreporter) -> None:
    if not _FIGURES:
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability figures")
    write(f"{'test':<72} {'requests':>8} {'faults':>7} {'compared':>9} {'mismatch':>8} "
          f"{'dupes':>5}")
    for row in _FIGURES:
        write(f"{row.test[:72]:<72} {row.requests:>8} {row.faults_injected:>7} "
              f"{row.candles_compared:>9} {row.mismatches:>8} {row.duplicates:>5}")
        for note in row.notes:
            write(f"    {note}")
