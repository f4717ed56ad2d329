"""A backfill in a process of its own, for the tests that kill one or run two at once.

python -m tests.reliability.backfill_process DATABASE_URL API_URL FIRST LAST TIMEFRAME SYMBOL...
Exits 0 when every symbol is stored, 1 (naming each failure on stderr) otherwise.
"""

import asyncio
import sys
from datetime import date

from tests.conftest import FAST_RETRY
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.ingest.backfill import backfill
from titan_dagster.warehouse import Warehouse


async def run(url: str, api_url: str, first: date, last: date, timeframe: str,
              symbols: list[str]) -> int:
    warehouse = Warehouse(url)
    warehouse.migrate()
    settings = ExchangeSettings("binance", tuple(symbols), (timeframe,), api_url=api_url)
    failures = 0
    async with ExchangeClient(settings, retry=FAST_RETRY) as client:
        async for outcome in backfill(client, warehouse, symbols, [timeframe], first, last):
            if outcome.error is not None:
                failures += 1
                print(f"{outcome.symbol}: {outcome.error}", file=sys.stderr)
    warehouse.dispose()
    return 1 if failures else 0


def command(url: str, api_url: str, first: date, last: date, timeframe: str,
            symbols: list[str]) -> list[str]:
    return [sys.executable, "-m", "tests.reliability.backfill_process", url, api_url,
            first.isoformat(), last.isoformat(), timeframe, *symbols]


if __name__ == "__main__":
    url, api_url, first, last, timeframe, *symbols = sys.argv[1:]
    sys.exit(asyncio.run(run(url, api_url, date.fromisoformat(first), date.fromisoformat(last),
                             timeframe, symbols)))
