"""The exchange layer over real ccxt and HTTP: endpoint rebasing, retries, Retry-After,
no retry on a bad symbol."""

import asyncio

import pytest

from tests.conftest import FAST_RETRY, binance_settings
from titan_dagster.emulator import Fault
from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.exchange.endpoints import rebase_api_urls, rebase_url
from titan_dagster.exchange.errors import ExchangeAccessError, SymbolNotAvailable
from titan_dagster.exchange.retry import RetryPolicy

KLINES = "/api/v3/klines"
SINCE = 1_704_067_200_000  # 2024-01-01


def fetch(emulator, *, symbol="BTC/USDT", retry=FAST_RETRY, timeout_ms=10_000, limit=10):
    async def go():
        async with ExchangeClient(binance_settings(emulator, [symbol]), retry=retry,
                                  timeout_ms=timeout_ms) as client:
            client.check_symbol(symbol)
            return await client.fetch_ohlcv(symbol, "1h", SINCE, limit, expect_rows=True)

    return asyncio.run(go())


def test_api_url_replaces_scheme_and_host_and_keeps_paths():
    assert rebase_url("https://api.binance.com/api/v3", "http://127.0.0.1:18080") \
        == "http://127.0.0.1:18080/api/v3"
    assert rebase_url("https://api.binance.com/api/v3", "http://proxy:81/binance/") \
        == "http://proxy:81/binance/api/v3"
    urls = {"public": "https://api.binance.com/api/v3",
            "nested": {"sapi": "https://api.binance.com/sapi/v1"}, "rateLimit": 50}
    assert rebase_api_urls(urls, "http://h:1") == {
        "public": "http://h:1/api/v3", "nested": {"sapi": "http://h:1/sapi/v1"}, "rateLimit": 50}


def test_candles_come_back_as_exact_decimal_strings_from_the_emulator(emulator):
    rows = fetch(emulator)
    assert len(rows) == 10
    assert rows[0][0] == SINCE
    assert rows[0][1:6] == emulator.candles("BTC/USDT", "1h", SINCE, SINCE + 3_600_000)[0][1:6]
    # Only spot markets were loaded: the futures exchangeInfo endpoints were never asked.
    assert {r.path for r in emulator.requests} == {"/api/v3/exchangeInfo", KLINES}


def test_a_429_pauses_for_retry_after_then_succeeds(emulator):
    emulator.inject(Fault("status", status=429, retry_after=1))
    rows = fetch(emulator)

    assert len(rows) == 10
    attempts = [r for r in emulator.requests if r.path == KLINES]
    assert [r.status for r in attempts] == [429, 200]
    assert attempts[1].time_ms - attempts[0].time_ms >= 1000


@pytest.mark.parametrize("fault", [Fault("status", status=418, retry_after=0),
                                   Fault("status", status=500), Fault("status", status=503),
                                   Fault("status", status=400),  # -1000 "unknown error"
                                   Fault("html", status=502), Fault("drop"), Fault("truncated"),
                                   Fault("empty200")])
def test_transient_faults_are_retried(emulator, fault):
    emulator.inject(fault, count=2)
    assert len(fetch(emulator)) == 10
    assert emulator.count(KLINES) == 3


def test_a_response_slower_than_the_timeout_is_retried(emulator):
    emulator.inject(Fault("delay", delay=1.0))
    assert len(fetch(emulator, timeout_ms=300)) == 10
    assert emulator.count(KLINES) == 2


def test_faults_that_never_stop_fail_with_a_clear_message(emulator):
    emulator.inject(Fault("status", status=503), count=100)
    with pytest.raises(ExchangeAccessError, match=r"BTC/USDT 1h candles from 2024-01-01 00:00 "
                                                  r"failed after 3 attempts: ExchangeNotAvailable"):
        fetch(emulator, retry=RetryPolicy(max_attempts=3, base_delay_s=0.01))
    assert emulator.count(KLINES) == 3


def test_a_symbol_the_exchange_rejects_is_not_retried(emulator):
    emulator.inject(Fault("status", status=400, code=-1121), count=5)
    with pytest.raises(SymbolNotAvailable, match="BTC/USDT"):
        fetch(emulator)
    assert emulator.count(KLINES) == 1


def test_a_symbol_missing_from_the_markets_is_named_without_a_request(emulator):
    with pytest.raises(SymbolNotAvailable, match=r"binance has no spot market 'BTC/USDC'.*"
                                                 r"did you mean"):
        fetch(emulator, symbol="BTC/USDC")
    assert emulator.count(KLINES) == 0


def test_an_exchange_error_is_reported_with_what_was_asked_and_not_retried(emulator):
    emulator.inject(Fault("status", status=400, code=-1100), count=5)  # illegal characters
    with pytest.raises(ExchangeAccessError, match="binance rejected BTC/USDT 1h candles from"):
        fetch(emulator)
    assert emulator.count(KLINES) == 1


def test_retry_delays_grow_exponentially_and_respect_retry_after():
    policy = RetryPolicy(base_delay_s=1, max_delay_s=8)
    assert all(0 <= policy.delay_s(1) <= 1 for _ in range(50))
    assert all(0 <= policy.delay_s(4) <= 8 for _ in range(50))
    assert all(policy.delay_s(9) <= 8 for _ in range(50))
    assert policy.delay_s(1, retry_after_s=5) == 5
