"""Shared fixtures: a real PostgreSQL database and a SQLite file per test, and the project's
Binance emulator on 127.0.0.1. Nothing here reaches the internet."""

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import date

import psycopg
import pytest

from tests.private_pg import PrivateCluster, private_cluster
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.emulator import BinanceEmulator
from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.exchange.retry import RetryPolicy
from titan_dagster.ingest.archive_check import SAMPLE_DAYS
from titan_dagster.ingest.backfill import Archive, SymbolOutcome, backfill
from titan_dagster.ingest.candles import VALUE_COLUMNS
from titan_dagster.sources.binance_archive.download import ArchiveDownloads
from titan_dagster.timeframes import timeframe_ms
from titan_dagster.warehouse import Warehouse

PG_SERVER = os.environ.get("TITAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay_s=0.05, max_delay_s=0.2)
TIMEOUT_MS = 10_000  # the tests' clients: generous, a page normally takes milliseconds


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"titan_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database for one test."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def private_pg() -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster of the test's own, to stop and start at will."""
    with private_cluster() as cluster:
        yield cluster


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request):
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def warehouse(warehouse_url):
    store = Warehouse(warehouse_url)
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def emulator():
    with BinanceEmulator(listings={"BTC/USDT": "2017-08-17", "ETH/USDT": "2017-08-17"}) as emu:
        yield emu


def binance_settings(emu: BinanceEmulator, symbols, timeframes=("1d", "1h"),
                     archive: bool = False) -> ExchangeSettings:
    """REST only, unless `archive`: then closed days come from the emulator's archive."""
    return ExchangeSettings(name="binance", symbols=tuple(symbols), timeframes=tuple(timeframes),
                            api_url=emu.base_url, archive_url=emu.base_url if archive else None)


def run_backfill(emu: BinanceEmulator, warehouse: Warehouse, symbols, timeframes, first: date,
                 last: date, retry: RetryPolicy = FAST_RETRY,
                 timeout_ms: int = TIMEOUT_MS) -> dict[str, SymbolOutcome]:
    return asyncio.run(backfill_outcomes(binance_settings(emu, symbols, timeframes), warehouse,
                                         first, last, retry, timeout_ms))


async def backfill_outcomes(settings: ExchangeSettings, warehouse: Warehouse, first: date,
                            last: date, retry: RetryPolicy = FAST_RETRY,
                            timeout_ms: int = TIMEOUT_MS, sample_days: int = SAMPLE_DAYS,
                            run_id: str | None = None) -> dict[str, SymbolOutcome]:
    """Every symbol and timeframe of `settings` backfilled, through a client of its own (and
    the archive at settings.archive_url, if set, comparing `sample_days` days with REST)."""
    async with ExchangeClient(settings, retry=retry, timeout_ms=timeout_ms) as client, \
            AsyncExitStack() as stack:
        archive = None
        if settings.archive_url:
            downloads = await stack.enter_async_context(
                ArchiveDownloads(settings.archive_url, retry=retry, timeout_ms=timeout_ms))
            archive = Archive(downloads, client.market_id, sample_days)
        return {o.symbol: o async for o in backfill(client, warehouse, settings.symbols,
                                                     settings.timeframes, first, last,
                                                     run_id=run_id, archive=archive)}


def minimum_requests(first_candle_ms: int, timeframe: str, end_ms: int) -> int:
    """Pages of 1000 candles needed from a symbol's first candle in range to the end."""
    candles = (end_ms - first_candle_ms) // timeframe_ms(timeframe)
    return -(-candles // 1000)


def stored_rows(warehouse: Warehouse, symbol: str, timeframe: str) -> list[tuple]:
    frame = warehouse.read_candles("binance", symbol, timeframe)
    ms = frame["ts"].dt.as_unit("ms").astype("int64").tolist()
    return list(zip(ms, *(frame[column].tolist() for column in VALUE_COLUMNS), strict=True))


def truth_rows(emu: BinanceEmulator, symbol: str, timeframe: str, start_ms: int,
               end_ms: int) -> list[tuple]:
    """What the exchange serves, in the form the read API returns (Decimal values)."""
    from decimal import Decimal

    return [(row[0], *(Decimal(v) for v in row[1:6]))
            for row in emu.candles(symbol, timeframe, start_ms, end_ms)]
