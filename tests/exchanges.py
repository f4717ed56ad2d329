"""Scenarios and the warehouse's invariant, shared by the tests of every supported exchange:
each exchange's real ccxt class against that exchange's emulator."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tests.conftest import FAST_RETRY
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.emulator import EMULATORS, Venue
from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.exchange.paging import paging_of
from titan_dagster.ingest.backfill import REACH_MARGIN, SymbolOutcome, backfill
from titan_dagster.timeframes import DAY_MS, day_of_ms, day_start_ms, now_ms, timeframe_ms
from titan_dagster.warehouse import Warehouse

QUOTE = {"binance": "USDT", "okx": "USDT", "bybit": "USDT", "coinbase": "USD", "kraken": "USD"}
H = 3_600_000


@dataclass
class Scenario:
    """Three symbols over `days` days up to yesterday: one listed in the middle of the range,
    one with a whole-day outage, one with scattered holes and invalid rows."""

    exchange: str
    days: int = 400
    listed_after: int = 200  # days into the range
    outage_day: int = 150
    holes: tuple[int, ...] = (37, 1_003, 4_321)  # hours into the range
    invalid: tuple[tuple[int, str], ...] = ((55, "high_below_low"), (2_000, "nan"),
                                             (5_555, "negative_volume"))
    timeframes: tuple[str, ...] = ("1h", "1d")
    invalid_slots: set[tuple[str, str, int]] = field(default_factory=set)

    @property
    def first(self) -> date:
        return datetime.now(UTC).date() - timedelta(days=self.days)

    @property
    def last(self) -> date:
        return datetime.now(UTC).date() - timedelta(days=1)

    @property
    def symbols(self) -> tuple[str, str, str]:
        quote = QUOTE[self.exchange]
        return f"NEW/{quote}", f"ETH/{quote}", f"BTC/{quote}"

    def emulator(self, **options) -> Venue:
        listed, outage, scattered = self.symbols
        start = day_start_ms(self.first)
        emu = EMULATORS[self.exchange](
            listings={listed: start + self.listed_after * DAY_MS + 7 * H,
                      outage: "2015-08-07", scattered: "2015-01-01"}, **options)
        emu.add_hole(outage, start + self.outage_day * DAY_MS,
                     start + (self.outage_day + 1) * DAY_MS)
        for hour in self.holes:
            emu.add_hole(scattered, start + hour * H, start + (hour + 2) * H)
        for hour, kind in self.invalid:
            emu.add_invalid(scattered, "1h", start + hour * H, kind)
            # A misaligned row is served beside the right one, off by the exchange's unit.
            shift = emu.misalign_ms if kind == "misaligned" else 0
            self.invalid_slots.add((scattered, "1h", start + hour * H + shift))
        return emu

    def settings(self, emu: Venue) -> ExchangeSettings:
        return ExchangeSettings(name=self.exchange, symbols=self.symbols,
                                timeframes=self.timeframes, api_url=emu.base_url)


def run(settings: ExchangeSettings, store: Warehouse, first: date, last: date,
        retry=FAST_RETRY) -> dict[str, SymbolOutcome]:
    async def main():
        async with ExchangeClient(settings, retry=retry, timeout_ms=2_000) as client:
            return {o.symbol: o async for o in backfill(client, store, settings.symbols,
                                                         settings.timeframes, first, last)}

    return asyncio.run(main())


def assert_truthful(emu: Venue, store: Warehouse, scenario: Scenario) -> None:
    """The warehouse equals what the exchange serves minus the quarantined rows, and a day
    is complete only when every candle slot of it was stored, quarantined or confirmed
    absent by a request that would have returned it."""
    name = scenario.exchange
    start, end = day_start_ms(scenario.first), day_start_ms(scenario.last) + DAY_MS
    reach = paging_of(name).reach
    for symbol in scenario.symbols:
        rejects = store.rejects(name, symbol, scenario.first, scenario.last)
        for timeframe in scenario.timeframes:
            step = timeframe_ms(timeframe)
            served_from, margin = start, 0
            if reach is not None and now_ms() - (reach - 1) * step > start:
                served_from = now_ms() - now_ms() % step - (reach - 1) * step
                margin = REACH_MARGIN * step
            truth = {row[0]: row for row in emu.candles(symbol, timeframe, served_from, end)
                     if row[0] % step == 0}
            truth = {ts: row for ts, row in truth.items() if ts < now_ms() - now_ms() % step}
            quarantined = {int(ts) for tf, ts in zip(rejects["timeframe"], rejects["ts_ms"],
                                                     strict=True) if tf == timeframe}
            bad = {ts for s, tf, ts in scenario.invalid_slots
                   if (s, tf) == (symbol, timeframe) and ts >= served_from}
            assert bad <= quarantined, f"{name} {symbol} {timeframe}: invalid rows not kept"
            frame = store.read_candles(name, symbol, timeframe)
            stored = dict(zip(frame["ts"].dt.as_unit("ms").astype("int64").tolist(),
                              frame["close"].astype(str).tolist(), strict=True))
            expected = {ts for ts in truth if ts not in bad}
            assert expected - {ts for ts in expected if ts < served_from + margin} \
                <= set(stored), f"{name} {symbol} {timeframe}: served candles missing"
            assert set(stored) <= set(truth), f"{name} {symbol} {timeframe}: invented"
            complete = store.complete_days(name, symbol, timeframe, scenario.first,
                                           scenario.last)
            for day in complete:
                slots = range(day_start_ms(day), day_start_ms(day) + DAY_MS, step)
                lost = [ts for ts in slots if ts in truth and ts not in stored
                        and ts not in quarantined]
                assert not lost, f"{name} {symbol} {timeframe}: {day} complete without {lost}"
            if reach is not None:
                beyond = {day_of_ms(ts) for ts in range(start, served_from, step)}
                assert not beyond & complete, f"{name} {timeframe}: unserved days complete"
                assert beyond <= store.settled_days(name, symbol, timeframe, scenario.first,
                                                    scenario.last)


def candle_requests(emu: Venue) -> int:
    """Requests for candles, on every candle endpoint the exchange has."""
    return sum(1 for record in emu.requests if record.interval is not None)


def outage_recorded(store: Warehouse, scenario: Scenario) -> bool:
    """The outage day of the second symbol is a confirmed exchange gap at 1h."""
    day = day_start_ms(scenario.first) + scenario.outage_day * DAY_MS
    gaps = store.exchange_gaps(scenario.exchange, scenario.symbols[1], "1h", day, day + DAY_MS)
    covered = {ts for a, b in gaps for ts in range(a, b, H)}
    return set(range(day, day + DAY_MS, H)) <= covered


def prelisting_days_empty_and_complete(store: Warehouse, scenario: Scenario) -> bool:
    listed = scenario.first + timedelta(days=scenario.listed_after)
    before = scenario.first + timedelta(days=scenario.listed_after - 1)
    complete = store.complete_days(scenario.exchange, scenario.symbols[0], "1d",
                                   scenario.first, before)
    first_stored = store.first_candle_ms(scenario.exchange, scenario.symbols[0], "1d")
    return len(complete) == scenario.listed_after and first_stored == day_start_ms(listed)
