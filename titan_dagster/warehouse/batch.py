"""What one transaction writes: a page of candles and everything learned with it."""

from dataclasses import dataclass, field
from datetime import date

from titan_dagster.ingest.candles import Candle
from titan_dagster.quality.validation import Reject


@dataclass
class Batch:
    candles: list[Candle] = field(default_factory=list)
    open_candles: list[Candle] = field(default_factory=list)  # not closed yet: stored as such
    rejects: list[tuple[date, Reject]] = field(default_factory=list)  # with the day fetched for
    exchange_gaps: list[tuple[int, int, int]] = field(default_factory=list)  # start, end, count
    complete_days: list[tuple[date, int]] = field(default_factory=list)  # with candle counts
    # Slots the exchange no longer serves: day, start, end, count.
    unserved: list[tuple[date, int, int, int]] = field(default_factory=list)
    run_id: str | None = None

    def __bool__(self) -> bool:
        return bool(self.candles or self.open_candles or self.rejects or self.exchange_gaps
                    or self.complete_days or self.unserved)
