"""GET /candles: one series of the `ohlcv` table, oldest first."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from titan_dagster.api.models import CandlePage
from titan_dagster.api.pages import iso_z, page
from titan_dagster.api.params import Limit, Timestamp, bad_parameter, check_range, one_of
from titan_dagster.api.queries import Reads
from titan_dagster.config import TitanConfig


def candles_router(config: TitanConfig, reads: Reads) -> APIRouter:
    Exchange = one_of((e.name for e in config.exchanges), "exchange")
    Symbol = one_of((s for e in config.exchanges for s in e.symbols), "symbol")
    Timeframe = one_of((tf for e in config.exchanges for tf in e.timeframes), "timeframe")
    routes = APIRouter(tags=["candles"])

    @routes.get("/candles", response_model=CandlePage)
    def candles(request: Request,
                exchange: Annotated[Exchange, Query(description="a configured exchange")],
                symbol: Annotated[Symbol, Query(description="a symbol configured for it")],
                timeframe: Annotated[Timeframe, Query(description="a timeframe configured "
                                                                  "for it")],
                start: Annotated[Timestamp | None, Query(description="open time at or after "
                                                                     "(ISO-8601, UTC)")] = None,
                end: Annotated[Timestamp | None, Query(description="open time before")] = None,
                after: Annotated[Timestamp | None, Query(description="cursor: open time "
                                                                     "after this")] = None,
                include_open: Annotated[bool, Query(description="also the still-open "
                                                                "candle")] = False,
                limit: Limit = 100) -> dict:
        """One series of the ohlcv table, oldest first: open times in [start, end), closed
        candles unless include_open."""
        settings = config.exchange(exchange)
        if symbol not in settings.symbols:
            raise bad_parameter("symbol", f"{symbol} is not configured for {exchange} "
                                f"({', '.join(settings.symbols)})", symbol)
        if timeframe not in settings.timeframes:
            raise bad_parameter("timeframe", f"{timeframe} is not configured for {exchange} "
                                f"({', '.join(settings.timeframes)})", timeframe)
        check_range(request, start, end)
        lower = [bound for bound in (start, None if after is None else after + 1)
                 if bound is not None]
        rows = reads.candles(exchange, symbol, timeframe, start_ms=max(lower, default=None),
                             end_ms=end, include_open=include_open, limit=limit + 1)
        shown, next_page = page(request, rows, limit, lambda row: iso_z(row["ts"]))
        return {"exchange": exchange, "symbol": symbol, "timeframe": timeframe,
                "candles": shown, "next": next_page}

    return routes
