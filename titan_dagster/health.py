"""`titan health`: is the warehouse reachable and is every configured series fresh?

Prints JSON and exits 0 (ok), 1 (data stale) or 2 (warehouse unreachable or config broken),
for load balancers, cron checks and humans alike.
"""

import json

from titan_dagster.calendars import calendar_of
from titan_dagster.calendars.freshness import freshness
from titan_dagster.config import load_config
from titan_dagster.timeframes import now_ms, timeframe_ms, to_datetime
from titan_dagster.warehouse import Warehouse


def health_report(warehouse_url: str | None = None, now: int | None = None
                  ) -> tuple[dict, int]:
    """`now` (epoch ms, default the clock): the moment judged."""
    config = load_config()
    # Asked now, answered now: a health probe must not wait out a reconnect budget.
    store = Warehouse(warehouse_url, reconnect_timeout_s=0)
    report: dict = {"status": "ok", "warehouse": "connected", "database": store.display_url}
    try:
        store.migrate()
        now = now_ms() if now is None else now
        ages: dict = {}
        closed: dict = {}
        stale = []
        for exchange in config.exchanges:
            for symbol in exchange.symbols:
                calendar = calendar_of(exchange.name, symbol)
                for timeframe in exchange.timeframes:
                    newest = store.last_candle_ms(exchange.name, symbol, timeframe)
                    verdict = freshness(calendar, timeframe_ms(timeframe), newest, now)
                    age = None if verdict.age_s is None else round(verdict.age_s, 1)
                    ages.setdefault(exchange.name, {}).setdefault(symbol, {})[timeframe] = age
                    if verdict.stale:
                        stale.append(f"{exchange.name} {symbol} {timeframe}")
                since = calendar.closed_since(now)
                if since is not None:
                    closed.setdefault(exchange.name, {})[symbol] = \
                        f"{to_datetime(since):%Y-%m-%dT%H:%M:%SZ}"
    except Exception as error:  # any failure to reach or read the database
        report.update(status="error", warehouse="unreachable", error=type(error).__name__)
        return report, 2
    finally:
        store.dispose()
    report["latest_candle_age_s"] = ages
    if closed:
        # Not stale: the market is closed, and the newest candle is its last.
        report["market_closed_since"] = closed
    if stale:
        report.update(status="stale", stale=stale)
        return report, 1
    return report, 0


def main() -> int:
    report, code = health_report()
    print(json.dumps(report, indent=2))
    return code
