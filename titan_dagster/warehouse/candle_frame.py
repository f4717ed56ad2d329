"""Parsed slices (candle_arrow) into the frame Warehouse.read_candles returns: ts as UTC
datetime64[ns], the values as Decimal objects carrying the stored text (None where NULL) or
float64, and with the open candle a bool `closed`."""

import numpy as np
import pandas as pd
import pyarrow as pa

from titan_dagster.ingest.candles import VALUE_COLUMNS
from titan_dagster.warehouse.candle_arrow import decimal_objects

PRICE_COLUMNS = ("open", "high", "low", "close")


def value_type(exact: bool) -> pa.DataType:
    return pa.string() if exact else pa.float64()


def frame_columns(table: pa.Table, exact: bool) -> dict[str, np.ndarray]:
    """One slice's columns as numpy arrays; run in the thread that fetched the slice."""
    columns = {"ts": table["ts"].cast(pa.int64()).to_numpy()}
    if exact:  # the prices share their texts; the volumes are their own
        for names in (PRICE_COLUMNS, ("volume",)):
            arrays = decimal_objects([table[name].combine_chunks() for name in names])
            columns.update(zip(names, arrays, strict=True))
    else:
        columns.update((name, table[name].to_numpy()) for name in VALUE_COLUMNS)
    if "closed" in table.column_names:
        columns["closed"] = table["closed"].to_numpy()
    return columns


def candle_frame(slices: list[dict[str, np.ndarray]], include_open: bool,
                 exact: bool) -> pd.DataFrame:
    names = ["ts", *VALUE_COLUMNS, *(["closed"] * include_open)]
    empty = {"ts": np.int64, "closed": bool, **dict.fromkeys(VALUE_COLUMNS,
                                                             object if exact else np.float64)}
    columns = {name: np.concatenate([part[name] for part in slices]) if slices
               else np.array([], dtype=empty[name]) for name in names}
    columns["ts"] = pd.to_datetime(columns["ts"], unit="ms", utc=True)
    # The arrays are fresh: copying them into pandas' blocks would cost ~0.1 s a year of 1m.
    return pd.DataFrame(columns, copy=False)
