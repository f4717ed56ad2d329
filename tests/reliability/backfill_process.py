"""A backfill in a process of its own, for the tests that kill one or run two at once.

python -m tests.reliability.backfill_process [--archive] DATABASE_URL API_URL FIRST LAST
    TIMEFRAME SYMBOL...
With --archive, closed days come from the archive the emulator at API_URL serves.
Exits 0 when every symbol is stored, 1 (naming each failure on stderr) otherwise.
"""

import asyncio
import sys
from datetime import date

from tests.conftest import backfill_outcomes
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.warehouse import Warehouse


async def run(url: str, api_url: str, first: date, last: date, timeframe: str,
              symbols: list[str], archive: bool = False) -> int:
    warehouse = Warehouse(url)
    warehouse.migrate()
    settings = ExchangeSettings("binance", tuple(symbols), (timeframe,), api_url=api_url,
                                archive_url=api_url if archive else None)
    outcomes = await backfill_outcomes(settings, warehouse, first, last)
    warehouse.dispose()
    failed = [o for o in outcomes.values() if o.error is not None]
    for outcome in failed:
        print(f"{outcome.symbol}: {outcome.error}", file=sys.stderr)
    return 1 if failed else 0


def command(url: str, api_url: str, first: date, last: date, timeframe: str,
            symbols: list[str], archive: bool = False) -> list[str]:
    return [sys.executable, "-m", "tests.reliability.backfill_process",
            *(["--archive"] if archive else []), url, api_url, first.isoformat(),
            last.isoformat(), timeframe, *symbols]


if __name__ == "__main__":
    arguments = sys.argv[1:]
    archive = arguments[0] == "--archive"
    url, api_url, first, last, timeframe, *symbols = arguments[archive:]
    sys.exit(asyncio.run(run(url, api_url, date.fromisoformat(first), date.fromisoformat(last),
                             timeframe, symbols, archive)))
