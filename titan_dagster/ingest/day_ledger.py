"""Which UTC days a stream of pages has fully covered, and what each day holds."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from titan_dagster.quality.validation import Reject
from titan_dagster.timeframes import DAY_MS, day_of_ms


@dataclass
class DayRecord:
    start_ms: int
    seen: set[int] = field(default_factory=set)  # open times of valid candles served
    valid: int = 0
    # Quarantined rows, by the aligned slot they were served for (None: no slot of the day,
    # a misaligned or unplaceable row). Kept until the day settles: a slot's row served
    # valid on the targeted re-request replaces its reject.
    rejects: dict[int | None, list[Reject]] = field(default_factory=dict)

    @property
    def day(self) -> date:
        return day_of_ms(self.start_ms)

    def reject(self, slot: int | None, reject: Reject) -> None:
        self.rejects.setdefault(slot, []).append(reject)

    @property
    def all_rejects(self) -> list[Reject]:
        return [reject for rejects in self.rejects.values() for reject in rejects]


class DayLedger:
    def __init__(self, start_ms: int):
        self._next_day = start_ms - start_ms % DAY_MS
        self._days: dict[int, DayRecord] = {}

    def record(self, day_start: int) -> DayRecord:
        return self._days.setdefault(day_start, DayRecord(day_start))

    def add(self, valid: Iterable[int],
            rejected: Iterable[tuple[int, int | None, Reject]]) -> None:
        """Open times of stored candles, and (day, slot, reject) of quarantined rows."""
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
        for day_ts, slot, reject in rejected:
            self.record(day_ts - day_ts % DAY_MS).reject(slot, reject)

    def close_through(self, covered_until: int) -> list[DayRecord]:
        """Days that end at or before `covered_until`, each once, oldest first."""
        closed = []
        while self._next_day + DAY_MS <= covered_until:
            closed.append(self._days.pop(self._next_day, None) or DayRecord(self._next_day))
            self._next_day += DAY_MS
        return closed

    def unsettled(self) -> list[DayRecord]:
        """Days seen but not covered to their end (today, or a run cut short)."""
        return [self._days[day] for day in sorted(self._days)]
