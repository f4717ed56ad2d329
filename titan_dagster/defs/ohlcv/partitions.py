from datetime import UTC, date, timedelta

import dagster as dg


def daily_partitions(start: date) -> dg.DailyPartitionsDefinition:
    """One partition per UTC day from `start`, today included (end_offset=1) so the
    current day can be kept fresh."""
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC",
                                        end_offset=1)


def days_of_window(window: dg.TimeWindow) -> tuple[date, date]:
    """First and last UTC day of a partition time window [start, end)."""
    first = window.start.astimezone(UTC).date()
    return first, window.end.astimezone(UTC).date() - timedelta(days=1)
