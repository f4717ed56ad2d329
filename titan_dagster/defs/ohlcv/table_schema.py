"""The ohlcv table as Dagster shows it on every OHLCV asset."""

import dagster as dg

OHLCV_TABLE = "ohlcv"

OHLCV_COLUMNS = dg.TableSchema(columns=[
    dg.TableColumn("exchange", "text", description="ccxt exchange id, e.g. binance"),
    dg.TableColumn("symbol", "text", description="unified spot symbol, e.g. BTC/USDT"),
    dg.TableColumn("timeframe", "text", description="candle length, e.g. 1h"),
    dg.TableColumn("ts", "timestamptz", description="candle open time, UTC"),
    dg.TableColumn("open", "numeric", description="first trade price, exact"),
    dg.TableColumn("high", "numeric", description="highest trade price, exact"),
    dg.TableColumn("low", "numeric", description="lowest trade price, exact"),
    dg.TableColumn("close", "numeric", description="last trade price, exact"),
    dg.TableColumn("volume", "numeric", description="base-asset volume, exact"),
])
