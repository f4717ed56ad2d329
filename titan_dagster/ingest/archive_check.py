"""Archived days re-fetched over REST and compared candle by candle: the archive is trusted
for speed, and this is how that trust is checked. Where the two differ REST's candle is
stored and the difference recorded (ohlcv_archive_differences); nothing is dropped."""

import asyncio
import random
from datetime import date

from titan_dagster.ingest.candles import VALUE_COLUMNS, canonical_decimal
from titan_dagster.ingest.pages import fetch_window
from titan_dagster.ingest.source import Source
from titan_dagster.quality.validation import check_rows
from titan_dagster.sources.binance_archive.decode import CandleRules
from titan_dagster.timeframes import DAY_MS, day_start_ms, now_ms, to_datetime
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.batch import ArchiveComparison, Batch, Values

# Archived days per symbol and timeframe a run re-fetches over REST: a 1m day is two
# requests, so a 20-symbol backfill spends some 80 requests (2 s at Binance's ceiling) on it.
SAMPLE_DAYS = 2


def sample(days: list[date], count: int, seed: str) -> list[date]:
    """`count` of the days, spread at random but the same for the same seed (a run's id):
    over many runs every part of the history gets compared."""
    chosen = random.Random(seed).sample(sorted(days), min(count, len(days)))
    return sorted(chosen)


async def compare_with_rest(client: Source, warehouse: Warehouse, symbol: str,
                            timeframe: str, rules: CandleRules, day: date,
                            run_id: str | None) -> ArchiveComparison:
    """Fetches the day over REST and compares it with what the archive stored; REST's
    candles are written where they differ, with the comparison, in one transaction."""
    start = day_start_ms(day)
    rows = [row async for page in fetch_window(client, symbol, timeframe, start, start + DAY_MS)
            for row in page.rows]
    checked = check_rows(rows, rules.step_ms, start, start + DAY_MS, now_ms(),
                         offset_ms=rules.offset_ms, volume_required=rules.volume_required)
    rest = {candle[0]: tuple(candle[1:]) for candle in checked.valid}
    stored = await asyncio.to_thread(warehouse.read_candles, client.name, symbol, timeframe,
                                     to_datetime(start), to_datetime(start + DAY_MS))
    archived = {int(row.ts.timestamp() * 1000): _values(row) for row in stored.itertuples()}
    differences = [(ts, archived.get(ts), rest.get(ts)) for ts in sorted(archived | rest)
                   if archived.get(ts) != rest.get(ts)]
    comparison = ArchiveComparison(day, len(rest), differences)
    # A slot REST no longer serves keeps the archive's candle: REST wins where it answers.
    batch = Batch(candles=[(ts, *values) for ts, _, values in differences if values],
                  archive_checks=[comparison], run_id=run_id)
    await asyncio.to_thread(warehouse.write, client.name, symbol, timeframe, batch)
    if differences:
        client.log.warning("%s: %s %s on %s: %d of %d archived candles differ from REST "
                           "(REST's stored; see ohlcv_archive_differences)", client.name,
                           symbol, timeframe, day, len(differences), len(archived))
    return comparison


def _values(row) -> Values:
    return tuple(None if getattr(row, name) is None else canonical_decimal(getattr(row, name))
                 for name in VALUE_COLUMNS)
