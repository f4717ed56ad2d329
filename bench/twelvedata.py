"""Twelve Data requests and credits (issue 12): two years of XAU/USD, EUR/USD, GBP/USD and
AAPL at 1h and 1d up to yesterday, through the real backfill and the real Twelve Data client
against the Twelve Data emulator on 127.0.0.1, into a fresh SQLite warehouse.

    uv run python bench/twelvedata.py

Prints the markdown table BENCHMARKS.md shows: bars stored per series, /time_series requests
against the fewest possible (one per 5000 bars), and the credits the whole backfill costs
with the time they take at the free plan's pace.
"""

import asyncio
import math
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from titan_dagster.config.model import ExchangeSettings  # noqa: E402
from titan_dagster.defs.ohlcv.assets import BACKFILL_SHARE  # noqa: E402
from titan_dagster.emulator.twelvedata import TwelveDataEmulator  # noqa: E402
from titan_dagster.ingest.backfill import backfill  # noqa: E402
from titan_dagster.sources.twelvedata.client import TwelveDataClient  # noqa: E402
from titan_dagster.sources.twelvedata.credits import CreditBudget  # noqa: E402
from titan_dagster.sources.twelvedata.intervals import MAX_OUTPUTSIZE  # noqa: E402
from titan_dagster.warehouse import Warehouse  # noqa: E402

SYMBOLS = ("XAU/USD", "EUR/USD", "GBP/USD", "AAPL")
TIMEFRAMES = ("1h", "1d")
FREE_PLAN_PER_MINUTE = 8
KEY_ENV = "TITAN_BENCH_TWELVEDATA_KEY"


async def run(url: str) -> tuple[list[str], int, float]:
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=729)
    os.environ[KEY_ENV] = "bench"
    with TwelveDataEmulator(dict.fromkeys(SYMBOLS, "2015-01-02"),
                            intraday_from=(first - timedelta(days=60)).isoformat()) as emu:
        settings = ExchangeSettings(name="twelvedata", symbols=SYMBOLS, timeframes=TIMEFRAMES,
                                    api_url=emu.base_url, api_key_env=KEY_ENV,
                                    credits_per_minute=100_000, credits_per_day=100_000)
        store = Warehouse(url)
        store.migrate()
        budget = CreditBudget("twelvedata", 100_000, 100_000, 1.0, store)
        started = time.perf_counter()
        rows = []
        async with TwelveDataClient(settings, budget) as client:
            async for outcome in backfill(client, store, SYMBOLS, TIMEFRAMES, first, last):
                assert outcome.error is None, outcome.error
                for timeframe, result in outcome.timeframes.items():
                    bars = len(store.read_candles("twelvedata", outcome.symbol, timeframe,
                                                  exact=False))
                    rows.append(f"| {outcome.symbol} | {timeframe} | {bars:,} | "
                                f"{result.requests} | {math.ceil(bars / MAX_OUTPUTSIZE)} |")
        wall = time.perf_counter() - started
        store.dispose()
        return sorted(rows), sum(client.calls.values()), wall


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        rows, credits, wall = asyncio.run(run(f"sqlite:///{Path(tmp) / 'td.db'}"))
    pace = math.floor(FREE_PLAN_PER_MINUTE * BACKFILL_SHARE)
    print("| symbol | timeframe | bars stored | /time_series requests | fewest possible |")
    print("| --- | --- | ---: | ---: | ---: |")
    print("\n".join(rows))
    print(f"\ncredits in all (with /earliest_timestamp): {credits}; unpaced wall {wall:.1f} s; "
          f"at the free plan ({FREE_PLAN_PER_MINUTE}/min, a backfill's share {pace}/min): "
          f"{credits / pace:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
