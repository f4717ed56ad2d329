"""The API as an ASGI app, built from a loaded config and a Warehouse (read_only_warehouse):
GET routes only, so nothing here can write, and reads that fail because the database is
down or not migrated answer 503 saying so, never 500."""

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from titan_dagster.api.auth import BearerToken
from titan_dagster.api.candles import candles_router
from titan_dagster.api.performance import performance_router
from titan_dagster.api.queries import Reads
from titan_dagster.api.signals import signals_router
from titan_dagster.config import TitanConfig
from titan_dagster.health import OK, health_report
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.reconnect import transient

# What each database says of a table or column the migrations have not created yet.
_SCHEMA_MISSING = ("no such table", "no such column", "UndefinedTable", "UndefinedColumn")
# SQLite's words for a file that is not there (opened read-only, none is created).
_NO_FILE = "unable to open database file"


def build_app(config: TitanConfig, warehouse: Warehouse, token: str | None = None) -> FastAPI:
    """With a `token`, every route but /health wants `Authorization: Bearer <token>`."""
    reads = Reads(warehouse)
    app = FastAPI(title="titan_dagster", summary="Read-only OHLCV candles, trading signals "
                  "and strategy performance from the warehouse", version="1",
                  # Swagger UI loads its scripts from a CDN: the JSON document works offline.
                  docs_url=None, redoc_url=None)
    if token:
        app.add_middleware(BearerToken, token=token)
    app.add_exception_handler(sa.exc.DBAPIError, _database_error)

    @app.get("/health", tags=["health"], responses={
        200: {"description": "reachable, migrated, every series fresh"},
        503: {"description": "database unreachable, schema not migrated, or data stale"}})
    def health() -> JSONResponse:
        """The report of `titan health`; open even where a token is required."""
        report, code = health_report(config, warehouse)
        return JSONResponse(report, status_code=200 if code == OK else 503)

    for router in (signals_router, candles_router, performance_router):
        app.include_router(router(config, reads))
    return app


def _database_error(_request: Request, error: sa.exc.DBAPIError) -> JSONResponse:
    orig = error.orig
    if transient(error) or _NO_FILE in str(orig):
        return JSONResponse({"detail": "the warehouse database is unreachable"}, 503)
    if any(sign in f"{type(orig).__name__} {orig}" for sign in _SCHEMA_MISSING):
        return JSONResponse({"detail": "the warehouse schema is not migrated (see GET "
                                       "/health); a Dagster run applies the migrations"}, 503)
    raise error
