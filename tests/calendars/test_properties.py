"""The brute-force agreement as a hypothesis property, where hypothesis is installed."""

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.calendars.helpers import brute_slots, brute_span_end  # noqa: E402
from tests.calendars.test_against_brute_force import (  # noqa: E402
    CALENDARS,
    EARLIEST,
    LATEST,
    STEPS,
)


@st.composite
def cases(draw):
    calendar = draw(st.sampled_from(CALENDARS))
    step = draw(st.sampled_from([s for s in STEPS if calendar.supports(s)]))
    start = draw(st.integers(EARLIEST, LATEST))
    limit = start + draw(st.integers(0, 300)) * step + draw(st.integers(0, step - 1))
    return calendar, step, start, draw(st.integers(1, 300)), limit


@settings(max_examples=60, deadline=None)
@given(cases())
def test_span_end_and_count_match_brute_force(case):
    calendar, step, start, slots, limit = case
    truth = brute_slots(calendar, start, limit, step)
    assert calendar.count(start, limit, step) == len(truth)
    assert calendar.span_end(start, step, slots, limit) == \
        brute_span_end(calendar, start, step, slots, limit)
