"""Requests per supported exchange (issue 11): one symbol, one year of 1h candles up to
yesterday, fetched by the real backfill through each exchange's real ccxt class against
that exchange's emulator on 127.0.0.1, into a fresh SQLite warehouse.

    uv run python bench/exchanges.py

Prints the markdown table BENCHMARKS.md shows: candles per request asked and served,
requests made against the fewest that exchange's real cap allows, and wall time.
"""

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from titan_dagster.config.model import ExchangeSettings  # noqa: E402
from titan_dagster.emulator import EMULATORS  # noqa: E402
from titan_dagster.exchange.client import ExchangeClient  # noqa: E402
from titan_dagster.ingest.backfill import backfill  # noqa: E402
from titan_dagster.warehouse import Warehouse  # noqa: E402

QUOTE = {"binance": "USDT", "okx": "USDT", "bybit": "USDT", "coinbase": "USD", "kraken": "USD"}
# (exchange, emulator options, the page cap the exchange really serves, reach in candles)
CASES = [("binance", {}, 1000, None), ("bybit", {}, 1000, None), ("okx", {}, 300, None),
         ("okx", {"history_cap": 100}, 100, None), ("coinbase", {}, 300, None),
         ("kraken", {}, 720, 720)]


async def one(exchange: str, options: dict, url: str) -> tuple[int, int, float]:
    symbol = f"BTC/{QUOTE[exchange]}"
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=364)
    with EMULATORS[exchange](listings={symbol: "2015-01-01"}, **options) as emu:
        settings = ExchangeSettings(name=exchange, symbols=(symbol,), timeframes=("1h",),
                                    api_url=emu.base_url)
        store = Warehouse(url)
        store.migrate()
        started = time.perf_counter()
        async with ExchangeClient(settings) as client:
            async for outcome in backfill(client, store, (symbol,), ("1h",), first, last):
                assert outcome.error is None, outcome.error
        wall = time.perf_counter() - started
        candles = len(store.read_candles(exchange, symbol, "1h", exact=False))
        store.dispose()
        return emu.count(path=None) - _market_requests(emu), candles, wall


def _market_requests(emu) -> int:
    return sum(1 for record in emu.requests if record.interval is None)


def main() -> int:
    lines = ["| exchange | page cap served | candles stored | requests | fewest possible "
             "| candles/request | wall s |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (exchange, options, cap, reach) in enumerate(CASES):
            url = f"sqlite:///{Path(tmp) / f'{i}.db'}"
            requests, candles, wall = asyncio.run(one(exchange, options, url))
            fewest = -(-(reach or 365 * 24) // cap)
            name = exchange + (f" (history cap {options['history_cap']})" if options else "")
            lines.append(f"| {name} | {cap} | {candles:,} | {requests} | {fewest} | "
                         f"{candles / requests:,.0f} | {wall:.1f} |")
            print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
