"""What ccxt knows about exchanges, without opening a connection."""

from functools import cache


@cache
def exchange_timeframes(name: str) -> tuple[str, ...] | None:
    """The timeframes an exchange offers for candles (empty if ccxt does not list them), or
    None if ccxt has no such exchange or it has no OHLCV endpoint."""
    import ccxt.async_support as ccxt_async  # heavy (~4 s); only when an exchange is named

    if name not in ccxt_async.exchanges:
        return None
    exchange = getattr(ccxt_async, name)()
    if not exchange.has.get("fetchOHLCV"):
        return None
    return tuple(exchange.timeframes or ())


def page_limit(exchange) -> int:
    """Most candles one request may return by ccxt's `features` (a hint: the exchange may
    serve fewer), 500 where ccxt does not say."""
    features = exchange.features or {}
    spot = features.get("spot") or {}
    return int((spot.get("fetchOHLCV") or {}).get("limit") or 500)
