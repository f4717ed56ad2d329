"""Real ccxt clients pointed at an emulator, shared by the tests of every exchange's emulator.

Every emulator has a `name` equal to its ccxt exchange id, so `with_client(emu, ...)` builds
that exchange's own ccxt class; anything exchange-specific (e.g. Coinbase's and Kraken's
`{"has": {"fetchCurrencies": False}}`) is passed through as ccxt config by the test itself.
"""

import asyncio
import json
import urllib.error
import urllib.request
from decimal import Decimal
from urllib.parse import urlencode

import ccxt.async_support as ccxt
import pytest

from titan_dagster.emulator.venue import Fault, Venue
from titan_dagster.exchange.endpoints import rebase_api_urls


def make_client(exchange_id: str, base_url: str, **config: object) -> ccxt.Exchange:
    """ccxt's `exchange_id` class, spot only, every REST endpoint rebased onto `base_url`."""
    ex = getattr(ccxt, exchange_id)(
        {
            "options": {
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
            },
            # ccxt's own throttle, and the 250 ms close() waits for TLS shutdown by default,
            # would only slow these plain-HTTP tests down.
            "enableRateLimit": False,
            "timeout_on_exit": 0,
            **config,
        }
    )
    ex.urls["api"] = rebase_api_urls(ex.urls["api"], base_url)
    ex.number = str
    return ex


def with_client(emu: Venue, action, **config: object):
    """`await action(client)` with a fresh client of the emulator's exchange, closed after."""

    async def main():
        ex = make_client(emu.name, emu.base_url, **config)
        try:
            return await action(ex)
        finally:
            await ex.close()

    return asyncio.run(main())


def fetch(emu: Venue, symbol, timeframe, since=None, limit=None, params=None, **config):
    return with_client(
        emu, lambda ex: ex.fetch_ohlcv(symbol, timeframe, since, limit, params or {}), **config
    )


def raises(emu: Venue, action, **config: object) -> tuple[Exception, ccxt.Exchange]:
    """The ccxt exception `action(client)` raised, and the client to inspect afterwards."""
    seen = {}

    async def run(ex):
        seen["client"] = ex
        with pytest.raises(ccxt.BaseError) as info:
            await action(ex)
        return info.value

    return with_client(emu, run, **config), seen["client"]


def ohlcv(rows: list[list]) -> list[list]:
    """The OHLCV columns of ccxt rows."""
    return [row[:6] for row in rows]


def raw(emu: Venue, path: str, **params: object) -> tuple[int, object]:
    """GET `path?params` from the emulator without ccxt: the status and the parsed JSON body,
    error statuses included."""
    url = f"{emu.base_url}{path}" + (f"?{urlencode(params)}" if params else "")
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def fetch_times(emu: Venue, count: int, error: type[Exception], answer) -> list:
    """`count` fetch_time calls in a row on one client: each the time, or, where ccxt raised
    `error`, `answer(client)` (what the exchange said: a header, the body)."""

    async def burst(ex):
        results = []
        for _ in range(count):
            try:
                results.append(await ex.fetch_time())
            except error:
                results.append(answer(ex))
        return results

    return with_client(emu, burst)


def fault_id(value) -> str:
    """A readable pytest id for a (Fault, expected outcome) parameter."""
    if isinstance(value, Fault):
        return f"{value.kind}{value.code or value.status or ''}"
    return getattr(value, "__name__", value)


# Whether the (open, high, low, close, volume) strings of a ccxt row (ex.number = str) show
# each kind of invalid candle an emulator can be told to serve.
LOOKS_INVALID = {
    "high_below_low": lambda o, h, low, c, v: Decimal(h) < Decimal(low),
    "high_below_open": lambda o, h, low, c, v: Decimal(h) < Decimal(o),
    "low_above_close": lambda o, h, low, c, v: Decimal(low) > Decimal(c),
    "zero_price": lambda o, h, low, c, v: Decimal(c) == 0,
    "negative_price": lambda o, h, low, c, v: Decimal(low) < 0,
    "negative_volume": lambda o, h, low, c, v: Decimal(v) < 0,
    "nan": lambda o, h, low, c, v: c == "NaN",
    "inf": lambda o, h, low, c, v: h == "Infinity",
}
