"""Slices of candle text (see candle_text_sql) parsed by Arrow's CSV reader, which is
multithreaded and releases the GIL, into Arrow tables: the one parser behind
Warehouse.read_candles and `titan export`.

Value columns are parsed as whatever Arrow type the caller asks for: text (for Decimal
objects carrying the stored text), decimal128 (exact, for files) or float64.
"""

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from titan_dagster.ingest.candles import VALUE_COLUMNS

TS = pa.timestamp("ms", tz="UTC")
_PARSE = pa_csv.ParseOptions(delimiter="\t", quote_char=False)


def parse_candles(text: bytes, value_types: Sequence[pa.DataType],
                  include_open: bool) -> pa.Table:
    """Columns ts (timestamp[ms, UTC]), open, high, low, close, volume (in `value_types`,
    NULL where empty) and, with `include_open`, closed (bool)."""
    names = ["ts", *VALUE_COLUMNS, *(["closed"] * include_open)]
    types = {"ts": TS, **dict(zip(VALUE_COLUMNS, value_types, strict=True)),
             "closed": pa.bool_()}
    table = pa_csv.read_csv(
        pa.py_buffer(text), read_options=pa_csv.ReadOptions(column_names=names),
        parse_options=_PARSE,
        convert_options=pa_csv.ConvertOptions(
            column_types={name: types[name] for name in names}, null_values=[""],
            strings_can_be_null=True, true_values=["t"], false_values=["f"]))
    ts = table["ts"]
    # The database's order of aggregation is what a sorted subquery feeds it; a reader
    # promises oldest first, so a plan that ever changed that must fail, not reorder.
    if len(ts) > 1 and not pc.all(pc.less(ts[:-1], ts[1:])).as_py():
        raise RuntimeError("the warehouse returned candles out of time order")
    return table.combine_chunks()


def decimal_objects(columns: Sequence[pa.Array]) -> list[np.ndarray]:
    """Per column, an object array of Decimal(text) per value, None where NULL. Where texts
    repeat, one Decimal is built per distinct text across all the columns given together
    (prices: a close is mostly the next open, and every price is some other column's too);
    where they hardly do (volumes) hashing them all would cost more than it saves."""
    joined = pa.chunked_array(columns, type=pa.string())
    sample = columns[0].slice(0, 1000)
    if len(pc.unique(sample)) * 2 <= len(sample):
        encoded = joined.combine_chunks().dictionary_encode()
        distinct = np.append(_decimals(encoded.dictionary), None)  # the last stands for NULL
        values = distinct[encoded.indices.fill_null(len(distinct) - 1).to_numpy()]
    else:
        values = np.full(len(joined), None, dtype=object)
        values[joined.is_valid().to_numpy(zero_copy_only=False)] = _decimals(joined.drop_null())
    return np.split(values, np.cumsum([len(column) for column in columns])[:-1])


def _decimals(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    # fromiter with a count: no intermediate list, which numpy would scan for sequences.
    return np.fromiter(map(Decimal, texts.to_pylist()), dtype=object, count=len(texts))
