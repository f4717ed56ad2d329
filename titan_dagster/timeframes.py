"""UTC time arithmetic shared by the exchange, ingest and warehouse layers.

Everything is epoch milliseconds, the unit ccxt and exchanges speak.
"""

import re
from datetime import UTC, date, datetime, timedelta

DAY_MS = 86_400_000
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": DAY_MS}
_TIMEFRAME = re.compile(r"([1-9][0-9]{0,2})([mhd])")


def timeframe_ms(timeframe: str) -> int:
    """Length of a candle, e.g. '1h' -> 3_600_000. Only whole divisors of a day are accepted,
    so that every day partition holds a whole number of candles aligned to UTC midnight."""
    match = _TIMEFRAME.fullmatch(timeframe)
    if not match:
        raise ValueError(f"{timeframe!r} is not a timeframe from 1m to 1d (like 1m, 1h, 1d)")
    length = int(match.group(1)) * _UNIT_MS[match.group(2)]
    if length > DAY_MS or DAY_MS % length:
        raise ValueError(f"{timeframe!r} does not divide a UTC day evenly (allowed: 1m up to 1d)")
    return length


def floor_ms(ts_ms: int, step_ms: int, offset_ms: int = 0) -> int:
    """The slot of a grid of `step_ms` slots (placed `offset_ms` after the epoch's) holding
    `ts_ms`."""
    return ts_ms - (ts_ms - offset_ms) % step_ms


def day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def day_of_ms(ts_ms: int) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).date()


def to_datetime(ts_ms: int) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC)


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no timezone; titan_dagster works in UTC only")
    return int(moment.timestamp() * 1000)


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def days_between(first: date, last: date) -> list[date]:
    """Every day from first to last, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
