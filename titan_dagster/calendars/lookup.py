"""Which calendar a configured symbol trades on, from its source and spelling."""

from titan_dagster.calendars.base import TradingCalendar
from titan_dagster.calendars.crypto import CRYPTO
from titan_dagster.calendars.new_york_week import FOREX, METALS
from titan_dagster.calendars.nyse import XNYS

# Twelve Data serves forex, metals and US stocks; every other source is a crypto exchange.
TWELVE_DATA = "twelvedata"
METAL_CODES = frozenset({"XAU", "XAG", "XPT", "XPD"})


def calendar_of(source: str, symbol: str) -> TradingCalendar:
    """Twelve Data spells currency and metal pairs with a '/' ('EUR/USD', 'XAU/USD') and stocks
    as bare tickers ('AAPL')."""
    if source != TWELVE_DATA:
        return CRYPTO
    if "/" not in symbol:
        return XNYS
    base = symbol.split("/", 1)[0].strip().upper()
    return METALS if base in METAL_CODES else FOREX


def has_volume(source: str, symbol: str) -> bool:
    """Forex and metals trade over the counter, with no exchange to count volume: Twelve Data
    serves none for them, so a volume check there would only ever see zeros or gaps."""
    return calendar_of(source, symbol) not in (FOREX, METALS)
