"""Markets that trade around the clock through the week on New York's clock: forex and
precious metals. Trading day D (Monday to Friday) runs from an evening in New York on the day
before to 17:00 New York on D, so daylight saving moves the week's opening and closing hours
in UTC (21:00 in US summer time, 22:00 in winter) and a holiday closes exactly one trading
day. Forex opens each day at 17:00, the previous close, so its days join into one week-long
session; metals open at 18:00, leaving the daily 17:00-18:00 break from Monday to Thursday."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from titan_dagster.calendars.base import Ranges, TradingCalendar
from titan_dagster.ranges import merged
from titan_dagster.timeframes import DAY_MS, day_of_ms, day_start_ms, days_between, to_ms

NEW_YORK = ZoneInfo("America/New_York")
# Christmas and New Year's Day: the trading day ending on them does not trade, whatever weekday.
HOLIDAYS = ((12, 25), (1, 1))


@dataclass(frozen=True, repr=False)
class NewYorkWeekMarket(TradingCalendar):
    name: str
    opens: time  # in New York, on the evening before the trading day
    closes: time = time(17)  # in New York, on the trading day
    holidays: tuple[tuple[int, int], ...] = HOLIDAYS

    @property
    def hours(self) -> str:
        week = f"Sunday {self.opens:%H:%M} to Friday {self.closes:%H:%M} New York"
        if self.opens != self.closes:
            week += f", break {self.closes:%H:%M}-{self.opens:%H:%M} Monday to Thursday"
        return week + ", closed Dec 25 and Jan 1"

    def trades_on(self, day: date) -> bool:
        """Whether `day` is a session date, the date its daily candle carries."""
        return day.weekday() < 5 and (day.month, day.day) not in self.holidays

    def _trading_hours(self, start: int, end: int) -> Ranges:
        # Day D's session lies between 21:00 UTC on D - 1 and 23:00 UTC on D, so only the days
        # from start's date to the day after end's date can overlap [start, end).
        days = days_between(day_of_ms(start), day_of_ms(end - 1) + timedelta(days=1))
        sessions = (self._session(day) for day in days if self.trades_on(day))
        return merged((a, b) for a, b in sessions if a < end and start < b)

    def _session_days(self, start: int, end: int) -> Ranges:
        days = days_between(day_of_ms(start), day_of_ms(end - 1))
        return merged((day_start_ms(day), day_start_ms(day) + DAY_MS)
                      for day in days if self.trades_on(day))

    def _session(self, day: date) -> tuple[int, int]:
        return _new_york_ms(day - timedelta(days=1), self.opens), _new_york_ms(day, self.closes)


@lru_cache(maxsize=65_536)
def _new_york_ms(day: date, clock: time) -> int:
    """`clock` on `day` in New York, in epoch ms; cached as each date's hours recur in every
    query touching it."""
    return to_ms(datetime.combine(day, clock, tzinfo=NEW_YORK))


FOREX = NewYorkWeekMarket("forex", opens=time(17))
METALS = NewYorkWeekMarket("metals", opens=time(18))
