"""Test helpers: literal UTC moments and a slow, obviously right slot enumerator."""

from datetime import UTC, datetime

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
HALF_HOUR = 30 * MINUTE


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()) * 1000


def brute_slots(calendar, start: int, end: int, step: int) -> list[int]:
    """Every expected slot opening in [start, end), one grid point at a time, from is_open.

    Every market's hours begin and end on a half hour in UTC, so a candle trades at some
    moment iff it trades at one of its half-hour marks (its open, for shorter candles). A
    daily slot is expected iff the market is open at 16:00 UTC that day: forex and metals
    trade then on every session date and never on others, and NYSE sessions open by 14:30
    UTC and close at 17:00 UTC at the earliest."""
    offset = calendar.offset(step)
    slot = start + (offset - start) % step
    slots = []
    while slot < end:
        probes = [slot + 16 * HOUR] if step == DAY \
            else range(slot, slot + step, min(step, HALF_HOUR))
        if any(calendar.is_open(moment) for moment in probes):
            slots.append(slot)
        slot += step
    return slots


def brute_span_end(calendar, start: int, step: int, slots: int, limit: int) -> int:
    found = brute_slots(calendar, start, limit, step)
    return min(limit, found[slots - 1] + step) if len(found) >= slots else limit
