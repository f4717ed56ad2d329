"""expected, count, span_end and next_slot agree with a slot-by-slot enumeration on random
windows of every calendar."""

import random

import pytest

from tests.calendars.helpers import DAY, HOUR, MINUTE, brute_slots, brute_span_end, utc
from titan_dagster.calendars import CRYPTO, FOREX, METALS, XNYS
from titan_dagster.ranges import slots_to_ranges

CALENDARS = [CRYPTO, FOREX, METALS, XNYS]
STEPS = [MINUTE, 5 * MINUTE, 30 * MINUTE, HOUR, 4 * HOUR, DAY]
# XNYS's schedule reaches at least this far either way whenever the tests run.
EARLIEST, LATEST = utc(2010, 1, 1), utc(2025, 6, 1)


def random_case(rng: random.Random):
    calendar = rng.choice(CALENDARS)
    step = rng.choice([s for s in STEPS if calendar.supports(s)])
    start = rng.randrange(EARLIEST, LATEST)
    limit = start + rng.randrange(0, 400) * step + rng.randrange(0, step)
    return calendar, step, start, rng.randrange(1, 300), limit


@pytest.mark.parametrize("seed", range(60))
def test_random_windows(seed):
    calendar, step, start, slots, limit = random_case(random.Random(seed))
    truth = brute_slots(calendar, start, limit, step)
    assert calendar.expected(start, limit, step) == slots_to_ranges(truth, step)
    assert calendar.count(start, limit, step) == len(truth)
    assert calendar.span_end(start, step, slots, limit) == \
        brute_span_end(calendar, start, step, slots, limit)


@pytest.mark.parametrize("seed", range(30))
def test_next_slot(seed):
    calendar, step, after, _, _ = random_case(random.Random(seed))
    # Every calendar trades within any 10 days; for 1d slots look 10 days ahead.
    truth = brute_slots(calendar, after + 1, after + 10 * DAY, step)
    assert calendar.next_slot(after, step) == truth[0]


def test_holiday_weeks():
    # Around Christmas and New Year, where the weekly markets have their odd gaps.
    for calendar in (FOREX, METALS, XNYS):
        for step in (5 * MINUTE, HOUR, DAY):
            start, limit = utc(2024, 12, 20, 13, 7), utc(2025, 1, 6, 3)
            truth = brute_slots(calendar, start, limit, step)
            assert calendar.expected(start, limit, step) == slots_to_ranges(truth, step)
            for slots in (1, len(truth) // 2, len(truth), len(truth) + 1):
                assert calendar.span_end(start, step, max(1, slots), limit) == \
                    brute_span_end(calendar, start, step, max(1, slots), limit)
