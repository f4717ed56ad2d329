"""Forex: Sunday 17:00 to Friday 17:00 New York, closed for Christmas and New Year's Day."""

import time

from tests.calendars.helpers import DAY, HOUR, MINUTE, utc
from titan_dagster.calendars import FOREX


def test_summer_week_runs_sunday_to_friday_21_utc():
    assert FOREX.expected(utc(2026, 7, 4), utc(2026, 7, 12), MINUTE) == [
        (utc(2026, 7, 5, 21), utc(2026, 7, 10, 21))]
    assert FOREX.count(utc(2026, 7, 4), utc(2026, 7, 12), HOUR) == 5 * 24


def test_winter_week_runs_sunday_to_friday_22_utc():
    assert FOREX.expected(utc(2026, 1, 10), utc(2026, 1, 18), MINUTE) == [
        (utc(2026, 1, 11, 22), utc(2026, 1, 16, 22))]


def test_4h_slot_holding_sunday_opening_hours_is_expected():
    # 20:00-24:00 UTC holds Sunday's first three hours; Friday's 20:00 bar its last one.
    assert FOREX.expected(utc(2026, 7, 4), utc(2026, 7, 12), 4 * HOUR) == [
        (utc(2026, 7, 5, 20), utc(2026, 7, 11))]


def test_march_switch_week_closes_22_utc_and_reopens_21_utc():
    # US summer time starts Sunday 2026-03-08 02:00, before the 17:00 opening.
    assert FOREX.expected(utc(2026, 3, 6), utc(2026, 3, 9), MINUTE) == [
        (utc(2026, 3, 6), utc(2026, 3, 6, 22)), (utc(2026, 3, 8, 21), utc(2026, 3, 9))]


def test_november_switch_week_closes_21_utc_and_reopens_22_utc():
    assert FOREX.expected(utc(2026, 10, 30), utc(2026, 11, 2), MINUTE) == [
        (utc(2026, 10, 30), utc(2026, 10, 30, 21)), (utc(2026, 11, 1, 22), utc(2026, 11, 2))]


def test_christmas_on_a_thursday_closes_one_trading_day():
    assert FOREX.expected(utc(2025, 12, 24), utc(2025, 12, 27), HOUR) == [
        (utc(2025, 12, 24), utc(2025, 12, 24, 22)), (utc(2025, 12, 25, 22), utc(2025, 12, 26, 22))]


def test_new_years_day_on_a_thursday_closes_one_trading_day():
    assert FOREX.expected(utc(2025, 12, 31), utc(2026, 1, 3), HOUR) == [
        (utc(2025, 12, 31), utc(2025, 12, 31, 22)), (utc(2026, 1, 1, 22), utc(2026, 1, 2, 22))]


def test_christmas_on_a_friday_ends_the_week_on_thursday():
    assert FOREX.expected(utc(2026, 12, 20), utc(2026, 12, 28), HOUR) == [
        (utc(2026, 12, 20, 22), utc(2026, 12, 24, 22)), (utc(2026, 12, 27, 22), utc(2026, 12, 28))]


def test_daily_slots_are_weekdays():
    assert FOREX.expected(utc(2026, 7, 4), utc(2026, 7, 13), DAY) == [
        (utc(2026, 7, 6), utc(2026, 7, 11))]


def test_daily_slots_skip_christmas_and_new_years_day():
    assert FOREX.expected(utc(2025, 12, 22), utc(2026, 1, 5), DAY) == [
        (utc(2025, 12, 22), utc(2025, 12, 25)), (utc(2025, 12, 26), utc(2025, 12, 27)),
        (utc(2025, 12, 29), utc(2026, 1, 1)), (utc(2026, 1, 2), utc(2026, 1, 3))]


def test_window_edges_off_the_grid_keep_slots_opening_inside():
    # 12:00:30 to 12:03:00: the slots opening at 12:01 and 12:02.
    assert FOREX.expected(utc(2026, 7, 7, 12) + 30_000, utc(2026, 7, 7, 12, 3), MINUTE) == [
        (utc(2026, 7, 7, 12, 1), utc(2026, 7, 7, 12, 3))]
    assert FOREX.expected(utc(2026, 7, 11), utc(2026, 7, 12), MINUTE) == []


def test_closed_on_saturday_since_friday_close():
    assert not FOREX.is_open(utc(2026, 7, 11, 12))
    assert FOREX.closed_since(utc(2026, 7, 11, 12)) == utc(2026, 7, 10, 21)
    assert FOREX.closed_since(utc(2026, 7, 10, 21)) == utc(2026, 7, 10, 21)


def test_open_on_tuesday_noon_and_from_the_sunday_opening():
    assert FOREX.is_open(utc(2026, 7, 7, 12))
    assert FOREX.closed_since(utc(2026, 7, 7, 12)) is None
    assert FOREX.is_open(utc(2026, 7, 5, 21))
    assert not FOREX.is_open(utc(2026, 7, 5, 21) - 1)
    assert FOREX.is_open(utc(2026, 7, 10, 21) - 1)


def test_closed_over_christmas_since_the_evening_before():
    assert FOREX.closed_since(utc(2025, 12, 25, 12)) == utc(2025, 12, 24, 22)


def test_next_slot_skips_the_weekend():
    assert FOREX.next_slot(utc(2026, 7, 10, 20), HOUR) == utc(2026, 7, 12, 21)
    assert FOREX.next_slot(utc(2026, 7, 7, 12) + 30_000, MINUTE) == utc(2026, 7, 7, 12, 1)
    assert FOREX.next_slot(utc(2026, 7, 10), DAY) == utc(2026, 7, 13)


def test_span_end_crosses_the_weekend():
    # 19:00 and 20:00 on Friday, then Sunday 21:00.
    assert FOREX.span_end(utc(2026, 7, 10, 19), HOUR, 3, utc(2026, 8, 1)) == utc(2026, 7, 12, 22)
    assert FOREX.span_end(utc(2026, 7, 10, 19), HOUR, 3, utc(2026, 7, 12)) == utc(2026, 7, 12)


def test_span_end_of_4950_hours_reaches_past_two_holidays():
    # 2026-03-15 (Sunday): 40 whole weeks of 120 hours to 2026-12-18, the Christmas week's 96
    # hours (Sunday 22:00 to Thursday 22:00 UTC), then 54 more from Sunday 2026-12-27 22:00:
    # the last opens 53 hours later, Wednesday 2026-12-30 03:00.
    assert FOREX.span_end(utc(2026, 3, 15), HOUR, 4950, utc(2027, 6, 1)) == utc(2026, 12, 30, 4)


def test_two_years_of_minutes_are_weekly_ranges_quickly():
    # 104 weeks from Sunday 2024-01-07; Christmas and New Year's Day fall midweek in both
    # winters, each splitting its week in two and taking a day of 1440 minutes.
    started = time.perf_counter()
    ranges = FOREX.expected(utc(2024, 1, 7), utc(2026, 1, 4), MINUTE)
    elapsed = time.perf_counter() - started
    assert len(ranges) == 104 + 4
    assert sum((b - a) // MINUTE for a, b in ranges) == 104 * 5 * 1440 - 4 * 1440
    print(f"2 years of 1m forex slots in {elapsed * 1000:.1f} ms")
