"""What every trading calendar answers, built on two facts each market supplies: its trading
hours and its session dates. Everything is epoch milliseconds UTC, and every answer is a list
of sorted, merged [start, end) ranges, so years of 1m candles cost a handful of tuples, never
one entry per candle."""

from abc import ABC, abstractmethod

from titan_dagster.ranges import merged, total
from titan_dagster.timeframes import DAY_MS, day_of_ms, floor_ms

Ranges = list[tuple[int, int]]
_WEEK_MS = 7 * DAY_MS


def step_name(step: int) -> str:
    """3_600_000 -> '1h': a step spelled the way timeframes are configured, for messages."""
    for unit, length in (("d", DAY_MS), ("h", 3_600_000), ("m", 60_000)):
        if step > 0 and step % length == 0:
            return f"{step // length}{unit}"
    return f"{step} ms"


class TradingCalendar(ABC):
    """When a market trades, and so which candle slots a complete history of it holds.

    A slot is a candle's open time on the grid `offset(step) + k * step`. An intraday slot is
    expected when its candle [slot, slot + step) overlaps trading hours at all, since the
    source then has trades to build it from; a daily slot (00:00 UTC) when its date is a
    session date, as sources date a session's daily candle by the day it trades."""

    name: str
    hours: str  # the trading hours in words, for people reading asset descriptions

    @abstractmethod
    def _trading_hours(self, start: int, end: int) -> Ranges:
        """The sorted, disjoint trading intervals overlapping [start, end), not clipped to it."""

    @abstractmethod
    def _session_days(self, start: int, end: int) -> Ranges:
        """The session dates whose 00:00 UTC lies in [start, end) (two UTC midnights), as
        merged ranges of whole UTC days."""

    @property
    def coverage(self) -> tuple[int, int] | None:
        """The [start, end) this calendar knows about; None when its rules hold for all time."""
        return None

    def offset(self, step: int) -> int:
        """Where the slot grid of `step` sits: slots are at offset + k * step. Candles align to
        00:00 UTC unless a market's sessions open off that grid; a step must divide a day so
        that every UTC day holds whole candles."""
        if step <= 0 or DAY_MS % step:
            raise ValueError(f"a {step_name(step)} step does not divide a UTC day evenly")
        return 0

    def supports(self, step: int) -> bool:
        """Whether candles of `step` have a fixed grid here, so a config loader can refuse a
        timeframe before anything is fetched."""
        try:
            self.offset(step)
        except ValueError:
            return False
        return True

    def expected(self, start: int, end: int, step: int) -> Ranges:
        """The expected slots with open time in [start, end), as merged ranges whose ends lie
        on the grid, so (b - a) // step counts the slots of each."""
        offset = self.offset(step)
        first, stop = _ceil(start, step, offset), _ceil(end, step, offset)
        if first >= stop:
            return []
        self._require_covered(start, end)
        active = self._session_days(first, stop) if step == DAY_MS \
            else self._trading_hours(first, stop)
        # A slot overlaps [a, b) when it opens in (a - step, b): from a's slot to b's ceiling.
        slots = ((max(first, _floor(a, step, offset)), min(stop, _ceil(b, step, offset)))
                 for a, b in active)
        return merged((a, b) for a, b in slots if a < b)

    def count(self, start: int, end: int, step: int) -> int:
        """How many candles a complete history holds with open time in [start, end)."""
        return total(self.expected(start, end, step), step)

    def span_end(self, start: int, step: int, slots: int, limit: int) -> int:
        """The smallest grid point t in (start, limit] such that [start, t) holds `slots`
        expected slots, or `limit` when [start, limit) holds fewer: the end of a request
        window asking for at most `slots` candles the market really has, however many
        weekends and holidays lie between."""
        if slots < 1:
            raise ValueError(f"a window holds at least one candle, not {slots}")
        if start >= limit:
            return limit
        self._require_covered(start, limit)
        remaining, low, width = slots, start, slots * step
        while low < limit:
            high = min(limit, low + width)
            for a, b in self.expected(low, high, step):
                if (b - a) // step >= remaining:
                    return min(limit, a + remaining * step)
                remaining -= (b - a) // step
            # Closed stretches can be long (holidays, a market's weekend): look ever further.
            low, width = high, width * 2
        return limit

    def next_slot(self, after: int, step: int) -> int | None:
        """The first expected slot opening strictly after `after`, or None when the calendar
        knows of none (past the end of its coverage)."""
        end_known = self.coverage[1] if self.coverage else None
        low, width = after + 1, _WEEK_MS
        while end_known is None or low < end_known:
            high = low + width if end_known is None else min(end_known, low + width)
            ranges = self.expected(low, high, step)
            if ranges:
                return ranges[0][0]
            low, width = high, width * 2
        return None

    def is_open(self, moment: int) -> bool:
        self._require_covered(moment, moment + 1)
        return bool(self._trading_hours(moment, moment + 1))

    def closed_since(self, moment: int) -> int | None:
        """When the market last closed, if it is closed at `moment`: a missing candle then is
        the market's silence, not the source's fault. None while open."""
        if self.is_open(moment):
            return None
        width = _WEEK_MS
        while True:
            low = moment - width
            if self.coverage and low < self.coverage[0]:
                low = self.coverage[0]
            hours = self._trading_hours(low, moment)
            if hours:
                return hours[-1][1]
            if self.coverage and low == self.coverage[0]:
                raise ValueError(f"{day_of_ms(moment)}: the {self.name} calendar knows no "
                                 f"session before it")
            width *= 2

    def _require_covered(self, start: int, end: int) -> None:
        """Refuse to guess: outside its coverage a calendar would report a market closed."""
        if self.coverage is None:
            return
        first, last = self.coverage
        outside = day_of_ms(start) if start < first else day_of_ms(end - 1) if end > last \
            else None
        if outside is not None:
            raise ValueError(f"{outside} is outside the {self.name} calendar, which covers "
                             f"{day_of_ms(first)} to {day_of_ms(last - 1)}")

    def __repr__(self) -> str:
        return f"<{self.name} calendar>"


def _floor(moment: int, step: int, offset: int) -> int:
    return floor_ms(moment - offset, step) + offset


def _ceil(moment: int, step: int, offset: int) -> int:
    return -_floor(-moment, step, -offset)
