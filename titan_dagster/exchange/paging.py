"""How each supported exchange answers a candle request, declared rather than inferred.

What a page means depends on the exchange, and reading one exchange's answer with another's
rules silently loses candles: an empty OKX window is "nothing in this window", not "nothing
after since"; a capped OKX page holds the newest rows of its window, so its oldest row says
nothing about the slots before it. The pager (ingest/pages.py) reads every answer through
these declarations, and never trusts the page cap: a short page proves absence only where
the declared semantics say the exchange would have filled it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Paging:
    # "forward": the first candles at or after `since`, however far after it (Binance,
    #   Bybit): one request from a range's start also finds a later listing, and a page cut
    #   short by the exchange's cap keeps its oldest candles.
    # "window": only what lies in [since, since + limit x timeframe) (OKX, Coinbase): an
    #   empty answer means "nothing in this window", and a page cut short by the cap keeps
    #   the newest candles of its window.
    # The cap itself is ccxt's `features` limit, lowered while fetching to what the exchange
    # really serves.
    since: str
    # The REST API serves only the most recent `reach` candles, whatever `since` says
    # (Kraken's OHLC endpoint: 720). Older slots are "not served", neither complete nor gaps.
    reach: int | None = None
    # ccxt's market['created'] is the exchange's listing time (OKX listTime): windows before
    # it need no request (one request of the window just before it checks the claim).
    listing_time: bool = False
    # The listing time is the source's own first candle of the series (Twelve Data's
    # /earliest_timestamp), an answer to "what is there before it": no request checks it.
    trust_listing: bool = False
    # A window answer holding fewer candles than asked for is everything the window has:
    # the source serves up to what is asked (Twelve Data's outputsize, up to 5000), never a
    # lower cap of its own. Without this, only what lies after its oldest row is confirmed.
    exact_cap: bool = False
    # The source serves the candle still forming, stored as open (closed = false) until it
    # closes. Twelve Data's forming bar is left alone: every request costs a credit.
    open_candles: bool = True
    # Exchange error codes that mean "try again": ccxt maps some of them to a plain
    # ExchangeError (Bybit 10016, Coinbase INTERNAL), which is not in its retryable family.
    transient_codes: frozenset[str] = frozenset()
    # Error codes that mean "slow down": the whole exchange backs off, not only the request.
    rate_limit_codes: frozenset[str] = frozenset()


PAGING: dict[str, Paging] = {
    "binance": Paging(
        since="forward",
        transient_codes=frozenset({"-1000", "-1001", "-1008"}),
        rate_limit_codes=frozenset({"-1003"})),
    "bybit": Paging(
        since="forward",
        transient_codes=frozenset({"10016"}),
        rate_limit_codes=frozenset({"10006", "10018"})),
    "okx": Paging(
        since="window", listing_time=True,
        transient_codes=frozenset({"50001", "50004", "50013", "50026"}),
        rate_limit_codes=frozenset({"50011"})),
    "coinbase": Paging(
        since="window",
        transient_codes=frozenset({"INTERNAL", "UNAVAILABLE", "internal_server_error"}),
        rate_limit_codes=frozenset({"rate_limit_exceeded", "RESOURCE_EXHAUSTED"})),
    "kraken": Paging(
        since="forward", reach=720,
        transient_codes=frozenset({"EService:Unavailable", "EService:Busy",
                                   "EGeneral:Internal error"}),
        rate_limit_codes=frozenset({"EAPI:Rate limit exceeded",
                                    "EGeneral:Too many requests"})),
}


def paging_of(exchange: str) -> Paging | None:
    return PAGING.get(exchange)


def error_codes(body) -> set[str]:
    """The error codes in an exchange's JSON error body, whatever its shape: Binance and OKX
    `code`, Bybit `retCode`, Kraken's `error` list, Coinbase's `error` or `errors[].id`."""
    if not isinstance(body, dict):
        return set()
    codes = {str(body[key]) for key in ("code", "retCode") if body.get(key) is not None}
    error = body.get("error")
    if isinstance(error, str):
        codes.add(error)
    elif isinstance(error, list):
        codes |= {item for item in error if isinstance(item, str)}
    errors = body.get("errors")
    if isinstance(errors, list):
        codes |= {str(item.get("id")) for item in errors if isinstance(item, dict)}
    return codes
