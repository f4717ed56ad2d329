"""Candles of one series to a Parquet, Feather (Arrow IPC) or CSV file, streamed: the read
path's time slices (Warehouse.candle_tables) go to the file one by one, so memory does not
grow with the range. Values stay exact as Arrow decimal128 with the series' own largest
scale (pandas, polars and DuckDB read them as decimals without conversion), or become float64
on request.
A file appears only complete: it is written under a temporary name and renamed."""

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import sqlalchemy as sa

from titan_dagster.ingest.candles import VALUE_COLUMNS
from titan_dagster.warehouse.warehouse import Warehouse

FORMATS = {"parquet": ".parquet", "feather": ".feather", "csv": ".csv"}
PRECISION = 38  # decimal128's widest


@dataclass(frozen=True)
class Series:
    exchange: str
    symbol: str
    timeframe: str


def candle_schema(scales: dict[str, int] | None) -> pa.Schema:
    """ts as the candle's open time in UTC; values decimal128 at `scales` (None: float64)."""
    return pa.schema([pa.field("ts", pa.timestamp("ms", tz="UTC"), nullable=False),
                      *(pa.field(column, pa.float64() if scales is None
                                 else pa.decimal128(PRECISION, scales[column]),
                                 nullable=column == "volume")
                        for column in VALUE_COLUMNS)])


def export_series(store: Warehouse, series: Series, path: Path, file_format: str, *,
                  exact: bool = True, start: datetime | None = None,
                  end: datetime | None = None) -> int:
    """Closed candles of `series` with open time in [start, end) to `path`; rows written."""
    selection = (series.exchange, series.symbol, series.timeframe, start, end)
    schema = candle_schema(_scales(store, *store._key_filter(*selection)) if exact else None)
    partial = path.with_name(f".{path.name}.partial")
    rows = 0
    try:
        with _writer(partial, file_format, schema) as writer:
            # The read path's slices, parsed by Arrow straight into the file's types: the
            # stored decimal text to decimal128 (or float64), no float in between.
            for table in store.candle_tables(*selection, include_open=False,
                                             value_types=schema.types[1:]):
                writer.write_table(table.cast(schema))
                rows += table.num_rows
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return rows


def _scales(store: Warehouse, clauses: str, params: dict) -> dict[str, int]:
    """The largest number of decimals stored in each value column of the selection."""
    if store.backend == "postgresql":
        scale = "coalesce(max(scale({})), 0)"
    else:  # canonical decimal text: the digits after the point
        scale = "coalesce(max(CASE WHEN instr({0}, '.') > 0 THEN length({0}) - instr({0}, '.') " \
                "ELSE 0 END), 0)"
    query = f"SELECT {', '.join(scale.format(c) for c in VALUE_COLUMNS)} FROM ohlcv " \
            f"WHERE {clauses}"
    with store.engine.connect() as conn:
        found = conn.execute(sa.text(query), params).one()
    return dict(zip(VALUE_COLUMNS, (int(s) for s in found), strict=True))


def _writer(path: Path, file_format: str, schema: pa.Schema):
    """A writer with write_table, closed (the footer written) on leaving its `with` block."""
    if file_format == "parquet":
        return pq.ParquetWriter(path, schema)
    if file_format == "feather":  # Feather v2 is the Arrow IPC file format
        return ipc.new_file(str(path), schema)
    return pacsv.CSVWriter(str(path), schema)


def stored_series(store: Warehouse) -> list[Series]:
    """Every series with a closed candle, sorted."""
    query = sa.text("SELECT DISTINCT exchange, symbol, timeframe FROM ohlcv WHERE closed "
                    "ORDER BY exchange, symbol, timeframe")
    with store.engine.connect() as conn:
        return [Series(*row) for row in conn.execute(query).all()]
