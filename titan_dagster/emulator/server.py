"""A Binance spot REST emulator that real ccxt can talk to over HTTP.

Serves ping, time, exchangeInfo and klines with Binance's shapes and error codes, plus
scriptable exchange-side trouble (holes, corrections, invalid rows, injected faults, rate
limiting) so clients can be tested against the failure modes of the real exchange.
"""

import contextlib
import json
import random
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import responses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import chain
from operator import attrgetter, itemgetter
from urllib.parse import parse_qsl, urlsplit

from titan_dagster.emulator.candles import INTERVALS, INVALID_KINDS, corrupt, fmt, klines, profile

KLINES = "/api/v3/klines"
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000

DEFAULT_LISTINGS: dict[str, str] = {
    "BTC/USDT": "2017-08-17",
    "ETH/USDT": "2017-08-17",
    "BNB/USDT": "2017-11-06",
    "SOL/USDT": "2020-08-11",
    "XRP/USDT": "2018-05-04",
    "ADA/USDT": "2018-04-17",
    "DOGE/USDT": "2019-07-05",
    "TRX/USDT": "2018-06-11",
    "AVAX/USDT": "2020-09-22",
    "LINK/USDT": "2019-01-16",
    "DOT/USDT": "2020-08-18",
    "SUI/USDT": "2023-05-03",
    "LTC/USDT": "2017-12-13",
    "BCH/USDT": "2019-11-28",
    "SHIB/USDT": "2021-05-10",
    "ATOM/USDT": "2019-04-29",
    "UNI/USDT": "2020-09-17",
    "XLM/USDT": "2018-05-31",
    "NEAR/USDT": "2020-10-14",
    "APT/USDT": "2022-10-19",
}

# Row faults answer 200 with a damaged page of the right candles: some rows repeated, the
# rows out of order, or rows from before startTime in place of the page's last ones.
ROW_FAULT_KINDS = frozenset({"duplicate_rows", "disordered_rows", "outside_rows"})
FAULT_KINDS = frozenset({"status", "html", "html200", "empty200", "delay", "drop", "truncated",
                         *ROW_FAULT_KINDS})

# Binance request weights, so x-mbx-used-weight-1m moves like the real header.
_WEIGHTS = {"/api/v3/exchangeInfo": 20, KLINES: 2}

_MESSAGES = {
    -1000: "An unknown error occurred while processing the request.",
    -1001: "Internal error; unable to process your request. Please try again.",
    -1003: "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
    "Please use WebSocket Streams for live updates to avoid polling the API.",
    -1008: "Server is currently overloaded with other requests. Please try again in a few minutes.",
}

_HTML = (
    "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n"
    "<hr><center>CloudFront</center>\r\n</body>\r\n</html>\r\n"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Fault:
    """What the next matching request gets instead of its normal answer.

    `code` is an extension: the Binance error code put in a "status" fault's body. Without
    it, 418/429 carry -1003, other 4xx -1000, and 5xx no code at all (like Binance's
    gateway errors); ccxt maps a body code before it looks at the HTTP status.
    """

    kind: str
    status: int | None = None
    retry_after: int | None = None
    delay: float | None = None
    code: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.kind == "status" and self.status is None:
            raise ValueError("a 'status' fault needs a status")
        if self.kind == "delay" and self.delay is None:
            raise ValueError("a 'delay' fault needs a delay")


# What rate-based injection draws from by default: every fault a real exchange or its CDN
# has been seen to give, each equally likely.
ALL_FAULTS = (
    Fault("status", 429, retry_after=1),
    Fault("status", 418, retry_after=1),
    Fault("status", 500),
    Fault("html", 502),
    Fault("status", 503),
    Fault("delay", delay=3.0),  # the tests' clients time out sooner
    Fault("drop"),
    Fault("truncated"),
    Fault("empty200"),
    Fault("duplicate_rows"),
    Fault("disordered_rows"),
    Fault("outside_rows"),
)


@dataclass(frozen=True)
class RequestRecord:
    """One request as answered; status 0 means the connection was dropped unanswered.

    `fault` is the injected fault kind, "rate_limit" for max_requests_per_second refusals.
    """

    time_ms: int
    path: str
    params: dict[str, str]
    status: int
    fault: str | None


def to_ms(value: int | str | datetime) -> int:
    """Epoch ms from epoch ms, an ISO date/datetime string or a datetime (naive means UTC)."""
    if isinstance(value, bool):
        raise TypeError("expected a time, got a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return (value - _EPOCH) // timedelta(milliseconds=1)
    raise TypeError(f"expected epoch ms, ISO string or datetime, got {value!r}")


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def _ceil(t: int, step: int) -> int:
    return -(-t // step) * step


@dataclass
class _Listing:
    symbol: str
    listed_at: int
    delisted_at: int | None


@dataclass
class _Hole:
    start: int
    end: int
    remaining: int | None  # None: permanent; otherwise requests it will still hide candles from


@dataclass
class _Injection:
    fault: Fault
    remaining: int
    path: str
    symbol_id: str | None


@dataclass
class _RandomFaults:
    rate: float
    faults: tuple[Fault, ...]
    path: str
    rng: random.Random


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json;charset=UTF-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    drop: bool = False


def _json(payload: object, status: int = 200) -> _Reply:
    return _Reply(status, json.dumps(payload, separators=(",", ":")).encode())


def _error(status: int, code: int | None, msg: str) -> _Reply:
    return _json({"msg": msg} if code is None else {"code": code, "msg": msg}, status)


def _fault_reply(fault: Fault) -> _Reply:
    if fault.kind == "status":
        code = fault.code
        if code is None and fault.status < 500:
            code = -1003 if fault.status in (418, 429) else -1000
        reply = _error(fault.status, code, _MESSAGES.get(code, responses.get(fault.status, "")))
        if fault.retry_after is not None:
            reply.headers.append(("Retry-After", str(fault.retry_after)))
        return reply
    if fault.kind in ("html", "html200"):
        status = 200 if fault.kind == "html200" else fault.status or 502
        title = f"{status} {responses.get(status, '')}"
        return _Reply(status, _HTML.format(title).encode(), "text/html")
    if fault.kind == "empty200":
        return _Reply(200, b"[]")
    return _Reply(0, b"", drop=True)  # "drop"; delay and truncated wrap the normal answer


def _spans(
    first: int, last: int, iv: int, holes: list[_Hole], limit: int | None, from_end: bool
) -> list[range]:
    """Open times in [first, last] minus holes, cut to the first (or last) `limit` of them."""
    if first > last:
        return []
    spans, cur = [], first
    for hole in sorted(holes, key=attrgetter("start")):
        lo, hi = _ceil(hole.start, iv), _ceil(hole.end, iv)
        if hi <= cur:
            continue
        if lo > last:
            break
        if lo > cur:
            spans.append(range(cur, lo, iv))
        cur = hi
    if cur <= last:
        spans.append(range(cur, last + iv, iv))
    if limit is None:
        return spans
    taken = []
    for span in reversed(spans) if from_end else spans:
        if limit == 0:
            break
        part = span[-limit:] if from_end else span[:limit]
        taken.append(part)
        limit -= len(part)
    return taken[::-1] if from_end else taken


def _touches(hole: _Hole, first: int, last: int, iv: int) -> bool:
    t = _ceil(max(hole.start, first), iv)
    return t < hole.end and t <= last


def _apply_corrections(
    rows: list[list],
    overrides: dict[int, dict[int, str]],
    invalid: dict[int, list[str]],
    interval: str,
    now: int,
) -> list[list]:
    out = []
    for row in rows:
        t = row[0]
        main, extras = row, []
        for kind in invalid.get(t, ()):
            main, *more = corrupt(main, kind, interval, now)
            extras += more
        fields = overrides.get(t, {})
        for r in (main, *extras):
            out.append([fields.get(i, value) for i, value in enumerate(r)] if r[0] == t else r)
    # Extra rows (misaligned, future) must still come out ascending, like Binance's.
    out.sort(key=itemgetter(0))
    return out


class BinanceEmulator:
    """Binance spot REST on http://host:port/api/v3, answering from deterministic candles.

    `listings` maps "BASE/QUOTE" to a listing time (defaults to DEFAULT_LISTINGS); `clock`
    returns the market's "now" in epoch ms. `max_requests_per_second` caps the requests
    served in any sliding wall-clock second; injected faults bypass and do not use it.
    """

    def __init__(
        self,
        listings: Mapping[str, int | str | datetime] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], int] | None = None,
        max_requests_per_second: int | None = None,
    ) -> None:
        self._address = (host, port)
        self._clock = clock or _wall_clock_ms
        self._max_rps = max_requests_per_second
        self._lock = threading.Lock()
        self._listings: dict[str, _Listing] = {}
        self._ids: dict[str, str] = {}
        self._holes: dict[str, list[_Hole]] = {}
        self._overrides: dict[tuple[str, str], dict[int, dict[int, str]]] = {}
        self._invalid: dict[tuple[str, str], dict[int, list[str]]] = {}
        self._injections: list[_Injection] = []
        self._random_faults: _RandomFaults | None = None
        self._records: list[RequestRecord] = []
        # Rate windows run on wall time: they model server capacity, not the market clock.
        self._last_second: deque[float] = deque()
        self._last_minute: deque[tuple[float, int]] = deque()
        self._minute_weight = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        for symbol, listed_at in (DEFAULT_LISTINGS if listings is None else listings).items():
            self.add_symbol(symbol, listed_at)

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._stopping.clear()
        self._server = _Server(self._address, _Handler)
        self._server.emulator = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.02,),  # the poll interval bounds how long stop() waits
            name="binance-emulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        # Idle keep-alive connections would otherwise pin their handler threads forever.
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> "BinanceEmulator":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    def add_symbol(
        self,
        symbol: str,
        listed_at: int | str | datetime,
        delisted_at: int | str | datetime | None = None,
    ) -> None:
        base, _, quote = symbol.partition("/")
        if not base or not quote:
            raise ValueError(f"symbol must look like 'BASE/QUOTE', got {symbol!r}")
        delisted = None if delisted_at is None else to_ms(delisted_at)
        with self._lock:
            self._listings[symbol] = _Listing(symbol, to_ms(listed_at), delisted)
            self._ids[base + quote] = symbol

    def add_hole(
        self,
        symbol: str,
        start: int | str | datetime,
        end: int | str | datetime,
        *,
        transient_requests: int = 0,
    ) -> None:
        if transient_requests < 0:
            raise ValueError("transient_requests must be >= 0")
        hole = _Hole(to_ms(start), to_ms(end), transient_requests or None)
        if hole.end <= hole.start:
            raise ValueError("a hole needs start < end")
        with self._lock:
            self._holes.setdefault(self._symbol(symbol), []).append(hole)

    def set_candle(
        self,
        symbol: str,
        interval: str,
        open_time: int,
        open: str | None = None,
        high: str | None = None,
        low: str | None = None,
        close: str | None = None,
        volume: str | None = None,
    ) -> None:
        values = (open, high, low, close, volume)
        fields = {i: v for i, v in enumerate(values, start=1) if v is not None}
        with self._lock:
            by_time = self._overrides.setdefault(self._key(symbol, interval, open_time), {})
            # Replaced, never mutated: readers hold a shallow copy taken under the lock.
            by_time[open_time] = {**by_time.get(open_time, {}), **fields}

    def add_invalid(self, symbol: str, interval: str, open_time: int, kind: str) -> None:
        if kind not in INVALID_KINDS:
            raise ValueError(f"unknown invalid kind {kind!r}")
        with self._lock:
            by_time = self._invalid.setdefault(self._key(symbol, interval, open_time), {})
            kinds = [*by_time.get(open_time, []), kind]
            # nan/inf last: the other kinds do arithmetic on fields those make non-numeric.
            by_time[open_time] = sorted(kinds, key=lambda k: k in ("nan", "inf"))

    def inject(
        self, fault: Fault, count: int = 1, *, path: str = KLINES, symbol: str | None = None
    ) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        symbol_id = None if symbol is None else symbol.replace("/", "")
        with self._lock:
            self._injections.append(_Injection(fault, count, path, symbol_id))

    def inject_at_rate(
        self,
        rate: float,
        faults: Sequence[Fault] = ALL_FAULTS,
        *,
        seed: int = 0,
        path: str = KLINES,
    ) -> None:
        """From now on each request to `path` gets, with probability `rate`, one of `faults`
        drawn at random (seeded: the same run of requests gets the same faults). Faults
        queued with inject() come first. A rate of 0 stops it."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if not faults:
            raise ValueError("faults must not be empty")
        with self._lock:
            self._random_faults = (
                _RandomFaults(rate, tuple(faults), path, random.Random(seed)) if rate else None
            )

    @property
    def faults_injected(self) -> int:
        """Requests answered with an injected fault (rate-limit refusals not counted)."""
        return sum(1 for r in self.requests if r.fault not in (None, "rate_limit"))

    def candles(
        self, symbol: str, interval: str, start: int | str | datetime, end: int | str | datetime
    ) -> list[list]:
        """Rows opening in [start, end) as served now, ignoring transient holes."""
        start, end = to_ms(start), to_ms(end)
        with self._lock:
            symbol = self._symbol(symbol)
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r}")
        rows = self._rows(symbol, interval, start, end - 1, self._now(), None, serving=False)
        return [row for row in rows if start <= row[0] < end]

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def count(
        self, path: str | None = KLINES, symbol: str | None = None, interval: str | None = None
    ) -> int:
        symbol_id = None if symbol is None else symbol.replace("/", "")
        return sum(
            1
            for r in self.requests
            if (path is None or r.path == path)
            and (symbol_id is None or r.params.get("symbol") == symbol_id)
            and (interval is None or r.params.get("interval") == interval)
        )

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

    def _now(self) -> int:
        return int(self._clock())

    def _symbol(self, symbol: str) -> str:
        """Unified symbol from a unified symbol or a Binance id; lock held."""
        if symbol in self._listings:
            return symbol
        if symbol in self._ids:
            return self._ids[symbol]
        raise ValueError(f"unknown symbol {symbol!r}")

    def _key(self, symbol: str, interval: str, open_time: int) -> tuple[str, str]:
        """Lock held; rejects open times no candle can have, which would silently never match."""
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r}")
        if open_time % INTERVALS[interval]:
            raise ValueError(f"{open_time} is not a {interval} open time")
        return self._symbol(symbol), interval

    def _rows(
        self,
        symbol: str,
        interval: str,
        start: int | None,
        end: int | None,
        now: int,
        limit: int | None,
        *,
        serving: bool,
    ) -> list[list]:
        """Rows opening in [start, end] (inclusive bounds, like Binance's startTime/endTime).

        `serving` marks a real klines request: transient holes then apply and use up a hit.
        """
        iv = INTERVALS[interval]
        with self._lock:
            listing = self._listings[symbol]
            first = listing.listed_at - listing.listed_at % iv
            if start is not None:
                first = max(first, _ceil(start, iv))
            bounds = [now] if end is None else [now, end]
            if listing.delisted_at is not None:
                bounds.append(listing.delisted_at - 1)
            last = min(bounds)
            last -= last % iv
            holes = self._holes.get(symbol, [])
            active = [h for h in holes if h.remaining is None]
            from_end = start is None
            spans = _spans(first, last, iv, active, limit, from_end)
            if serving and spans:
                window = spans[0][0], spans[-1][-1]
                hit = [h for h in holes if h.remaining and _touches(h, *window, iv)]
                for hole in hit:
                    hole.remaining -= 1
                if hit:
                    spans = _spans(first, last, iv, active + hit, limit, from_end)
            overrides = dict(self._overrides.get((symbol, interval), {}))
            invalid = dict(self._invalid.get((symbol, interval), {}))
        rows = klines(symbol, interval, chain.from_iterable(spans), now)
        if overrides or invalid:
            rows = _apply_corrections(rows, overrides, invalid, interval, now)
        return rows

    def _serve(self, path: str, params: dict[str, str]) -> _Reply:
        now = self._now()
        with self._lock:
            fault = self._take_fault(path, params.get("symbol"))
            limited = fault is None and self._over_rate_limit()
        if fault is not None and fault.kind not in ("delay", "truncated", *ROW_FAULT_KINDS):
            reply = _fault_reply(fault)
        elif limited:
            reply = _error(
                429, -1003, f"Too many requests; current limit is {self._max_rps} per second."
            )
            reply.headers.append(("Retry-After", "1"))
        else:
            reply = self._route(path, params, now)
            if fault is not None and fault.kind == "truncated":
                reply.body = reply.body[: len(reply.body) // 2]
            elif fault is not None and fault.kind in ROW_FAULT_KINDS and reply.status == 200:
                reply = _json(self._damaged(fault.kind, json.loads(reply.body), params, now))
            elif fault is not None:
                reply.delay = fault.delay
        outcome = fault.kind if fault is not None else "rate_limit" if limited else None
        with self._lock:
            used = self._use_weight(path)
            self._records.append(RequestRecord(now, path, params, reply.status, outcome))
        reply.headers += [("x-mbx-used-weight", str(used)), ("x-mbx-used-weight-1m", str(used))]
        return reply

    def _take_fault(self, path: str, symbol_id: str | None) -> Fault | None:
        """Lock held."""
        for injection in self._injections:
            if injection.path == path and injection.symbol_id in (None, symbol_id):
                injection.remaining -= 1
                if injection.remaining <= 0:
                    self._injections.remove(injection)
                return injection.fault
        chaos = self._random_faults
        if chaos is not None and chaos.path == path and chaos.rng.random() < chaos.rate:
            return chaos.rng.choice(chaos.faults)
        return None

    def _damaged(self, kind: str, rows: list[list], params: dict[str, str], now: int) -> list:
        """A page of `rows` with a row fault, no longer than the page asked for."""
        if len(rows) < 2:
            return rows
        if kind == "disordered_rows":
            return rows[::-1]
        keep = len(rows) - max(1, len(rows) // 10)
        if kind == "duplicate_rows":
            repeated = rows[: len(rows) - keep]
            return sorted(rows[:keep] + repeated, key=itemgetter(0))
        interval = params["interval"]
        before = rows[0][0] - (len(rows) - keep) * INTERVALS[interval]
        with self._lock:
            symbol = self._ids[params["symbol"]]
        earlier = self._rows(symbol, interval, before, rows[0][0] - 1, now, None, serving=False)
        return earlier + rows[: len(rows) - len(earlier)]

    def _over_rate_limit(self) -> bool:
        """Lock held; counts the request as served when it is let through."""
        if self._max_rps is None:
            return False
        t = time.monotonic()
        while self._last_second and self._last_second[0] <= t - 1:
            self._last_second.popleft()
        if len(self._last_second) >= self._max_rps:
            return True
        self._last_second.append(t)
        return False

    def _use_weight(self, path: str) -> int:
        """Lock held; the request weight used over the last minute, this request included."""
        t = time.monotonic()
        weight = _WEIGHTS.get(path, 1)
        self._last_minute.append((t, weight))
        self._minute_weight += weight
        while self._last_minute[0][0] <= t - 60:
            self._minute_weight -= self._last_minute.popleft()[1]
        return self._minute_weight

    def _route(self, path: str, params: dict[str, str], now: int) -> _Reply:
        if path == "/api/v3/ping":
            return _json({})
        if path == "/api/v3/time":
            return _json({"serverTime": now})
        if path == "/api/v3/exchangeInfo":
            return _json(self._exchange_info(now))
        if path == KLINES:
            return self._klines(params, now)
        return _error(404, -1, "Not found")

    def _exchange_info(self, now: int) -> dict:
        with self._lock:
            listings = list(self._listings.values())
        return {
            "timezone": "UTC",
            "serverTime": now,
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 6000,
                }
            ],
            "exchangeFilters": [],
            "symbols": [_symbol_info(listing, now) for listing in listings],
        }

    def _klines(self, params: dict[str, str], now: int) -> _Reply:
        for name in ("symbol", "interval"):
            if not params.get(name):
                return _error(
                    400,
                    -1102,
                    f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
                )
        numbers: dict[str, int | None] = {}
        for name in ("startTime", "endTime", "limit"):
            text = params.get(name)
            if text is not None and not text.isdigit():
                return _error(
                    400,
                    -1100,
                    f"Illegal characters found in parameter '{name}'; "
                    "legal range is '^[0-9]{1,20}$'.",
                )
            numbers[name] = None if text is None else int(text)
        with self._lock:
            symbol = self._ids.get(params["symbol"])
        if symbol is None:
            return _error(400, -1121, "Invalid symbol.")
        interval = params["interval"]
        if interval not in INTERVALS:
            return _error(400, -1120, "Invalid interval.")
        limit = DEFAULT_LIMIT if numbers["limit"] is None else numbers["limit"]
        if not 1 <= limit <= MAX_LIMIT:
            return _error(400, -1130, "Invalid data sent for a parameter.")
        rows = self._rows(
            symbol, interval, numbers["startTime"], numbers["endTime"], now, limit, serving=True
        )
        return _json(rows)


def _symbol_info(listing: _Listing, now: int) -> dict:
    base, quote = listing.symbol.split("/")
    tick = fmt(profile(listing.symbol).tick)
    delisted = listing.delisted_at is not None and now >= listing.delisted_at
    return {
        "symbol": base + quote,
        "status": "BREAK" if delisted else "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "1000000.00000000",
                "tickSize": tick,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": "0.00001000",
                "maxQty": "9000.00000000",
                "stepSize": "0.00001000",
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": "5.00000000",
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": ["SPOT"],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: BinanceEmulator

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hanging up (timeouts, drops, shutdown) are part of the job, not errors.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as aiohttp expects
    # Headers and body go out in separate writes; Nagle would hold the body back ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.emulator._lock:
            self.server.emulator._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.emulator._lock:
            self.server.emulator._connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        emulator = self.server.emulator
        reply = emulator._serve(url.path, dict(parse_qsl(url.query, keep_blank_values=True)))
        if reply.drop or (reply.delay and emulator._stopping.wait(reply.delay)):
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: tests and benchmarks push thousands of requests."""
