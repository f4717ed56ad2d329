"""Errors of the exchange layer, each naming what failed."""


class ExchangeAccessError(Exception):
    """A request kept failing after every retry, or the exchange answered something unusable."""


class SymbolNotAvailable(ExchangeAccessError):
    """The exchange has no spot market (or the source no symbol) for a configured symbol."""

    def __init__(self, exchange: str, symbol: str, detail: str, kind: str = "spot market"):
        super().__init__(f"{exchange} has no {kind} {symbol!r}: {detail}")
        self.exchange = exchange
        self.symbol = symbol
