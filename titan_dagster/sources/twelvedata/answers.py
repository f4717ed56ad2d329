"""How a Twelve Data answer is read: its errors come as HTTP 4xx/5xx or as
`"status": "error"` in a 200, always with the body's `code`; pages that are not JSON
(Cloudflare's 502/520, a truncated body) are passing faults. Pure functions, no HTTP."""

import json
from datetime import UTC, datetime

from titan_dagster.exchange.errors import ExchangeAccessError, SymbolNotAvailable
from titan_dagster.sources.twelvedata.intervals import TWELVEDATA

# The message of an empty window (a weekend, a holiday, before the first bar): an answer
# about these dates only, never the end of the history.
NO_DATA = "no data is available on the specified dates"


class Transient(Exception):
    """Worth asking again after a backoff: 5xx, a page that is not JSON, a broken body."""


class MinuteLimit(Exception):
    """The plan's credits for this minute are used up: every request waits for the next."""


class CreditsExhausted(ExchangeAccessError):
    """The day's credits (the plan's, or this run's share of what was left) are used up."""


class NoData(Exception):
    """An empty window."""


def read_answer(status: int, text: str, what: str, symbol: str | None) -> dict:
    """The payload of a successful answer, or the error it is."""
    try:
        body = json.loads(text)
    except ValueError:
        raise Transient(f"HTTP {status}, not JSON: {text[:80]!r}") from None
    if not isinstance(body, dict):
        raise Transient(f"HTTP {status}, JSON that is not an object")
    if 200 <= status < 300 and body.get("status") != "error":
        return body
    code = body.get("code", status)
    message = str(body.get("message", ""))
    if code == 429 or status == 429:
        if "for the day" in message:
            raise CreditsExhausted(f"{TWELVEDATA}: the plan's credits for the day are used "
                                   f"up ({message[:120]}); the rest is fetched after the "
                                   "day's credits reset")
        raise MinuteLimit(message)
    if isinstance(code, int) and code >= 500 or status >= 500:
        raise Transient(f"code {code}: {message[:120]}")
    if NO_DATA in message.lower():
        raise NoData()
    if code == 404 and symbol is not None:
        raise SymbolNotAvailable(TWELVEDATA, symbol, f"Twelve Data answered {message[:160]}",
                                 kind="symbol")
    if code == 401:
        raise ExchangeAccessError(f"{TWELVEDATA} refused the API key for {what} (code 401): "
                                  "check the environment variable named by api_key_env")
    raise ExchangeAccessError(f"{TWELVEDATA} rejected {what}: code {code}: {message[:200]}")


def rows_of(payload: dict, daily: bool) -> list[list]:
    """/time_series values as [open ms, open, high, low, close, volume or None], prices as
    served. `datetime` is the bar's open time (asked in UTC); a daily bar's date is its
    session date, stored at 00:00 UTC. A bar whose time cannot be read keeps None there, and
    validation quarantines it."""
    values = payload.get("values")
    if not isinstance(values, list):
        raise Transient("an answer without a values list")
    return [[_open_ms(bar.get("datetime"), daily), bar.get("open"), bar.get("high"),
             bar.get("low"), bar.get("close"), bar.get("volume")]
            if isinstance(bar, dict) else [None] for bar in values]


def earliest_ms(payload: dict, daily: bool) -> int | None:
    """/earliest_timestamp's first bar: a daily one by its date (unix_time is the session's
    opening instant, not the 00:00 UTC the warehouse stores), an intraday one by unix_time."""
    if daily:
        return _open_ms(payload.get("datetime"), daily=True)
    unix = payload.get("unix_time")
    return int(unix) * 1000 if isinstance(unix, int) and not isinstance(unix, bool) else None


def _open_ms(text, daily: bool) -> int | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.strptime(text, "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)
