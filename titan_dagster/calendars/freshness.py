"""Whether a series is stale, judged on its market's calendar: a candle that no trading hour
produced is not late."""

from dataclasses import dataclass

from titan_dagster.calendars.base import TradingCalendar

# A closed candle may take this long to be stored (the refresh ticks at the close, fetches
# a few seconds later) before the series counts as stale.
GRACE_MS = 60_000


@dataclass(frozen=True)
class Freshness:
    stale: bool
    age_s: float | None  # since the newest candle opened; None: no candle at all


def freshness(calendar: TradingCalendar, step: int, newest: int | None, now: int) -> Freshness:
    """Stale when the candle the calendar expects after the newest stored one closed more
    than a minute ago (24/7: the newest opened over two candles and a minute ago)."""
    if newest is None:
        return Freshness(True, None)
    following = calendar.next_slot(newest, step)
    stale = following is not None and now > following + step + GRACE_MS
    return Freshness(stale, (now - newest) / 1000)
