"""What the pager and the backfill ask of a candle source: a ccxt exchange
(exchange/client.py) or Twelve Data (sources/twelvedata/client.py)."""

import logging
from collections import Counter
from typing import Protocol

from titan_dagster.exchange.paging import Paging, paging_of
from titan_dagster.sources.twelvedata.intervals import PAGING as TWELVEDATA_PAGING
from titan_dagster.sources.twelvedata.intervals import TWELVEDATA


class Source(Protocol):
    paging: Paging  # how its answers are read
    requests: Counter[tuple[str, str]]  # candle requests sent, by (symbol, timeframe)
    log: logging.Logger

    @property
    def name(self) -> str: ...

    @property
    def page_limit(self) -> int: ...  # candles to ask for per request

    # A page showed the real cap (asked only where the paging's cap is not exact).
    def learn_cap(self, served: int) -> None: ...

    def check_symbol(self, symbol: str) -> None: ...  # SymbolNotAvailable if it has none

    def is_trading(self, symbol: str) -> bool: ...  # asked of forward sources only

    async def listing_ms(self, symbol: str, timeframe: str) -> int | None: ...

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int, *,
                          until: int, expect_rows: bool) -> list[list]: ...


def paging_of_source(name: str) -> Paging:
    """How a configured source (a ccxt exchange, or Twelve Data) pages its candles."""
    paging = TWELVEDATA_PAGING if name == TWELVEDATA else paging_of(name)
    if paging is None:
        raise KeyError(f"{name}: no paging semantics declared")
    return paging
