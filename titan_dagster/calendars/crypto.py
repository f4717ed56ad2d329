"""Crypto markets never close: every slot of the grid is expected."""

from titan_dagster.calendars.base import Ranges, TradingCalendar


class AlwaysOpen(TradingCalendar):
    name = "24/7"
    hours = "always open"

    def _trading_hours(self, start: int, end: int) -> Ranges:
        return [(start, end)] if start < end else []

    def _session_days(self, start: int, end: int) -> Ranges:
        return [(start, end)] if start < end else []


CRYPTO = AlwaysOpen()
