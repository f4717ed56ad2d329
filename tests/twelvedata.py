"""Driving the real Twelve Data client against the project's Twelve Data emulator."""

import asyncio
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tests.conftest import FAST_RETRY
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.emulator.twelvedata import TwelveDataEmulator
from titan_dagster.ingest.backfill import SymbolOutcome, backfill
from titan_dagster.sources.twelvedata.client import TwelveDataClient
from titan_dagster.sources.twelvedata.credits import CreditBudget
from titan_dagster.sources.twelvedata.intervals import INTERVALS, MAX_OUTPUTSIZE, TWELVEDATA
from titan_dagster.timeframes import DAY_MS, day_start_ms
from titan_dagster.warehouse import Warehouse

KEY_ENV = "TITAN_TEST_TWELVEDATA_KEY"
API_KEY = "td-s3ntinel-key-5c81e0"
SYMBOLS = ("XAU/USD", "EUR/USD", "GBP/USD", "AAPL")
TIMEFRAMES = ("1h", "1d")
LISTINGS = dict.fromkeys(SYMBOLS, "2015-01-02")


def two_years() -> tuple[date, date]:
    """Two years up to yesterday: closed days only, so a second run has nothing to do."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    return yesterday - timedelta(days=729), yesterday


def last_weekday() -> date:
    """Yesterday, or the Friday before it at a weekend: the last closed day forex traded."""
    yesterday = two_years()[1]
    return yesterday - timedelta(days=max(0, yesterday.weekday() - 4))


def emulator(**options) -> TwelveDataEmulator:
    first, _ = two_years()
    options.setdefault("intraday_from", (first - timedelta(days=60)).isoformat())
    return TwelveDataEmulator(options.pop("listings", LISTINGS), api_key=API_KEY, **options)


def settings(emu: TwelveDataEmulator, symbols=SYMBOLS, timeframes=TIMEFRAMES,
             per_minute: int = 6000, per_day: int = 100_000) -> ExchangeSettings:
    return ExchangeSettings(name=TWELVEDATA, symbols=tuple(symbols), timeframes=tuple(timeframes),
                            api_url=emu.base_url, api_key_env=KEY_ENV,
                            credits_per_minute=per_minute, credits_per_day=per_day)


async def backfill_twelvedata(source: ExchangeSettings, store: Warehouse, first: date,
                              last: date, share: float = 0.5, retry=FAST_RETRY
                              ) -> tuple[dict[str, SymbolOutcome], TwelveDataClient]:
    budget = CreditBudget(TWELVEDATA, source.credits_per_minute, source.credits_per_day, share,
                          store)
    async with TwelveDataClient(source, budget, retry=retry) as client:
        outcomes = {o.symbol: o async for o in backfill(client, store, source.symbols,
                                                         source.timeframes, first, last)}
    return outcomes, client


def run(source: ExchangeSettings, store: Warehouse, first: date, last: date, **options):
    return asyncio.run(backfill_twelvedata(source, store, first, last, **options))


def served(emu: TwelveDataEmulator, symbol: str, timeframe: str, first: date,
           last: date) -> list[list]:
    return emu.candles(symbol, INTERVALS[timeframe], day_start_ms(first),
                       day_start_ms(last) + DAY_MS)


def stored(store: Warehouse, symbol: str, timeframe: str) -> list[list]:
    """The warehouse's candles as the emulator's rows: open ms and canonical decimal text."""
    frame = store.read_candles(TWELVEDATA, symbol, timeframe)
    return [[int(ts.timestamp() * 1000), *(None if v is None else _text(v) for v in values)]
            for ts, *values in frame.itertuples(index=False)]


def canonical(rows: list[list]) -> list[list]:
    return [[row[0], *(None if v is None else _text(v) for v in row[1:])] for row in rows]


def fewest_requests(bars: int) -> int:
    return max(1, math.ceil(bars / MAX_OUTPUTSIZE))


def _text(value) -> str:
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
