"""Candles of one series to a Parquet, Feather (Arrow IPC) or CSV file, streamed: the rows go
from the database to the file in batches of about BATCH_ROWS, so memory does not grow with the
range. Values stay exact as Arrow decimal128 with the series' own largest scale (pandas,
polars and DuckDB read them as decimals without conversion), or become float64 on request.
A file appears only complete: it is written under a temporary name and renamed."""

import os
from collections.abc import Iterator
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
BATCH_ROWS = 100_000
BATCH_BYTES = 8 * 2**20  # of COPY text: some 100,000 candles
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
            batches = _postgres_batches if store.backend == "postgresql" else _sqlite_batches
            for batch in batches(store, selection, schema):
                writer.write_batch(batch)
                rows += batch.num_rows
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


_COPY = "COPY (SELECT (extract(epoch FROM ts) * 1000)::bigint, {values} FROM ohlcv " \
        "WHERE {clauses} ORDER BY ts) TO STDOUT"


def _postgres_batches(store: Warehouse, selection: tuple,
                      schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """COPY's text, cut at line ends every ~BATCH_ROWS rows and parsed by Arrow straight into
    the target types: NUMERIC text to decimal128 (or float64) with no float in between."""
    clauses, params = store._key_filter(*selection, placeholder="%({})s")
    options = (pacsv.ReadOptions(column_names=schema.names),
               pacsv.ParseOptions(delimiter="\t", quote_char=False),
               pacsv.ConvertOptions(column_types={**{f.name: f.type for f in schema},
                                                  "ts": pa.int64()},
                                    null_values=["\\N"], strings_can_be_null=True))
    pending = bytearray()
    with store._raw() as conn, conn.cursor() as cur, cur.copy(
            _COPY.format(values=", ".join(VALUE_COLUMNS), clauses=clauses), params) as copy:
        for chunk in copy:
            pending += chunk
            if len(pending) >= BATCH_BYTES:
                cut = pending.rindex(b"\n") + 1
                yield _parsed(bytes(pending[:cut]), options, schema)
                del pending[:cut]
    if pending:
        yield _parsed(bytes(pending), options, schema)


def _parsed(text: bytes, options: tuple, schema: pa.Schema) -> pa.RecordBatch:
    read, parse, convert = options
    table = pacsv.read_csv(pa.py_buffer(text), read_options=read, parse_options=parse,
                           convert_options=convert)
    table = table.set_column(0, "ts", table["ts"].cast(schema.field("ts").type))
    return table.cast(schema).combine_chunks().to_batches()[0]


def _sqlite_batches(store: Warehouse, selection: tuple,
                    schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """SQLite's cursor yields rows as it steps; each BATCH_ROWS of them become a batch, the
    decimal text cast to the target type by Arrow."""
    clauses, params = store._key_filter(*selection)
    query = (f"SELECT CAST(strftime('%s', ts) AS INTEGER) * 1000, {', '.join(VALUE_COLUMNS)} "
             f"FROM ohlcv WHERE {clauses} ORDER BY ts")
    with store._raw() as conn:
        cursor = conn.execute(query, params)
        while rows := cursor.fetchmany(BATCH_ROWS):
            columns = list(zip(*rows, strict=True))
            arrays = [pa.array(columns[0], pa.int64()).cast(schema.field("ts").type),
                      *(pa.array(values, pa.string()).cast(schema.field(name).type)
                        for name, values in zip(VALUE_COLUMNS, columns[1:], strict=True))]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _writer(path: Path, file_format: str, schema: pa.Schema):
    """A writer with write_batch, closed (the footer written) on leaving its `with` block."""
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
