"""Dagster resources: thin configuration shells around the plain warehouse and source code."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import dagster as dg
from pydantic import PrivateAttr

from titan_dagster.config.model import ExchangeSettings
from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.exchange.retry import RetryPolicy
from titan_dagster.ingest.backfill import Archive
from titan_dagster.ingest.source import Source
from titan_dagster.sources.binance_archive.download import ArchiveDownloads
from titan_dagster.sources.twelvedata.client import TwelveDataClient
from titan_dagster.sources.twelvedata.credits import CreditBudget, CreditLedger
from titan_dagster.sources.twelvedata.intervals import TWELVEDATA
from titan_dagster.warehouse import DATABASE_URL_ENV, Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The candle warehouse. Set TITAN_DATABASE_URL (a SQLAlchemy URL such as
    postgresql+psycopg://user@host:5432/titan); empty means the embedded SQLite file
    .titan/titan.db. The schema is migrated when a run starts using it."""

    database_url: str = ""
    _warehouse: Warehouse | None = PrivateAttr(default=None)

    @classmethod
    def from_env(cls, environ: dict) -> "WarehouseResource":
        # EnvVar keeps the URL (and its password) out of run config and the UI.
        return cls(database_url=dg.EnvVar(DATABASE_URL_ENV)) if environ.get(DATABASE_URL_ENV) \
            else cls()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._warehouse = Warehouse(self.database_url or None)
        self._warehouse.migrate()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._warehouse is not None:
            self._warehouse.dispose()

    @property
    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            raise RuntimeError("WarehouseResource used outside a Dagster run or sensor")
        return self._warehouse


class ExchangeResource(dg.ConfigurableResource):
    """How titan_dagster talks to exchanges and sources: retries, timeouts and concurrency,
    shared by every configured one."""

    max_attempts: int = 8
    timeout_ms: int = 10_000
    max_concurrent_symbols: int = 8

    def client(self, settings: ExchangeSettings, logger: logging.Logger | None = None,
               budget_share: float = 1.0, credits: CreditLedger | None = None) -> Source:
        """`logger`: pass context.log so that retries show in the run's log in the UI.
        `credits`: where a metered source (Twelve Data) counts the day's credits, shared by
        every run: the warehouse."""
        retry = RetryPolicy(max_attempts=self.max_attempts)
        if settings.name == TWELVEDATA:
            budget = CreditBudget(settings.name, settings.credits_per_minute,
                                  settings.credits_per_day, budget_share, credits)
            return TwelveDataClient(settings, budget, retry=retry, timeout_ms=self.timeout_ms,
                                    logger=logger)
        return ExchangeClient(settings, retry=retry, timeout_ms=self.timeout_ms, logger=logger,
                              budget_share=budget_share)

    @asynccontextmanager
    async def archive(self, settings: ExchangeSettings, client: Source,
                      logger: logging.Logger | None = None,
                      wanted: bool = True) -> AsyncIterator[Archive | None]:
        """The exchange's kline archive for a backfill, None where it has none, the config
        turned it off (`archives: false`) or the run does not want it (`wanted`)."""
        if not wanted or settings.archive_url is None:  # the config sets it for Binance only
            yield None
            return
        # A file is megabytes where a REST page is kilobytes: three REST timeouts for one.
        async with ArchiveDownloads(settings.archive_url, timeout_ms=self.timeout_ms * 3,
                                    retry=RetryPolicy(max_attempts=self.max_attempts),
                                    logger=logger) as downloads:
            yield Archive(downloads, client.market_id)
