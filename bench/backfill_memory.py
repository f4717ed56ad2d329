"""Peak memory of a 1m backfill as the range grows: candles stream page by page into the
warehouse, so the peak should stay flat.

    uv run python bench/backfill_memory.py [--days 30 90 180] [--database-url URL]

Each range runs in a fresh process (peak RSS is per process) against the project's Binance
emulator on 127.0.0.1, through the real ccxt client and warehouse writer.
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

FIRST_DAY = date(2024, 1, 1)
# A symbol no real exchange lists: the bench may clear its rows in a shared warehouse.
SYMBOL = "TITANBENCH/USDT"


def measure(days: int, database_url: str) -> dict:
    from titan_dagster.config.model import ExchangeSettings
    from titan_dagster.emulator import BinanceEmulator
    from titan_dagster.exchange.client import ExchangeClient
    from titan_dagster.ingest.backfill import backfill
    from titan_dagster.warehouse import Warehouse

    store = Warehouse(database_url)
    store.migrate()
    with store.engine.begin() as conn:
        for table in ("ohlcv", "ohlcv_complete_days"):
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE symbol = '{SYMBOL}'")
    with BinanceEmulator({SYMBOL: "2017-08-17"}) as emulator:
        settings = ExchangeSettings("binance", (SYMBOL,), ("1m",), emulator.base_url)

        async def run():
            async with ExchangeClient(settings) as client:
                return [o async for o in backfill(client, store, [SYMBOL], ["1m"], FIRST_DAY,
                                                  FIRST_DAY + timedelta(days=days - 1))]

        started = time.perf_counter()
        (outcome,) = asyncio.run(run())
        wall = time.perf_counter() - started
    candles = outcome.timeframes["1m"].candles_written
    return {"days": days, "candles": candles, "requests": outcome.requests,
            "wall_s": round(wall, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, nargs="+", default=[30, 90, 180])
    parser.add_argument("--database-url", help="default: a fresh SQLite file per range")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.database_url)))
        return
    print(f"{'days':>5} {'candles':>9} {'requests':>9} {'wall s':>7} {'peak RSS MB':>12}")
    for days in args.days:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{tmp}/bench.db"
            out = subprocess.run([sys.executable, __file__, "--one", str(days),
                                  "--database-url", url], capture_output=True, text=True,
                                 check=True).stdout
        row = json.loads(out)
        print(f"{row['days']:>5} {row['candles']:>9} {row['requests']:>9} {row['wall_s']:>7} "
              f"{row['peak_rss_mb']:>12}")


if __name__ == "__main__":
    main()
