"""A report of every stretch without candles across the whole stored history."""

import dagster as dg

from titan_dagster.config.model import TitanConfig
from titan_dagster.defs.ohlcv.assets import ohlcv_asset_key
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.quality.assessments import missing_candles
from titan_dagster.timeframes import now_ms, timeframe_ms

REPORT_ROWS = 500


def build_gap_report(config: TitanConfig) -> dg.AssetsDefinition:
    symbols = [(exchange, symbol) for exchange in config.exchanges for symbol in exchange.symbols]

    @dg.asset(
        name="ohlcv_gap_report",
        group_name="quality",
        deps=[ohlcv_asset_key(exchange.name, symbol) for exchange, symbol in symbols],
        kinds={"sql"},
        description="Missing candle ranges between each symbol's first and last stored candle, "
                    "per timeframe, split into healable holes, gaps the exchange confirmed "
                    "it does not have (ohlcv_gaps), and slots its REST API no longer serves "
                    "(ohlcv_unserved, e.g. Kraken beyond its last 720 candles).",
    )
    def ohlcv_gap_report(warehouse: WarehouseResource) -> dg.MaterializeResult:
        store = warehouse.warehouse
        now = now_ms()
        rows, healable, on_exchange, unserved = [], 0, 0, 0
        for exchange, symbol in symbols:
            for timeframe in exchange.timeframes:
                # Up to the newest stored candle: after it lies the refresh's business.
                last = store.last_candle_ms(exchange.name, symbol, timeframe)
                end = now if last is None else last + timeframe_ms(timeframe)
                found = missing_candles(store, exchange.name, symbol, (timeframe,), 0, end,
                                        now, REPORT_ROWS)
                healable += found.numbers["healable_missing_count"]
                on_exchange += found.numbers["exchange_gap_count"]
                unserved += found.numbers["unserved_count"]
                rows += [{"exchange": exchange.name, "symbol": symbol, **row}
                         for row in found.sample]
        metadata: dict = {"missing_count": healable + on_exchange,
                          "healable_missing_count": healable, "exchange_gap_count": on_exchange,
                          "unserved_count": unserved,
                          "ranges_listed": min(len(rows), REPORT_ROWS)}
        if rows:
            metadata["missing_ranges"] = dg.MetadataValue.table(
                [dg.TableRecord(row) for row in rows[:REPORT_ROWS]])
        return dg.MaterializeResult(metadata=metadata)

    return ohlcv_gap_report
