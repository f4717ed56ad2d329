"""Which UTC days a stream of pages has fully covered, and how many candles each holds."""

from collections import Counter
from datetime import date

from titan_dagster.ingest.candles import Candle
from titan_dagster.timeframes import DAY_MS, day_of_ms


class DayLedger:
    def __init__(self, start_ms: int):
        self._next_day = start_ms - start_ms % DAY_MS
        self._counts: Counter[int] = Counter()

    def add(self, candles: list[Candle]) -> None:
        self._counts.update(candle[0] - candle[0] % DAY_MS for candle in candles)

    def close_through(self, covered_until: int) -> list[tuple[date, int]]:
        """Days that end at or before `covered_until`, each once, with its candle count."""
        closed = []
        while self._next_day + DAY_MS <= covered_until:
            closed.append((day_of_ms(self._next_day), self._counts.pop(self._next_day, 0)))
            self._next_day += DAY_MS
        return closed
