"""Splits what an exchange served into candles to store and rows to quarantine."""

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from titan_dagster.ingest.candles import Candle, canonical_decimal
from titan_dagster.quality.candle_schema import PRICES, candle_schema

_COLUMNS = ["ts", *PRICES, "volume"]
# pandera's own names for its built-in checks, as quarantine rules
_BUILT_IN = {"not_nullable": "not_null", "field_uniqueness": "unique_ts"}


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
               now: int) -> CheckedRows:
    """Validates raw [ts, open, high, low, close, volume] rows against the candle schema.
    Rows repeated identically collapse into one; every other failure is a Reject."""
    unique_rows = list(dict.fromkeys(tuple(_text(v) for v in row[:6]) for row in rows))
    if not unique_rows:
        return CheckedRows([], [])
    frame = pd.DataFrame(unique_rows, columns=_COLUMNS)
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    numeric["ts"] = numeric["ts"].fillna(-1).astype("int64")
    failed: dict[int, set[str]] = {}
    try:
        candle_schema(step_ms, window_start, window_end, now).validate(numeric, lazy=True)
    except pa.errors.SchemaErrors as errors:
        for check, index in errors.failure_cases[["check", "index"]].itertuples(index=False):
            if index is not None and index == index:  # NaN index: a whole-column failure
                failed.setdefault(int(index), set()).add(_BUILT_IN.get(check, str(check)))
    valid, rejects = [], []
    for i, row in enumerate(unique_rows):
        if i in failed:
            ts = int(numeric.at[i, "ts"]) if numeric.at[i, "ts"] >= 0 else None
            rejects.append(Reject(ts, row[1:6], ",".join(sorted(failed[i]))))
        else:
            valid.append((int(row[0]), *(canonical_decimal(v) for v in row[1:6])))
    return CheckedRows(valid, rejects)


def _text(value) -> str | None:
    return None if value is None else str(value)
