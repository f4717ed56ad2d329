"""The ohlcv table as Dagster shows it on every OHLCV asset, derived from the Pandera candle
schema so that the documented columns and the enforced rules are one thing."""

from functools import cache

import dagster as dg

from titan_dagster.quality.candle_schema import candle_schema
from titan_dagster.timeframes import DAY_MS

OHLCV_TABLE = "ohlcv"

_KEY_COLUMNS = [
    dg.TableColumn("exchange", "text", description="ccxt exchange id (e.g. binance) or "
                                                   "twelvedata"),
    dg.TableColumn("symbol", "text", description="spot symbol (BTC/USDT), forex or metal pair "
                                                 "(XAU/USD) or US stock ticker (AAPL)"),
    dg.TableColumn("timeframe", "text", description="candle length, e.g. 1h"),
]


@cache
def ohlcv_columns(volume_required: bool = True) -> dg.TableSchema:
    """The columns of a series; without `volume_required` (forex, metals) volume is NULL."""
    # Any bounds do: they change what the checks compare with, not their names.
    schema = candle_schema(step_ms=60_000, window_start=0, window_end=DAY_MS, now=0,
                           volume_required=volume_required)
    columns = [
        dg.TableColumn(
            name, column.metadata["type"], description=column.description,
            constraints=dg.TableColumnConstraints(
                nullable=column.nullable, unique=column.unique,
                other=[f"{check.name}: {check.description}" for check in column.checks]))
        for name, column in schema.columns.items()
    ]
    return dg.TableSchema(
        columns=_KEY_COLUMNS + columns,
        constraints=dg.TableConstraints(other=[f"{check.name}: {check.description}"
                                               for check in schema.checks]))


OHLCV_COLUMNS = ohlcv_columns()
