"""What every exchange emulator shares: deterministic candles per listed symbol, scripted
exchange-side trouble (outages, holes, corrections, invalid rows), injected faults, rate
limits, a request log and the HTTP server. Each exchange's module (binance, okx, bybit,
coinbase, kraken) adds its protocol: paths, parameters, page cap, row order, `since`
semantics and error format, as the real ccxt class of that exchange calls them."""

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import chain
from operator import attrgetter, itemgetter
from urllib.parse import parse_qsl, urlsplit

from titan_dagster.emulator.candles import INTERVALS, INVALID_KINDS, Shape, corrupt, klines

# Row faults answer 200 with a damaged page of the right candles: some rows repeated, the
# rows out of order, or rows from before the window in place of the page's last ones.
ROW_FAULT_KINDS = frozenset({"duplicate_rows", "disordered_rows", "outside_rows"})
FAULT_KINDS = frozenset({"status", "html", "html200", "empty200", "delay", "drop", "truncated",
                         *ROW_FAULT_KINDS})

_HTML = (
    "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n"
    "<hr><center>CloudFront</center>\r\n</body>\r\n</html>\r\n"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Fault:
    """What the next matching request gets instead of its normal answer.

    `code` is the exchange's own error code put in a "status" fault's body (Binance -1003,
    OKX "50011", Bybit 10016, Kraken "EService:Unavailable", Coinbase "UNAVAILABLE"); each
    exchange has defaults per HTTP status. `status` 200 with a code is an error answered with
    HTTP 200, as OKX, Bybit and Kraken do.
    """

    kind: str
    status: int | None = None
    retry_after: int | None = None
    delay: float | None = None
    code: int | str | None = None

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
    `symbol` (unified, 'BTC/USDT') and `interval` (the emulator's name, '1h') are set for
    candle requests, whatever the exchange calls them.
    """

    time_ms: int
    path: str
    params: dict[str, str]
    status: int
    fault: str | None
    symbol: str | None = None
    interval: str | None = None


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


def ceil_ms(t: int, step: int) -> int:
    return -(-t // step) * step


@dataclass
class Listing:
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
    path: str | None
    symbol: str | None


@dataclass
class _RandomFaults:
    rate: float
    faults: tuple[Fault, ...]
    path: str | None
    rng: random.Random


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json;charset=UTF-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    drop: bool = False


@dataclass
class CandleQuery:
    """A parsed candle request: what the exchange was asked, in the emulator's terms.
    `render` turns the rows served (ascending, internal layout) into the exchange's answer."""

    symbol: str
    interval: str
    rows: list[list]
    render: Callable[[list[list]], Reply]


def json_reply(payload: object, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode())


def html_reply(status: int) -> Reply:
    from http.client import responses

    title = f"{status} {responses.get(status, '')}"
    return Reply(status, _HTML.format(title).encode(), "text/html")


def _spans(
    first: int, last: int, iv: int, holes: list[_Hole], limit: int | None, from_end: bool
) -> list[range]:
    """Open times in [first, last] minus holes, cut to the first (or last) `limit` of them."""
    if first > last:
        return []
    spans, cur = [], first
    for hole in sorted(holes, key=attrgetter("start")):
        lo, hi = ceil_ms(hole.start, iv), ceil_ms(hole.end, iv)
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
    t = ceil_ms(max(hole.start, first), iv)
    return t < hole.end and t <= last


def _apply_corrections(
    rows: list[list],
    overrides: dict[int, dict[int, str]],
    invalid: dict[int, list[str]],
    interval: str,
    now: int,
    misalign_ms: int,
) -> list[list]:
    out = []
    for row in rows:
        t = row[0]
        main, extras = row, []
        for kind in invalid.get(t, ()):
            main, *more = corrupt(main, kind, interval, now, misalign_ms)
            extras += more
        fields = overrides.get(t, {})
        for r in (main, *extras):
            out.append([fields.get(i, value) for i, value in enumerate(r)] if r[0] == t else r)
    # Extra rows (misaligned, future) must still come out ascending, like the others.
    out.sort(key=itemgetter(0))
    return out


class Venue:
    """An exchange's public REST API on http://host:port, answering from deterministic candles.

    `listings` maps "BASE/QUOTE" to a listing time; `clock` returns the market's "now" in epoch
    ms. `max_requests_per_second` caps the requests served in any sliding wall-clock second
    (answered with the exchange's rate-limit error); injected faults bypass and do not use it.
    `shape` maps a listed symbol to a function of epoch ms giving a log-price offset added
    to its generated path (a market made to rise, then fall); see `set_shape`.
    """

    name = "venue"
    candles_path = ""  # the path faults and counts apply to by default
    symbol_param = ""  # the query parameter naming the market in candle requests
    default_listings: Mapping[str, str] = {}
    misalign_ms = 1  # how far a "misaligned" row is moved: the exchange's time resolution

    def __init__(
        self,
        listings: Mapping[str, int | str | datetime] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], int] | None = None,
        max_requests_per_second: int | None = None,
        *,
        shape: Mapping[str, Shape] | None = None,
    ) -> None:
        self._address = (host, port)
        self._clock = clock or _wall_clock_ms
        self._max_rps = max_requests_per_second
        self._lock = threading.Lock()
        self._listings: dict[str, Listing] = {}
        self._ids: dict[str, str] = {}  # the exchange's market id -> unified symbol
        self._holes: dict[str, list[_Hole]] = {}
        self._overrides: dict[tuple[str, str], dict[int, dict[int, str]]] = {}
        self._invalid: dict[tuple[str, str], dict[int, list[str]]] = {}
        self._shapes: dict[str, Shape] = {}
        self._injections: list[_Injection] = []
        self._random_faults: _RandomFaults | None = None
        self._records: list[RequestRecord] = []
        # Bumped by every change to what the market serves, so what is built from it (the
        # Binance archive's files) can be cached until then.
        self._revision = 0
        # Rate windows run on wall time: they model server capacity, not the market clock.
        self._last_second: deque[float] = deque()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        for symbol, listed_at in (self.default_listings if listings is None
                                  else listings).items():
            self.add_symbol(symbol, listed_at)
        for symbol, fn in (shape or {}).items():
            self.set_shape(symbol, fn)

    # -- the protocol, per exchange ------------------------------------------------------

    def route(self, path: str, params: dict[str, str], now: int) -> Reply | CandleQuery:
        """The answer to a request that got no fault: a reply, or a candle query whose rows
        may still be damaged by a row fault before they are rendered."""
        raise NotImplementedError

    def error_reply(self, status: int, code: int | str | None, retry_after: int | None
                    ) -> Reply:
        """The exchange's error answer for an HTTP status (and its own code, if given)."""
        raise NotImplementedError

    def empty_reply(self) -> Reply:
        """A 200 that holds no candles, in the exchange's format."""
        raise NotImplementedError

    def rate_limited_reply(self) -> Reply:
        return self.error_reply(429, None, 1)

    def canonical(self, path: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        """The request as faults, counts and `route` see it: an exchange that names the
        market in the path (Coinbase's /products/BTC-USD/candles) moves it to a parameter,
        so that one path stands for the endpoint."""
        return path, params

    def market_id(self, symbol: str) -> str:
        """The exchange's id of a unified symbol ('BTC/USDT' -> 'BTCUSDT')."""
        raise NotImplementedError

    def request_symbol(self, params: dict[str, str]) -> str | None:
        """The unified symbol a request is about, if any (for faults and counts)."""
        return self.symbol_of(params.get(self.symbol_param))

    def request_interval(self, path: str, params: dict[str, str]) -> str | None:
        return None

    def extra_headers(self, path: str) -> list[tuple[str, str]]:
        return []

    def rate_limited(self, path: str) -> bool:
        """Whether max_requests_per_second applies to requests to `path` (not, say, to a
        file host the exchange serves from elsewhere)."""
        return True

    def header_params(self, params: dict[str, str], headers: Mapping[str, str]
                      ) -> dict[str, str]:
        """The query parameters plus what the exchange reads from request headers (an API
        key, say), before `canonical` sees them. Default: the query parameters alone."""
        return params

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._stopping.clear()
        self._server = _Server(self._address, _Handler)
        self._server.emulator = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.02,),  # the poll interval bounds how long stop() waits
            name=f"{self.name}-emulator",
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

    def __enter__(self):
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

    # -- the market ----------------------------------------------------------------------

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
            self._listings[symbol] = Listing(symbol, to_ms(listed_at), delisted)
            self._ids[self.market_id(symbol)] = symbol
            self._revision += 1

    def set_shape(self, symbol: str, shape: Shape | None) -> None:
        """From now on the symbol's log price is the generated one plus `shape(t)` at every
        time t (None: the generated path again). A pure function of time keeps a candle's
        close equal to the next open and every interval consistent with the 1m candles; it is
        applied wherever the venue prices the symbol."""
        if shape is not None and not callable(shape):
            raise TypeError(f"a shape is a function of epoch ms, got {shape!r}")
        with self._lock:
            symbol = self._known(symbol)
            if shape is None:
                self._shapes.pop(symbol, None)
            else:
                self._shapes[symbol] = shape
            self._revision += 1

    def shape_of(self, symbol: str) -> Shape | None:
        with self._lock:
            return self._shapes.get(self._known(symbol))

    def add_hole(
        self,
        symbol: str,
        start: int | str | datetime,
        end: int | str | datetime,
        *,
        transient_requests: int = 0,
    ) -> None:
        """No candles in [start, end): an outage. With `transient_requests`, only the next
        that many candle requests touching it miss them (a replica lagging behind)."""
        if transient_requests < 0:
            raise ValueError("transient_requests must be >= 0")
        hole = _Hole(to_ms(start), to_ms(end), transient_requests or None)
        if hole.end <= hole.start:
            raise ValueError("a hole needs start < end")
        with self._lock:
            self._holes.setdefault(self._known(symbol), []).append(hole)
            self._revision += 1

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
            self._revision += 1

    def add_invalid(self, symbol: str, interval: str, open_time: int, kind: str) -> None:
        if kind not in INVALID_KINDS:
            raise ValueError(f"unknown invalid kind {kind!r}")
        with self._lock:
            by_time = self._invalid.setdefault(self._key(symbol, interval, open_time), {})
            kinds = [*by_time.get(open_time, []), kind]
            # nan/inf last: the other kinds do arithmetic on fields those make non-numeric.
            by_time[open_time] = sorted(kinds, key=lambda k: k in ("nan", "inf"))
            self._revision += 1

    def listing(self, symbol: str) -> Listing:
        with self._lock:
            return self._listings[self._known(symbol)]

    @property
    def listings(self) -> list[Listing]:
        with self._lock:
            return list(self._listings.values())

    # -- faults --------------------------------------------------------------------------

    def inject(self, fault: Fault, count: int = 1, *, path: str | None = None,
               symbol: str | None = None) -> None:
        """The next `count` requests to `path` (default: the candle endpoint), of `symbol`
        if given, get `fault`."""
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._injections.append(_Injection(fault, count, path or self.candles_path,
                                               symbol))

    def inject_at_rate(
        self,
        rate: float,
        faults: Sequence[Fault] | None = None,
        *,
        seed: int = 0,
        path: str | None = None,
    ) -> None:
        """From now on each request to `path` (default: the candle endpoint) gets, with
        probability `rate`, one of `faults` drawn at random (seeded: the same run of requests
        gets the same faults). Faults queued with inject() come first. A rate of 0 stops it."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        faults = tuple(self.all_faults() if faults is None else faults)
        if not faults:
            raise ValueError("faults must not be empty")
        with self._lock:
            self._random_faults = (
                _RandomFaults(rate, faults, path or self.candles_path, random.Random(seed))
                if rate else None
            )

    def all_faults(self) -> tuple[Fault, ...]:
        """Every fault this exchange has been seen to give, for rate-based injection."""
        return ALL_FAULTS

    @property
    def faults_injected(self) -> int:
        """Requests answered with an injected fault (rate-limit refusals not counted)."""
        return sum(1 for r in self.requests if r.fault not in (None, "rate_limit"))

    # -- what was served -----------------------------------------------------------------

    def candles(
        self, symbol: str, interval: str, start: int | str | datetime, end: int | str | datetime
    ) -> list[list]:
        """Rows opening in [start, end) as served now, ignoring transient holes."""
        start, end = to_ms(start), to_ms(end)
        with self._lock:
            symbol = self._known(symbol)
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r}")
        rows = self.rows(symbol, interval, start, end - 1, self._now(), None, serving=False)
        return [row for row in rows if start <= row[0] < end]

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def count(self, path: str | None = "", symbol: str | None = None,
              interval: str | None = None) -> int:
        """Requests to `path` (default: the candle endpoint; None: any), of a symbol (unified
        or the exchange's id) and an interval if given."""
        path = self.candles_path if path == "" else path
        symbol = self.symbol_of(symbol) or symbol
        return sum(
            1
            for r in self.requests
            if (path is None or r.path == path)
            and (symbol is None or r.symbol == symbol)
            and (interval is None or r.interval == interval)
        )

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

    # -- serving -------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def symbol_of(self, market_id: str | None) -> str | None:
        """The unified symbol of an exchange market id, None if not listed."""
        with self._lock:
            return self._ids.get(market_id or "")

    def _known(self, symbol: str) -> str:
        """Unified symbol from a unified symbol or the exchange's id; lock held."""
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
        return self._known(symbol), interval

    def rows(
        self,
        symbol: str,
        interval: str,
        start: int | None,
        end: int | None,
        now: int,
        limit: int | None,
        *,
        serving: bool,
        from_end: bool | None = None,
    ) -> list[list]:
        """Rows opening in [start, end] (inclusive bounds), ascending: the first `limit`
        of them, or the last with `from_end` (default: when there is no start).

        `serving` marks a real candle request: transient holes then apply and use up a hit.
        """
        iv = INTERVALS[interval]
        with self._lock:
            listing = self._listings[symbol]
            first = listing.listed_at - listing.listed_at % iv
            if start is not None:
                first = max(first, ceil_ms(start, iv))
            bounds = [now] if end is None else [now, end]
            if listing.delisted_at is not None:
                bounds.append(listing.delisted_at - 1)
            last = min(bounds)
            last -= last % iv
            holes = self._holes.get(symbol, [])
            active = [h for h in holes if h.remaining is None]
            from_end = start is None if from_end is None else from_end
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
            shape = self._shapes.get(symbol)
        rows = klines(symbol, interval, chain.from_iterable(spans), now, shape)
        if overrides or invalid:
            rows = _apply_corrections(rows, overrides, invalid, interval, now, self.misalign_ms)
        return rows

    def _serve(self, path: str, params: dict[str, str]) -> Reply:
        path, params = self.canonical(path, params)
        now = self._now()
        symbol = self.request_symbol(params)
        with self._lock:
            fault = self._take_fault(path, symbol)
            limited = fault is None and self.rate_limited(path) and self._over_rate_limit()
        if fault is not None and fault.kind not in ("delay", "truncated", *ROW_FAULT_KINDS):
            reply = self._fault_reply(fault)
        elif limited:
            reply = self.rate_limited_reply()
        else:
            answer = self.route(path, params, now)
            if isinstance(answer, CandleQuery):
                rows = answer.rows
                if fault is not None and fault.kind in ROW_FAULT_KINDS:
                    rows = self._damaged(fault.kind, answer, now)
                answer = answer.render(rows)
            reply = answer
            if fault is not None and fault.kind == "truncated":
                reply.body = reply.body[: len(reply.body) // 2]
            elif fault is not None and fault.kind == "delay":
                reply.delay = fault.delay
        outcome = fault.kind if fault is not None else "rate_limit" if limited else None
        with self._lock:
            self._records.append(RequestRecord(now, path, params, reply.status, outcome, symbol,
                                               self.request_interval(path, params)))
        reply.headers += self.extra_headers(path)
        return reply

    def _fault_reply(self, fault: Fault) -> Reply:
        if fault.kind == "status":
            return self.error_reply(fault.status, fault.code, fault.retry_after)
        if fault.kind in ("html", "html200"):
            return html_reply(200 if fault.kind == "html200" else fault.status or 502)
        if fault.kind == "empty200":
            return self.empty_reply()
        return Reply(0, b"", drop=True)  # "drop"; delay and truncated wrap the normal answer

    def _take_fault(self, path: str, symbol: str | None) -> Fault | None:
        """Lock held."""
        for injection in self._injections:
            if injection.path == path and injection.symbol in (None, symbol):
                injection.remaining -= 1
                if injection.remaining <= 0:
                    self._injections.remove(injection)
                return injection.fault
        chaos = self._random_faults
        if chaos is not None and chaos.path == path and chaos.rng.random() < chaos.rate:
            return chaos.rng.choice(chaos.faults)
        return None

    def _damaged(self, kind: str, query: CandleQuery, now: int) -> list[list]:
        """The rows of a page with a row fault, no more of them than the page holds."""
        rows = query.rows
        if len(rows) < 2:
            return rows
        if kind == "disordered_rows":
            return rows[::-1]
        keep = len(rows) - max(1, len(rows) // 10)
        if kind == "duplicate_rows":
            repeated = rows[: len(rows) - keep]
            return sorted(rows[:keep] + repeated, key=itemgetter(0))
        before = rows[0][0] - (len(rows) - keep) * INTERVALS[query.interval]
        earlier = self.rows(query.symbol, query.interval, before, rows[0][0] - 1, now, None,
                            serving=False)
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


def parse_int(params: dict[str, str], name: str) -> int | None | str:
    """An integer query parameter: None when absent, the text itself when not digits."""
    text = params.get(name)
    if text is None:
        return None
    return int(text) if text.isdigit() else text


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Venue

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
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        reply = emulator._serve(url.path, emulator.header_params(params, self.headers))
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
