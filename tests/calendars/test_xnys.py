"""US stocks: NYSE sessions from exchange_calendars, holidays and early closes included."""

import exchange_calendars as xc
import pytest

from tests.calendars.helpers import DAY, HOUR, MINUTE, utc
from titan_dagster.calendars import XNYS


def test_summer_day_has_seven_hourly_slots_from_13_30_utc():
    # 09:30 to 16:00 New York is 13:30 to 20:00 UTC; the last bar opens 15:30 New York.
    assert XNYS.expected(utc(2026, 7, 7), utc(2026, 7, 8), HOUR) == [
        (utc(2026, 7, 7, 13, 30), utc(2026, 7, 7, 20, 30))]
    assert XNYS.count(utc(2026, 7, 7), utc(2026, 7, 8), HOUR) == 7
    assert XNYS.expected(utc(2026, 7, 7), utc(2026, 7, 8), MINUTE) == [
        (utc(2026, 7, 7, 13, 30), utc(2026, 7, 7, 20))]


def test_day_after_thanksgiving_closes_at_13_new_york():
    # 09:30 to 13:00 EST is 14:30 to 18:00 UTC: hourly bars at 09:30, 10:30, 11:30, 12:30.
    assert XNYS.expected(utc(2026, 11, 27), utc(2026, 11, 28), HOUR) == [
        (utc(2026, 11, 27, 14, 30), utc(2026, 11, 27, 18, 30))]
    assert XNYS.count(utc(2026, 11, 27), utc(2026, 11, 28), HOUR) == 4
    assert XNYS.count(utc(2026, 11, 27), utc(2026, 11, 28), MINUTE) == 210


def test_thanksgiving_has_no_slots():
    for step in (MINUTE, HOUR, DAY):
        assert XNYS.expected(utc(2026, 11, 26), utc(2026, 11, 27), step) == []


def test_daily_slots_are_session_dates():
    assert XNYS.expected(utc(2026, 11, 21), utc(2026, 11, 30), DAY) == [
        (utc(2026, 11, 23), utc(2026, 11, 26)), (utc(2026, 11, 27), utc(2026, 11, 28))]


@pytest.mark.parametrize(("step", "offset"), [
    (MINUTE, 0), (5 * MINUTE, 0), (15 * MINUTE, 0), (30 * MINUTE, 0), (HOUR, 30 * MINUTE),
    (DAY, 0)])
def test_offsets(step, offset):
    assert XNYS.offset(step) == offset
    assert XNYS.supports(step)


@pytest.mark.parametrize(("step", "name"), [
    (2 * HOUR, "2h"), (4 * HOUR, "4h"), (45 * MINUTE, "45m"), (8 * HOUR, "8h")])
def test_steps_off_the_utc_grid_are_refused(step, name):
    with pytest.raises(ValueError, match=f"'{name}' candles of US stocks .* 09:30 New York"):
        XNYS.offset(step)
    with pytest.raises(ValueError, match=name):
        XNYS.expected(utc(2026, 7, 7), utc(2026, 7, 8), step)
    assert not XNYS.supports(step)


def test_dates_outside_the_schedule_are_refused_by_name():
    with pytest.raises(ValueError, match="2000-01-03"):
        XNYS.expected(utc(2000, 1, 3), utc(2000, 1, 4), DAY)
    with pytest.raises(ValueError, match="2040-01-02"):
        XNYS.count(utc(2026, 1, 2), utc(2040, 1, 3), HOUR)
    with pytest.raises(ValueError, match="2040-01-02"):
        XNYS.is_open(utc(2040, 1, 2, 15))


def test_closed_on_saturday_since_friday_16_new_york():
    assert not XNYS.is_open(utc(2026, 7, 11, 12))
    assert XNYS.closed_since(utc(2026, 7, 11, 12)) == utc(2026, 7, 10, 20)


def test_closed_on_thanksgiving_since_wednesday_close():
    assert XNYS.closed_since(utc(2026, 11, 26, 17)) == utc(2026, 11, 25, 21)


def test_open_on_tuesday_afternoon():
    assert XNYS.is_open(utc(2026, 7, 7, 16))
    assert XNYS.closed_since(utc(2026, 7, 7, 16)) is None


def test_next_slot_skips_thanksgiving():
    assert XNYS.next_slot(utc(2026, 11, 25, 20, 30), HOUR) == utc(2026, 11, 27, 14, 30)
    assert XNYS.next_slot(utc(2026, 11, 25), DAY) == utc(2026, 11, 27)


def test_next_slot_after_the_last_known_session_is_none():
    last_close = xc.get_calendar("XNYS").schedule["close"].iloc[-1]
    assert XNYS.next_slot(int(last_close.timestamp()) * 1000, HOUR) is None


def test_span_end_counts_session_hours_only():
    # Wednesday 2026-11-25's last two bars (19:30, 20:30 UTC), then Friday's four.
    assert XNYS.span_end(utc(2026, 11, 25, 19), HOUR, 5, utc(2026, 12, 31)) == \
        utc(2026, 11, 27, 17, 30)


def test_two_years_of_minutes_hold_one_range_per_session():
    sessions = xc.get_calendar("XNYS").sessions_in_range("2024-01-01", "2025-12-31")
    ranges = XNYS.expected(utc(2024, 1, 1), utc(2026, 1, 1), MINUTE)
    assert len(ranges) == len(sessions)
