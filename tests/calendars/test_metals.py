"""Metals: Sunday 18:00 to Friday 17:00 New York, with a 17:00-18:00 break Monday to Thursday."""

from tests.calendars.helpers import DAY, HOUR, MINUTE, utc
from titan_dagster.calendars import METALS


def test_daily_break_is_21_to_22_utc_in_summer():
    assert METALS.expected(utc(2026, 7, 7, 20), utc(2026, 7, 7, 23), HOUR) == [
        (utc(2026, 7, 7, 20), utc(2026, 7, 7, 21)), (utc(2026, 7, 7, 22), utc(2026, 7, 7, 23))]


def test_daily_break_is_22_to_23_utc_in_winter():
    assert METALS.expected(utc(2026, 1, 13, 21), utc(2026, 1, 14), HOUR) == [
        (utc(2026, 1, 13, 21), utc(2026, 1, 13, 22)), (utc(2026, 1, 13, 23), utc(2026, 1, 14))]


def test_week_opens_sunday_18_new_york():
    assert METALS.expected(utc(2026, 7, 5), utc(2026, 7, 6), HOUR) == [
        (utc(2026, 7, 5, 22), utc(2026, 7, 6))]
    assert METALS.expected(utc(2026, 1, 11), utc(2026, 1, 12), HOUR) == [
        (utc(2026, 1, 11, 23), utc(2026, 1, 12))]


def test_summer_week_has_119_hours_less_four_breaks():
    # Sunday 22:00 to Friday 21:00 UTC, without the breaks Monday to Thursday.
    assert METALS.count(utc(2026, 7, 4), utc(2026, 7, 12), MINUTE) == (119 - 4) * 60
    assert len(METALS.expected(utc(2026, 7, 4), utc(2026, 7, 12), MINUTE)) == 5


def test_christmas_closes_the_session_ending_that_day():
    # Dec 24 closes at 17:00 New York (22:00 UTC); Dec 26's session opens Dec 25 18:00.
    assert METALS.expected(utc(2025, 12, 24), utc(2025, 12, 27), HOUR) == [
        (utc(2025, 12, 24), utc(2025, 12, 24, 22)), (utc(2025, 12, 25, 23), utc(2025, 12, 26, 22))]


def test_daily_slots_are_weekdays_without_new_years_day():
    assert METALS.expected(utc(2025, 12, 29), utc(2026, 1, 5), DAY) == [
        (utc(2025, 12, 29), utc(2026, 1, 1)), (utc(2026, 1, 2), utc(2026, 1, 3))]


def test_closed_during_the_break_since_its_start():
    assert not METALS.is_open(utc(2026, 7, 7, 21, 30))
    assert METALS.closed_since(utc(2026, 7, 7, 21, 30)) == utc(2026, 7, 7, 21)
    assert METALS.is_open(utc(2026, 7, 7, 22))
    assert METALS.closed_since(utc(2026, 7, 11, 12)) == utc(2026, 7, 10, 21)


def test_next_slot_after_the_last_one_before_the_break():
    assert METALS.next_slot(utc(2026, 7, 7, 20, 59), MINUTE) == utc(2026, 7, 7, 22)
