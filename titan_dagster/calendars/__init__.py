"""Trading calendars: when each market trades, and so which candles a complete history holds.
Pure Python (no Dagster, no database); all times are epoch milliseconds UTC."""

from titan_dagster.calendars.base import TradingCalendar, step_name
from titan_dagster.calendars.crypto import CRYPTO
from titan_dagster.calendars.lookup import calendar_of, has_volume
from titan_dagster.calendars.new_york_week import FOREX, METALS
from titan_dagster.calendars.nyse import XNYS

__all__ = ["CRYPTO", "FOREX", "METALS", "XNYS", "TradingCalendar", "calendar_of", "has_volume",
           "step_name"]
