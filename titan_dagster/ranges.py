"""Arithmetic on [start, end) millisecond ranges, for holes and gaps."""

from collections.abc import Iterable


def slots_to_ranges(slots: Iterable[int], step: int) -> list[tuple[int, int]]:
    """Sorted open times -> contiguous [start, end) ranges."""
    ranges: list[tuple[int, int]] = []
    for ts in sorted(slots):
        if ranges and ranges[-1][1] == ts:
            ranges[-1] = (ranges[-1][0], ts + step)
        else:
            ranges.append((ts, ts + step))
    return ranges


def subtract(ranges: list[tuple[int, int]], cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of `ranges` not covered by any of `cuts`."""
    remaining = list(ranges)
    for cut_start, cut_end in cuts:
        pieces = []
        for start, end in remaining:
            if cut_end <= start or end <= cut_start:
                pieces.append((start, end))
                continue
            if start < cut_start:
                pieces.append((start, cut_start))
            if cut_end < end:
                pieces.append((cut_end, end))
        remaining = pieces
    return remaining


def intersect(ranges: list[tuple[int, int]], others: list[tuple[int, int]]
              ) -> list[tuple[int, int]]:
    return [(max(a, c), min(b, d)) for a, b in ranges for c, d in others
            if max(a, c) < min(b, d)]


def merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges with touching or overlapping ones joined: [(0, 5), (5, 9)] -> [(0, 9)]."""
    joined: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


def total(ranges: Iterable[tuple[int, int]], step: int) -> int:
    return sum((end - start) // step for start, end in ranges)
