"""A backfill and the refresh at once, each within its share of the plan's credits per
minute, with the emulator holding them to the same plan: no request is answered 429."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.twelvedata import API_KEY, KEY_ENV, backfill_twelvedata, emulator, settings
from titan_dagster.defs.ohlcv.assets import BACKFILL_SHARE, REFRESH_SHARE
from titan_dagster.sources.twelvedata.intervals import TWELVEDATA
from titan_dagster.timeframes import day_start_ms
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.batch import Batch

pytestmark = pytest.mark.slow
PER_MINUTE = 20
BACKFILLED = ["EUR/USD", "GBP/USD", "USD/JPY", "AUD/USD", "USD/CHF", "XAU/USD", "AAPL"]
REFRESHED = ["EUR/USD", "GBP/USD", "XAU/USD"]


def test_a_backfill_and_the_refresh_together_stay_within_the_plan(sqlite_url, monkeypatch):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    store = Warehouse(sqlite_url)
    store.migrate()
    today = datetime.now(UTC).date()
    listings = dict.fromkeys(BACKFILLED, "2015-01-02")
    with emulator(listings=listings, credits_per_minute=PER_MINUTE) as emu:
        # The refreshed symbols have history already, as they would in production.
        yesterday = day_start_ms(today) - 12 * 3_600_000
        for symbol in REFRESHED:
            volume = None if "/" in symbol else "1"
            store.write(TWELVEDATA, symbol, "1h",
                        Batch(candles=[(yesterday, "1", "1", "1", "1", volume)]))
        backfill = settings(emu, BACKFILLED, ["1h"], per_minute=PER_MINUTE)
        refresh = settings(emu, REFRESHED, ["1h"], per_minute=PER_MINUTE)

        async def together():
            first = today - timedelta(days=40)
            running = asyncio.create_task(backfill_twelvedata(
                backfill, store, first, today - timedelta(days=20), share=BACKFILL_SHARE))
            refreshes = 0
            while not running.done():  # one refresh run after the other, as the schedule
                await backfill_twelvedata(refresh, store, today, today, share=REFRESH_SHARE)
                refreshes += 1
            outcomes, _ = await running
            return outcomes, refreshes

        started = datetime.now(UTC)
        outcomes, refreshes = asyncio.run(together())
        took = (datetime.now(UTC) - started).total_seconds()
        assert all(o.error is None for o in outcomes.values()), outcomes
        sent = len(emu.requests)
        # Unpaced, this many requests would have gone in the first seconds: over the plan.
        assert sent > PER_MINUTE and refreshes >= 2
        assert emu.minute_limit_hits == 0, f"{emu.minute_limit_hits} answered 429"
        # Within the plan in every wall-clock minute, the backfill within its half of it.
        assert max(per_minute(emu.requests).values()) <= PER_MINUTE
        backfilled = [r for r in emu.requests if r.params.get("start_date", "") < str(today)]
        assert max(per_minute(backfilled).values()) <= PER_MINUTE * BACKFILL_SHARE
        assert took > 60 * (sent - PER_MINUTE) / PER_MINUTE  # paced, not bunched
    store.dispose()


def per_minute(requests) -> dict[int, int]:
    counts: dict[int, int] = {}
    for record in requests:
        counts[record.time_ms // 60_000] = counts.get(record.time_ms // 60_000, 0) + 1
    return counts
