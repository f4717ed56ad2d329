"""GET /signals and GET /signals/{id}: signals with their outcomes."""

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request

from titan_dagster.api.models import Signal, SignalPage
from titan_dagster.api.pages import page
from titan_dagster.api.params import (
    MAX_ID,
    OUTCOME_STATUSES,
    Limit,
    Timestamp,
    Version,
    one_of,
    strategy_query,
)
from titan_dagster.api.queries import Reads
from titan_dagster.config import TitanConfig


def signals_router(config: TitanConfig, reads: Reads) -> APIRouter:
    Strategy = strategy_query(config)
    Symbol = one_of((s for e in config.exchanges for s in e.symbols), "symbol")
    routes = APIRouter(tags=["signals"])

    @routes.get("/signals", response_model=SignalPage)
    def signals(request: Request,
                strategy: Strategy = None,
                version: Version = None,
                symbol: Annotated[Symbol | None, Query(description="a configured "
                                                                   "symbol")] = None,
                since: Annotated[Timestamp | None, Query(description="signal_ts at or after "
                                                                     "(ISO-8601, UTC)")] = None,
                status: Annotated[Literal[OUTCOME_STATUSES] | None,
                                  Query(description="the outcome's status")] = None,
                after: Annotated[int, Query(ge=0, le=MAX_ID, description="cursor: ids after "
                                                                         "this one")] = 0,
                limit: Limit = 100) -> dict:
        """Signals, oldest first, each with its outcome."""
        rows = reads.signals(strategy=strategy, version=version, symbol=symbol,
                             since_ms=since, status=status, after_id=after, limit=limit + 1)
        shown, next_page = page(request, rows, limit, lambda row: row["id"])
        return {"signals": shown, "next": next_page}

    @routes.get("/signals/{id}", response_model=Signal,
                responses={404: {"description": "no signal has this id"}})
    def signal(id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> dict:
        """One signal with its outcome."""
        found = reads.signal(id)
        if found is None:
            raise HTTPException(404, f"no signal {id}")
        return found

    return routes
