"""Which UTC days a stream of pages has fully covered, and what each day holds."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from titan_dagster.timeframes import DAY_MS, day_of_ms


@dataclass
class DayRecord:
    start_ms: int
    seen: set[int] = field(default_factory=set)  # aligned open times served, valid or not
    valid: int = 0
    rejected: int = 0

    @property
    def day(self) -> date:
        return day_of_ms(self.start_ms)


class DayLedger:
    def __init__(self, start_ms: int):
        self._next_day = start_ms - start_ms % DAY_MS
        self._days: dict[int, DayRecord] = {}

    def record(self, day_start: int) -> DayRecord:
        return self._days.setdefault(day_start, DayRecord(day_start))

    def add(self, valid: Iterable[int], rejected: Iterable[tuple[int, int | None]]) -> None:
        """Open times of stored candles, and (day, slot) of rejected rows: a rejected row
        makes its day incomplete, and its slot, if aligned, is served rather than a hole."""
        ts = np.fromiter(valid, dtype=np.int64)
        days = ts - ts % DAY_MS
        # Candles come mostly in time order: one run per day, counted in bulk (a page served
        # out of order only makes more, shorter runs).
        cuts = (np.flatnonzero(np.diff(days)) + 1).tolist()
        for lo, hi in zip([0, *cuts], [*cuts, len(ts)], strict=True):
            if hi > lo:
                record = self.record(int(days[lo]))
                run = ts[lo:hi].tolist()
                record.seen.update(run)
                record.valid += len(run)
        for day_ts, slot in rejected:
            record = self.record(day_ts - day_ts % DAY_MS)
            record.rejected += 1
            if slot is not None:
                record.seen.add(slot)

    def close_through(self, covered_until: int) -> list[DayRecord]:
        """Days that end at or before `covered_until`, each once, oldest first."""
        closed = []
        while self._next_day + DAY_MS <= covered_until:
            closed.append(self._days.pop(self._next_day, None) or DayRecord(self._next_day))
            self._next_day += DAY_MS
        return closed
