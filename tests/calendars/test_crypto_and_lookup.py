"""The always-open calendar, the checks every calendar shares, and which calendar a symbol
trades on."""

import pytest

from tests.calendars.helpers import DAY, HOUR, MINUTE, utc
from titan_dagster.calendars import (
    CRYPTO,
    FOREX,
    METALS,
    XNYS,
    calendar_of,
    has_volume,
    step_name,
)


def test_crypto_expects_every_slot():
    assert CRYPTO.expected(utc(2026, 7, 11), utc(2026, 7, 13), MINUTE) == [
        (utc(2026, 7, 11), utc(2026, 7, 13))]
    assert CRYPTO.count(utc(2026, 1, 1), utc(2027, 1, 1), HOUR) == 365 * 24
    assert CRYPTO.count(utc(2026, 1, 1), utc(2027, 1, 1), DAY) == 365


def test_crypto_is_always_open():
    assert CRYPTO.is_open(utc(2026, 7, 11, 12))
    assert CRYPTO.closed_since(utc(2025, 12, 25, 12)) is None
    assert CRYPTO.next_slot(utc(2026, 7, 11, 12) + 1, MINUTE) == utc(2026, 7, 11, 12, 1)


def test_crypto_span_end_is_plain_arithmetic():
    assert CRYPTO.span_end(utc(2026, 7, 11), HOUR, 10, utc(2027, 1, 1)) == utc(2026, 7, 11, 10)
    assert CRYPTO.span_end(utc(2026, 7, 11), HOUR, 10, utc(2026, 7, 11, 5)) == \
        utc(2026, 7, 11, 5)
    with pytest.raises(ValueError, match="at least one"):
        CRYPTO.span_end(utc(2026, 7, 11), HOUR, 0, utc(2027, 1, 1))


@pytest.mark.parametrize("calendar", [CRYPTO, FOREX, METALS])
@pytest.mark.parametrize("step", [MINUTE, 5 * MINUTE, HOUR, 4 * HOUR, 8 * HOUR, DAY])
def test_utc_aligned_calendars_put_every_grid_at_midnight(calendar, step):
    assert calendar.offset(step) == 0
    assert calendar.supports(step)


@pytest.mark.parametrize("calendar", [CRYPTO, FOREX, METALS, XNYS])
def test_steps_not_dividing_a_day_are_refused(calendar):
    assert not calendar.supports(7 * MINUTE)
    with pytest.raises(ValueError, match="7m"):
        calendar.expected(utc(2026, 7, 7), utc(2026, 7, 8), 7 * MINUTE)


def test_hours_say_when_each_market_trades():
    assert CRYPTO.hours == "always open"
    assert FOREX.hours == "Sunday 17:00 to Friday 17:00 New York, closed Dec 25 and Jan 1"
    assert METALS.hours == ("Sunday 18:00 to Friday 17:00 New York, break 17:00-18:00 Monday "
                            "to Thursday, closed Dec 25 and Jan 1")
    assert "09:30 to 16:00 New York" in XNYS.hours


def test_step_names():
    assert [step_name(s) for s in (MINUTE, 45 * MINUTE, HOUR, 4 * HOUR, DAY)] == \
        ["1m", "45m", "1h", "4h", "1d"]


@pytest.mark.parametrize(("source", "symbol", "calendar"), [
    ("binance", "BTC/USDT", CRYPTO), ("kraken", "XAU/USD", CRYPTO), ("okx", "AAPL", CRYPTO),
    ("twelvedata", "EUR/USD", FOREX), ("twelvedata", "USD/JPY", FOREX),
    ("twelvedata", "XAU/USD", METALS), ("twelvedata", "XAG/EUR", METALS),
    ("twelvedata", "XPT/USD", METALS), ("twelvedata", "XPD/USD", METALS),
    ("twelvedata", "AAPL", XNYS)])
def test_calendar_of(source, symbol, calendar):
    assert calendar_of(source, symbol) is calendar


@pytest.mark.parametrize(("source", "symbol", "volume"), [
    ("twelvedata", "EUR/USD", False), ("twelvedata", "XAU/USD", False),
    ("twelvedata", "AAPL", True), ("binance", "BTC/USDT", True)])
def test_has_volume(source, symbol, volume):
    assert has_volume(source, symbol) is volume
