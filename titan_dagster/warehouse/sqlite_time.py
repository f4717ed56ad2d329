"""SQLite keeps times as ISO-8601 UTC text: readable, sortable, understood by its date functions."""

from datetime import UTC, datetime

from titan_dagster.timeframes import to_ms

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso_from_ms(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime(_FORMAT)


def ms_from_iso(text: str) -> int:
    return int(datetime.strptime(text, _FORMAT).replace(tzinfo=UTC).timestamp() * 1000)


def stored_ms(value: str | datetime | None) -> int | None:
    """A stored time in epoch ms, whichever backend read it: text from SQLite, a datetime
    from PostgreSQL."""
    if value is None:
        return None
    return ms_from_iso(value) if isinstance(value, str) else to_ms(value)
