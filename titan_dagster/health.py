"""Is the warehouse reachable and migrated, and is every configured series fresh? One
answer for `titan health` (JSON and an exit code, for cron checks and humans) and the API's
GET /health (the same JSON, 200 or 503, for load balancers).

Exit codes: 0 ok, 1 data stale, 2 warehouse unreachable or not migrated, or config broken.
It only reads: migrating is a Dagster run's job, never a probe's.
"""

import json

import sqlalchemy as sa

from titan_dagster.calendars import calendar_of
from titan_dagster.calendars.freshness import freshness
from titan_dagster.config import ConfigError, TitanConfig, load_config
from titan_dagster.timeframes import now_ms, timeframe_ms, to_datetime
from titan_dagster.warehouse import Warehouse, WarehouseUnavailable, default_database_url
from titan_dagster.warehouse.database import DatabaseUrlError
from titan_dagster.warehouse.migrations import applied_versions, pending_files
from titan_dagster.warehouse.read_only import read_only_warehouse
from titan_dagster.warehouse.signal_store import SignalStore

OK, STALE, BROKEN = 0, 1, 2


def health_report(config: TitanConfig, warehouse: Warehouse, now: int | None = None
                  ) -> tuple[dict, int]:
    """The report and its exit code. `now` (epoch ms, default the clock): the moment judged.
    `warehouse` should be a read_only_warehouse: its reconnect budget of 0 s answers at once
    when the database is down."""
    now = now_ms() if now is None else now
    report: dict = {"status": "ok", "database": "connected"}
    try:
        applied = applied_versions(warehouse.engine)
        pending = [file.stem for file in pending_files(warehouse.backend, applied)]
        if pending:
            report.update(status="error", schema="outdated" if applied else "missing",
                          pending_migrations=pending)
            return report, BROKEN
        report["schema"] = "current"
        ages, closed, stale = _series_freshness(config, warehouse, now)
        signals = SignalStore(warehouse)
        signal_ages = {strategy.name: _age_s(signals.newest_signal_ms(strategy.name,
                                                                      strategy.version), now)
                       for strategy in config.strategies if strategy.active}
    except (sa.exc.SQLAlchemyError, WarehouseUnavailable) as error:
        report.update(status="error", database="unreachable", error=type(error).__name__)
        return report, BROKEN
    report["latest_candle_age_s"] = ages
    if closed:
        # Not stale: the market is closed, and the newest candle is its last.
        report["market_closed_since"] = closed
    report["latest_signal_age_s"] = signal_ages
    if stale:
        report.update(status="stale", stale=stale)
        return report, STALE
    return report, OK


def _series_freshness(config: TitanConfig, warehouse: Warehouse, now: int
                      ) -> tuple[dict, dict, list[str]]:
    """The age of each series' newest closed candle, the markets closed now and since when,
    and the series that are stale."""
    ages: dict = {}
    closed: dict = {}
    stale = []
    for exchange in config.exchanges:
        for symbol in exchange.symbols:
            calendar = calendar_of(exchange.name, symbol)
            for timeframe in exchange.timeframes:
                newest = warehouse.last_candle_ms(exchange.name, symbol, timeframe)
                verdict = freshness(calendar, timeframe_ms(timeframe), newest, now)
                age = None if verdict.age_s is None else round(verdict.age_s, 1)
                ages.setdefault(exchange.name, {}).setdefault(symbol, {})[timeframe] = age
                if verdict.stale:
                    stale.append(f"{exchange.name} {symbol} {timeframe}")
            since = calendar.closed_since(now)
            if since is not None:
                closed.setdefault(exchange.name, {})[symbol] = \
                    f"{to_datetime(since):%Y-%m-%dT%H:%M:%SZ}"
    return ages, closed, stale


def _age_s(newest_ms: int | None, now: int) -> float | None:
    return None if newest_ms is None else round((now - newest_ms) / 1000, 1)


def main() -> int:
    try:
        config = load_config()
        warehouse = read_only_warehouse(default_database_url())
    except (ConfigError, DatabaseUrlError) as error:
        report, code = {"status": "error", "error": type(error).__name__,
                        "message": str(error)}, BROKEN
    else:
        try:
            report, code = health_report(config, warehouse)
        finally:
            warehouse.dispose()
        report["database_url"] = warehouse.display_url
    print(json.dumps(report, indent=2))
    return code
