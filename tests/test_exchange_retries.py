"""Retries by meaning, per exchange: each exchange's transient codes are retried (also where
ccxt calls them a plain ExchangeError), rate-limit answers back off, a truncated markets
answer is retried rather than making every symbol "not listed", unknown symbols fail at once.
The real ccxt class of each exchange against its emulator."""

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import FAST_RETRY
from tests.exchanges import QUOTE, candle_requests, run
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.emulator import EMULATORS, Fault
from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.exchange.errors import SymbolNotAvailable
from titan_dagster.exchange.paging import PAGING
from titan_dagster.timeframes import day_start_ms
from titan_dagster.warehouse import Warehouse

MARKETS = {"binance": "/api/v3/exchangeInfo", "okx": "/api/v5/public/instruments",
           "bybit": "/v5/market/instruments-info",
           "coinbase": "/api/v3/brokerage/market/products", "kraken": "/0/public/AssetPairs"}
TRANSIENT = [
    ("binance", Fault("status", 500)),
    ("okx", Fault("status", 503, code="50001")),
    ("okx", Fault("status", 400, code="50004")),
    ("okx", Fault("status", 200, code="50013")),
    ("okx", Fault("status", 500, code="50026")),
    ("bybit", Fault("status", 200, code=10016)),
    ("coinbase", Fault("status", 500, code="INTERNAL")),
    ("coinbase", Fault("status", 503, code="UNAVAILABLE")),
    ("kraken", Fault("status", 200, code="EService:Unavailable")),
    ("kraken", Fault("status", 200, code="EService:Busy")),
    ("kraken", Fault("status", 200, code="EGeneral:Internal error")),
    *((name, Fault("html200")) for name in sorted(PAGING)),
    *((name, Fault("truncated")) for name in sorted(PAGING)),
]
RATE_LIMITED = [
    ("binance", Fault("status", 429)),
    ("okx", Fault("status", 429, code="50011")),
    ("bybit", Fault("status", 200, code=10006)),
    ("bybit", Fault("status", 403)),
    ("coinbase", Fault("status", 429)),
    ("kraken", Fault("status", 200, code="EAPI:Rate limit exceeded")),
]


def symbol_of(exchange: str) -> str:
    return f"BTC/{QUOTE[exchange]}"


def fetch(emu, exchange: str, symbol: str | None = None, retry=FAST_RETRY):
    symbol = symbol or symbol_of(exchange)
    settings = ExchangeSettings(name=exchange, symbols=(symbol,), timeframes=("1h",),
                                api_url=emu.base_url)
    # Older than 1440 candles: OKX answers it from history-candles, where faults are aimed.
    since = day_start_ms(datetime.now(UTC).date() - timedelta(days=100))

    async def go():
        async with ExchangeClient(settings, retry=retry, timeout_ms=2_000) as client:
            client.check_symbol(symbol)
            return await client.fetch_ohlcv(symbol, "1h", since, 10, expect_rows=False)

    return asyncio.run(go())


@pytest.mark.parametrize(("exchange", "fault"), TRANSIENT,
                         ids=[f"{e}-{f.kind}-{f.code or f.status}" for e, f in TRANSIENT])
def test_transient_answers_are_retried(exchange, fault):
    with EMULATORS[exchange](listings={symbol_of(exchange): "2020-01-01"}) as emu:
        emu.inject(fault)
        rows = fetch(emu, exchange)
        assert len(rows) == 10
        assert candle_requests(emu) == 2
        assert emu.requests[-2].fault == fault.kind


@pytest.mark.parametrize(("exchange", "fault"), RATE_LIMITED,
                         ids=[f"{e}-{f.code or f.status}" for e, f in RATE_LIMITED])
def test_rate_limit_answers_back_off_and_then_succeed(exchange, fault):
    with EMULATORS[exchange](listings={symbol_of(exchange): "2020-01-01"}) as emu:
        emu.inject(fault, count=2)
        assert len(fetch(emu, exchange)) == 10
        attempts = [r for r in emu.requests if r.interval is not None]
        assert [r.fault for r in attempts] == [fault.kind, fault.kind, None]


@pytest.mark.parametrize("exchange", sorted(PAGING))
@pytest.mark.parametrize("fault", [Fault("truncated"), Fault("html200"), Fault("empty200")])
def test_a_broken_markets_answer_is_retried_not_taken_as_no_markets(exchange, fault):
    with EMULATORS[exchange](listings={symbol_of(exchange): "2020-01-01"}) as emu:
        emu.inject(fault, path=MARKETS[exchange])
        assert len(fetch(emu, exchange)) == 10
        # Coinbase asks the same path once more for futures, which titan ignores.
        loads = [r for r in emu.requests
                 if r.path == MARKETS[exchange] and "product_type" not in r.params]
        assert len(loads) == 2


@pytest.mark.parametrize("exchange", sorted(PAGING))
def test_an_unknown_symbol_fails_at_once_naming_it(exchange):
    with EMULATORS[exchange](listings={symbol_of(exchange): "2020-01-01"}) as emu:
        missing = f"NOPE/{QUOTE[exchange]}"
        with pytest.raises(SymbolNotAvailable, match=f"{exchange} has no spot market '{missing}'"):
            fetch(emu, exchange, missing)
        assert candle_requests(emu) == 0


def test_a_rate_limit_answer_pauses_every_request_to_the_exchange():
    """OKX's 429 50011 with Retry-After 1 on one symbol's request: the other symbols wait
    too, so no request reaches the exchange in the second after it (beyond those already on
    the wire when it was answered)."""
    symbols = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    with EMULATORS["okx"](listings=dict.fromkeys(symbols, "2020-01-01")) as emu:
        emu.inject(Fault("status", 429, code="50011", retry_after=1), symbol="ETH/USDT")
        settings = ExchangeSettings(name="okx", symbols=symbols, timeframes=("1h",),
                                    api_url=emu.base_url, requests_per_second=50)
        last = datetime.now(UTC).date() - timedelta(days=70)
        store = Warehouse(f"sqlite:///{tempfile.mkdtemp()}/w.db")
        store.migrate()
        outcomes = run(settings, store, last - timedelta(days=60), last)
        assert all(o.error is None for o in outcomes.values())
        candles = [r for r in emu.requests if r.interval is not None]
        limited = next(r for r in candles if r.fault == "status")
        during = [r for r in candles if limited.time_ms + 100 < r.time_ms < limited.time_ms + 1000]
        assert during == []
        assert any(r.time_ms >= limited.time_ms + 1000 for r in candles)
