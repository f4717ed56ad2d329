"""`titan health`: is the warehouse reachable and is every configured series fresh?

Prints JSON and exits 0 (ok), 1 (data stale) or 2 (warehouse unreachable or config broken),
for load balancers, cron checks and humans alike.
"""

import json

from titan_dagster.config import load_config
from titan_dagster.timeframes import now_ms, timeframe_ms
from titan_dagster.warehouse import Warehouse


def health_report(warehouse_url: str | None = None) -> tuple[dict, int]:
    config = load_config()
    # Asked now, answered now: a health probe must not wait out a reconnect budget.
    store = Warehouse(warehouse_url, reconnect_timeout_s=0)
    report: dict = {"status": "ok", "warehouse": "connected", "database": store.display_url}
    try:
        store.migrate()
        now = now_ms()
        ages: dict = {}
        stale = []
        for exchange in config.exchanges:
            for symbol in exchange.symbols:
                for timeframe in exchange.timeframes:
                    newest = store.last_candle_ms(exchange.name, symbol, timeframe)
                    age = None if newest is None else round((now - newest) / 1000, 1)
                    ages.setdefault(exchange.name, {}).setdefault(symbol, {})[timeframe] = age
                    if age is None or age > 2 * timeframe_ms(timeframe) / 1000 + 60:
                        stale.append(f"{exchange.name} {symbol} {timeframe}")
    except Exception as error:  # any failure to reach or read the database
        report.update(status="error", warehouse="unreachable", error=type(error).__name__)
        return report, 2
    finally:
        store.dispose()
    report["latest_candle_age_s"] = ages
    if stale:
        report.update(status="stale", stale=stale)
        return report, 1
    return report, 0


def main() -> int:
    report, code = health_report()
    print(json.dumps(report, indent=2))
    return code
