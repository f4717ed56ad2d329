"""Whose business a missing candle is: one rule for the quality checks, the gap report and
`titan list-data`, so that they never disagree on what is still healable."""

from collections.abc import Iterable

from titan_dagster.ranges import intersect, slots_to_ranges, subtract

Ranges = list[tuple[int, int]]


def quarantined_slots(reject_ts: Iterable[float | None], step: int, offset: int) -> Ranges:
    """The grid slots of quarantined rows. A row served without a time, or off the grid,
    stands for no slot."""
    return slots_to_ranges({int(ts) for ts in reject_ts
                            if ts is not None and ts == ts and (ts - offset) % step == 0}, step)


def split_missing(missing: Ranges, quarantined: Ranges, confirmed: Ranges
                  ) -> tuple[Ranges, Ranges]:
    """Missing slots as (healable, confirmed absent on the exchange). A slot whose row was
    quarantined is neither: the invalid check reports it."""
    missing = subtract(missing, quarantined)
    return subtract(missing, confirmed), intersect(missing, confirmed)
