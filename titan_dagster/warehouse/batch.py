"""What one transaction writes: a page of candles and everything learned with it."""

from dataclasses import dataclass, field
from datetime import date

from titan_dagster.ingest.candles import Candle
from titan_dagster.quality.validation import Reject

Values = tuple[str, str, str, str, str | None]  # open, high, low, close, volume


@dataclass(frozen=True)
class ArchiveComparison:
    """An archived day re-fetched over REST: how many candles REST served, and each slot
    where the two differ (ts, the archive's values, REST's; None where a side had none)."""
    day: date
    rest_candles: int
    differences: list[tuple[int, Values | None, Values | None]]


@dataclass
class Batch:
    candles: list[Candle] = field(default_factory=list)
    open_candles: list[Candle] = field(default_factory=list)  # not closed yet: stored as such
    rejects: list[tuple[date, Reject]] = field(default_factory=list)  # with the day fetched for
    exchange_gaps: list[tuple[int, int, int]] = field(default_factory=list)  # start, end, count
    complete_days: list[tuple[date, int]] = field(default_factory=list)  # with candle counts
    # Slots the exchange no longer serves: day, start, end, count.
    unserved: list[tuple[date, int, int, int]] = field(default_factory=list)
    # Complete days whose candles came from an archive file: day, file name, its SHA-256.
    archived_days: list[tuple[date, str, str]] = field(default_factory=list)
    archive_checks: list[ArchiveComparison] = field(default_factory=list)
    run_id: str | None = None

    def __bool__(self) -> bool:
        return bool(self.candles or self.open_candles or self.rejects or self.exchange_gaps
                    or self.complete_days or self.unserved or self.archived_days
                    or self.archive_checks)


def difference_rows(key: tuple[str, str, str], check: ArchiveComparison) -> list[tuple]:
    """ohlcv_archive_differences rows: the key, ts in ms, the archive's five values, REST's."""
    none = (None,) * 5
    return [(*key, ts, *(archived or none), *(rest or none))
            for ts, archived, rest in check.differences]
