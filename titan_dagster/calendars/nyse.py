"""US stocks: the New York Stock Exchange's sessions, holidays and 13:00 early closes included,
from the exchange_calendars package, whose schedule runs from about 20 years back to one year
ahead. Outside that the calendar refuses to answer rather than report the market closed."""

from functools import cache

import numpy as np

from titan_dagster.calendars.base import Ranges, TradingCalendar, step_name
from titan_dagster.ranges import merged
from titan_dagster.timeframes import DAY_MS

_HALF_HOUR_MS = 1_800_000
_HOUR_MS = 3_600_000


@cache
def _sessions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(session dates at 00:00 UTC, opens, closes) as sorted int64 epoch ms, loaded on first
    use only: importing exchange_calendars and building the schedule takes about half a
    second that most runs (crypto only) never need."""
    import exchange_calendars as xc

    schedule = xc.get_calendar("XNYS").schedule
    return tuple(np.asarray(column, dtype="datetime64[ms]").astype(np.int64)
                 for column in (schedule.index, schedule["open"].dt.tz_convert(None),
                                schedule["close"].dt.tz_convert(None)))


class NyseCalendar(TradingCalendar):
    name = "XNYS"
    hours = "09:30 to 16:00 New York on NYSE session days, some closing at 13:00"

    @property
    def coverage(self) -> tuple[int, int]:
        days = _sessions()[0]
        return int(days[0]), int(days[-1]) + DAY_MS

    def offset(self, step: int) -> int:
        """Sessions open at 09:30 New York, :30 in UTC in summer and winter alike: candles of
        up to 30 minutes fit the UTC grid, hourly ones sit half an hour off it, and longer
        intraday candles would open at a different UTC hour depending on the season."""
        super().offset(step)
        if step == DAY_MS or _HALF_HOUR_MS % step == 0:
            return 0
        if step == _HOUR_MS:
            return _HALF_HOUR_MS
        raise ValueError(f"{step_name(step)!r} candles of US stocks have no fixed place in UTC "
                         f"(sessions open at 09:30 New York); use 1m, 5m, 15m, 30m, 1h or 1d")

    def _trading_hours(self, start: int, end: int) -> Ranges:
        _, opens, closes = _sessions()
        first = int(np.searchsorted(closes, start, side="right"))  # closes after start
        stop = int(np.searchsorted(opens, end, side="left"))  # opens before end
        return list(zip(opens[first:stop].tolist(), closes[first:stop].tolist(), strict=True))

    def _session_days(self, start: int, end: int) -> Ranges:
        days = _sessions()[0]
        first, stop = np.searchsorted(days, [start, end])
        return merged((day, day + DAY_MS) for day in days[first:stop].tolist())


XNYS = NyseCalendar()
