"""Splits what an exchange served into candles to store and rows to quarantine.

A page is validated as columns, not row by row: numbers are parsed by numpy in bulk, the
Pandera schema runs once over the whole page, and the decimal text of a clean column is
checked with one regular expression over the joined column. Per-value Python work happens
only on the rare page that holds something odd.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import islice

import numpy as np
import pandas as pd
import pandera.pandas as pa

from titan_dagster.ingest.candles import VALUE_COLUMNS, Candle, canonical_decimal
from titan_dagster.quality.candle_schema import (
    HIGH_BOUNDS,
    HIGH_RULE,
    LOW_BOUNDS,
    LOW_RULE,
    PRICES,
    candle_schema,
)

# pandera's own names for its built-in checks, as quarantine rules
_BUILT_IN = {"not_nullable": "not_null", "field_uniqueness": "unique_ts"}
# A column whose joined text matches this is plain ASCII decimals: canonical after trimming
# trailing zeros. Anything else (exponents, signs, spaces, other digits) goes through Decimal.
_PLAIN_DECIMALS = re.compile(r"(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?\n)*")


@dataclass(frozen=True)
class Reject:
    ts: int | None
    values: tuple  # open, high, low, close, volume as served
    rule: str  # the failed rules, comma-separated


@dataclass(frozen=True)
class CheckedRows:
    valid: list[Candle]
    rejects: list[Reject]


def check_rows(rows: Sequence[Sequence], step_ms: int, window_start: int, window_end: int,
               now: int, *, offset_ms: int = 0, volume_required: bool = True) -> CheckedRows:
    """Validates raw [ts, open, high, low, close, volume, ...] rows against the candle schema
    (see candle_schema for `offset_ms` and `volume_required`). Rows repeated identically
    collapse into one; every other failure is a Reject."""
    if not rows:
        return CheckedRows([], [])
    texts = _text_columns(rows)
    return check_columns(_timestamps(texts[0]), texts[1:], step_ms, window_start, window_end,
                         now, offset_ms=offset_ms, volume_required=volume_required)


def check_columns(ts: np.ndarray, values: Sequence[list], step_ms: int, window_start: int,
                  window_end: int, now: int, *, offset_ms: int = 0,
                  volume_required: bool = True) -> CheckedRows:
    """check_rows for what arrives as columns already (an archive file): open times as
    int64 ms (-1 where there is none) and the five value columns as served."""
    if not len(ts):
        return CheckedRows([], [])
    texts = [ts.tolist(), *values]
    if len(np.unique(ts)) < len(ts):
        # By parsed open time: what was served there may be anything, even unhashable.
        first: dict[tuple, int] = {}
        for i, key in enumerate(zip(ts.tolist(), *texts[1:], strict=True)):
            first.setdefault(key, i)
        keep = sorted(first.values())
        texts = [[column[i] for i in keep] for column in texts]
        ts = ts[keep]
    values = zip(VALUE_COLUMNS, texts[1:], strict=True)
    numbers = pd.DataFrame({"ts": ts, **{name: _floats(col) for name, col in values}})
    # A row that is not in the future is also inside the window when the window has ended,
    # so capping `now` there changes no verdict and lets every page of a window share one
    # schema instead of building one per page.
    failed = _failed_rules(numbers, _schema(step_ms, window_start, window_end,
                                            min(now, window_end - 1), offset_ms,
                                            volume_required))
    decimals = [_canonical(col, failed) for col in texts[1:]]
    _check_float_ties_exactly(numbers, dict(zip(VALUE_COLUMNS, decimals, strict=True)), failed)
    valid = list(zip(ts.tolist(), *decimals, strict=True))
    if failed:
        valid = [candle for i, candle in enumerate(valid) if i not in failed]
    rejects = [Reject(int(ts[i]) if ts[i] >= 0 else None, tuple(col[i] for col in texts[1:]),
                      ",".join(sorted(rules)))
               for i, rules in sorted(failed.items())]
    return CheckedRows(valid, rejects)


def _text_columns(rows: Sequence[Sequence]) -> list[list]:
    """ts and the five values as served; values as text (None stays None)."""
    if min(map(len, rows)) < 6:
        rows = [(*row, *[None] * (6 - len(row))) for row in rows]
    columns = [list(col) for col in islice(zip(*rows, strict=False), 6)]  # 6 or more fields
    return [columns[0]] + [col if set(map(type, col)) == {str} else
                           [None if v is None else str(v) for v in col]
                           for col in columns[1:]]


def _timestamps(column: list) -> np.ndarray:
    """Open times as int64; anything that is not a whole number of ms becomes -1, which the
    schema rejects as unaligned or outside the window."""
    if set(map(type, column)) == {int}:
        try:
            return np.array(column, dtype=np.int64)
        except OverflowError:
            pass
    ts = pd.to_numeric(pd.Series(column, dtype=object), errors="coerce")
    whole = ts.where((ts == ts.round()) & (ts.abs() < 2**62))
    return whole.fillna(-1).astype(np.int64).to_numpy()


def _floats(column: list) -> np.ndarray:
    """float64 for checking; text that is not a number becomes NaN, which fails not_null."""
    try:
        return np.array(column, dtype=np.float64)
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(column, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64)


@lru_cache(maxsize=256)
def _schema(step_ms: int, window_start: int, window_end: int, now: int, offset_ms: int,
            volume_required: bool) -> pa.DataFrameSchema:
    return candle_schema(step_ms, window_start, window_end, now, offset_ms, volume_required)


def _failed_rules(numbers: pd.DataFrame, schema: pa.DataFrameSchema) -> dict[int, set[str]]:
    """Row index -> the rules it breaks. Pandera's own validation, which names every failure
    case, runs only when the quick verdict finds something."""
    if _all_pass(numbers, schema):
        return {}
    failed: dict[int, set[str]] = {}
    try:
        schema.validate(numbers, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as errors:
        for check, index in errors.failure_cases[["check", "index"]].itertuples(index=False):
            if index is not None and index == index:  # NaN index: a whole-column failure
                failed.setdefault(int(index), set()).add(_BUILT_IN.get(check, str(check)))
    return failed


def _all_pass(numbers: pd.DataFrame, schema: pa.DataFrameSchema) -> bool:
    """Whether every row passes, from the schema's own check functions applied to whole
    columns: the same rules as pandera's validate at a fraction of its per-check cost (which
    dominated a page's processing). Anything the quick path does not cover goes to pandera."""
    if list(numbers.columns) != list(schema.columns) or schema.unique:
        return False
    for name, column in schema.columns.items():
        values = numbers[name]
        if str(values.dtype) != str(column.dtype) or not column.nullable and values.isna().any():
            return False
        if column.nullable:
            values = values.dropna()  # pandera's checks skip a nullable column's nulls too
        if column.unique and values.duplicated().any():
            return False
        if not all(_check_passes(check, values) for check in column.checks):
            return False
    return all(_check_passes(check, numbers) for check in schema.checks)


def _check_passes(check: pa.Check, data) -> bool:
    if check.element_wise or check.groupby is not None:
        return False
    return bool(np.all(check._check_fn(data)))


# The schema's price-order rules as (rule, greater or equal, smaller or equal) triples.
_ORDER = [*((HIGH_RULE, "high", other) for other in HIGH_BOUNDS),
          *((LOW_RULE, other, "low") for other in LOW_BOUNDS)]
_FLOAT_EXACT_CHARS = 15


def _check_float_ties_exactly(numbers: pd.DataFrame, decimals: dict[str, list],
                              failed: dict[int, set[str]]) -> None:
    """float64 holds ~16 significant digits: two prices that differ further down compare as
    equal, and "high >= open" can pass when it is false. Where a float comparison tied but
    the canonical texts differ, the rule is decided again in exact decimal arithmetic."""
    # Up to 15 digits, distinct decimals are distinct doubles: the float verdict was exact.
    # (Only when every row passed are all texts canonical; rejected rows keep what was
    # served, perhaps not text at all.)
    if not failed and max(max(map(len, decimals[name])) for name in PRICES) \
            <= _FLOAT_EXACT_CHARS:
        return
    texts = {name: np.array(column, dtype=object) for name, column in decimals.items()}
    rejected = set(failed)  # their texts are as served, not canonical: already decided
    for rule, big, small in _ORDER:
        tied = (numbers[big].to_numpy() == numbers[small].to_numpy()) & (
            texts[big] != texts[small])
        for i in np.flatnonzero(tied).tolist():
            if i not in rejected and Decimal(texts[big][i]) < Decimal(texts[small][i]):
                failed.setdefault(i, set()).add(rule)


def _canonical(column: list, failed: dict[int, set[str]]) -> list:
    """Canonical decimal text for the rows that passed; rejected rows keep what was served.
    A missing value that passed is one the schema allows (no volume): it stays missing."""
    if None not in column and _PLAIN_DECIMALS.fullmatch("\n".join(column) + "\n"):
        return [v.rstrip("0").rstrip(".") if "." in v else v for v in column]
    out = []
    for i, value in enumerate(column):
        if value is None:
            out.append(None)
            continue
        try:
            out.append(value if i in failed else canonical_decimal(value))
        except (InvalidOperation, ValueError, TypeError):
            # Passed the float checks but has no sane decimal form: the row is rejected (the
            # caller builds its valid rows after this), keeping the text as served.
            failed.setdefault(i, set()).add("not_decimal")
            out.append(value)
    return out
