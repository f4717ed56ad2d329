"""Deterministic klines in Binance's row layout, which every emulator renders its own way:
pure functions of (symbol, interval, open time, now).

Prices and volumes are integers in units of 1e-8, the precision Binance prints, so every
served string is exact and the same inputs always produce the same bytes.
"""

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

INTERVALS: dict[str, int] = {
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
}

UNIT = 10**8
STEP = 1_000  # LOT_SIZE stepSize 0.00001
ZERO = "0.00000000"

INVALID_KINDS = frozenset(
    {
        "high_below_low",
        "conflicting_duplicate",
        "high_below_open",
        "low_above_close",
        "zero_price",
        "negative_price",
        "negative_volume",
        "nan",
        "inf",
        "misaligned",
        "duplicate",
        "future",
    }
)

_MASK = (1 << 64) - 1
# (period, amplitude of log price), from market regimes down to intraday wiggles; a sum of
# waves is a smooth wander that costs a few sin() calls at any t, with no state to replay.
_WAVES = (
    (97 * DAY, 0.45),
    (23 * DAY, 0.2),
    (5.3 * DAY, 0.08),
    (19 * HOUR, 0.03),
    (3.1 * HOUR, 0.012),
    (37 * MINUTE, 0.005),
)
_POINT_NOISE = 0.001
_ZERO_VOLUME_PER_256 = 5  # ~2% of candles trade nothing
# A test's hand on a symbol's path: epoch ms -> a log-price offset added to the generated
# path (0.0 leaves it as it is; log(1.1) at t makes the price 10% higher there).
Shape = Callable[[int], float]


def mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-mixed integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _signed_unit(h: int) -> float:
    return (h >> 11) * 2.0**-52 - 1.0


def fmt(units: int) -> str:
    if units < 0:
        return "-" + fmt(-units)
    # Slicing the decimal string is markedly faster than divmod plus a padded format.
    digits = str(units)
    if len(digits) > 8:
        return f"{digits[:-8]}.{digits[-8:]}"
    return "0." + digits.zfill(8)


def parse_units(text: str) -> int:
    # Only ever applied to strings produced by fmt, which always carry 8 decimals.
    return int(text.replace(".", ""))


@dataclass(frozen=True)
class Profile:
    seed: int
    base_ticks: float
    tick: int
    quote_per_minute: int
    waves: tuple[tuple[float, float, float], ...]  # (angular frequency per ms, phase, amplitude)


@cache
def profile(symbol: str) -> Profile:
    # blake2b rather than hash(): str hashes are salted per process.
    seed = int.from_bytes(hashlib.blake2b(symbol.encode(), digest_size=8).digest(), "big")
    base = 0.05 * (60_000 / 0.05) ** (mix64(seed) / 2.0**64)
    tick = 1_000_000 if base >= 1 else 1_000
    quote_per_minute = int(2_000 * 1_000 ** (mix64(seed ^ 1) / 2.0**64))
    waves = []
    for i, (period, amplitude) in enumerate(_WAVES, start=2):
        h = mix64(seed ^ i)
        stretch = 1 + 0.2 * _signed_unit(h)  # symbols must not move in lockstep
        waves.append(
            (2 * math.pi / (period * stretch), math.pi * _signed_unit(mix64(h)), amplitude)
        )
    return Profile(seed, base * UNIT / tick, tick, quote_per_minute, tuple(waves))


def price(p: Profile, t: int, offset: float = 0.0) -> int:
    """Traded price at time t, on the symbol's tick, with `offset` added to its log.

    A function of time only, so a candle's close equals the next candle's open and the
    open of a candle is the same at every interval.
    """
    # A two-multiply hash is plenty for noise and much cheaper than mix64 on this hot path.
    noise = ((t * 0x9E3779B97F4A7C15 ^ p.seed) * 0xBF58476D1CE4E5B9 & _MASK) >> 11
    log = (noise * 2.0**-52 - 1.0) * _POINT_NOISE + offset
    for omega, phase, amplitude in p.waves:
        log += amplitude * math.sin(omega * t + phase)
    return max(1, int(p.base_ticks * math.exp(log))) * p.tick


def shaped_price(p: Profile, t: int, shape: Shape | None) -> int:
    """`price` moved by `shape(t)` (a function of time too, so closes still equal the next
    opens)."""
    return price(p, t) if shape is None else price(p, t, shape(t))


def turn(at: int, before: float, after: float, level: float = 0.0) -> Shape:
    """A shape whose log price moves `before` per hour until `at` (epoch ms) and `after` per
    hour from then on, `level` at `at`: turn(t0, 0.01, -0.01) rises ~1%/h into t0 and falls
    after it; level=0.01 * 24 leaves the price of a day before t0 where it was."""
    per_ms_before, per_ms_after = before / HOUR, after / HOUR

    def shape(t: int) -> float:
        return level + (t - at) * (per_ms_before if t < at else per_ms_after)

    return shape


def klines(symbol: str, interval: str, open_times: Iterable[int], now: int,
           shape: Shape | None = None) -> list[list]:
    """Rows for ascending aligned open times; a candle containing `now` is served as live.

    The live candle's close is the price at `now` and its wicks, volume and trades grow
    with the elapsed fraction of the interval, so a poller sees it move. `shape` moves the
    symbol's path (see `shaped_price`); wicks, volume and trades follow the moved prices.
    """
    # One flat loop with hoisted constants: this is the hot path of every klines request.
    p = profile(symbol)
    at = price if shape is None else lambda p, t: shaped_price(p, t, shape)
    tick = p.tick
    iv = INTERVALS[interval]
    salt = mix64(p.seed ^ iv)
    minutes = iv // MINUTE
    spread_ppm = int(800 * math.sqrt(minutes))  # wicks grow like sqrt(duration)
    quote_scale = p.quote_per_minute * minutes * UNIT * UNIT
    trades_per_interval = (p.quote_per_minute // 200 + 1) * minutes
    rows = []
    next_t = close = close_text = None
    for t in open_times:
        if t == next_t:
            o, o_text = close, close_text
        else:
            o = at(p, t)
            o_text = fmt(o)
        next_t = t + iv
        if next_t <= now:
            c, elapsed = at(p, next_t), iv
        else:
            c, elapsed = at(p, now - now % 1000), now - t
        close, close_text = c, fmt(c)
        h = mix64(salt ^ t)
        if (h >> 56) < _ZERO_VOLUME_PER_256:
            rows.append(
                [t, o_text, o_text, o_text, o_text, ZERO, next_t - 1, ZERO, 0, ZERO, ZERO, "0"]
            )
            continue
        top, bottom = (o, c) if o >= c else (c, o)
        span = top * spread_ppm // 1_000_000 * elapsed // iv
        high, low = wicks(top, bottom, span, h, tick)
        volume = quote_scale * activity(h) // ((o + c) << 15) * elapsed // iv
        volume -= volume % STEP
        vwap = (o + high + low + c) >> 2
        taker = volume * (300 + (h >> 48 & 0xFF) * 400 // 256) // 1000
        taker -= taker % STEP
        rows.append(
            [
                t,
                o_text,
                fmt(high),
                fmt(low),
                close_text,
                fmt(volume),
                next_t - 1,
                fmt(volume * vwap // UNIT),
                (trades_per_interval * activity(h) >> 16) * elapsed // iv,
                fmt(taker),
                fmt(taker * vwap // UNIT),
                "0",
            ]
        )
    return rows


def corrupt(row: list, kind: str, interval: str, now: int, misalign_ms: int = 1) -> list[list]:
    """The rows served in place of `row` for an invalid-data kind (see INVALID_KINDS); a
    misaligned row is moved by `misalign_ms`, the exchange's time resolution."""
    iv = INTERVALS[interval]
    bad = list(row)

    def num(i: int) -> int:
        # Parsed on demand: earlier kinds may have left other fields as "NaN"/"Infinity".
        return parse_units(row[i])

    if kind == "high_below_low":
        bad[2] = fmt(num(3) - max(num(3) // 100, 1))
    elif kind == "high_below_open":
        high = num(1) - max(num(1) // 100, 1)
        bad[2], bad[3] = fmt(high), fmt(min(num(3), high))
    elif kind == "low_above_close":
        low = num(4) + max(num(4) // 100, 1)
        bad[2], bad[3] = fmt(max(num(2), low)), fmt(low)
    elif kind == "zero_price":
        bad[3] = bad[4] = ZERO
    elif kind == "negative_price":
        bad[3] = fmt(-num(3))
    elif kind == "negative_volume":
        bad[5] = fmt(-(num(5) or UNIT))
    elif kind == "nan":
        bad[4] = "NaN"
    elif kind == "inf":
        bad[2] = "Infinity"
    elif kind == "misaligned":
        bad[0], bad[6] = row[0] + misalign_ms, row[6] + misalign_ms
        return [row, bad]
    elif kind == "duplicate":
        return [row, bad]
    elif kind == "conflicting_duplicate":
        bad[4] = bad[1]  # same open time, another close: which one is true is unknowable
        return [row, bad] if bad[4] != row[4] else [row, bad[:4] + [bad[3]] + bad[5:]]
    elif kind == "future":
        bad[0] = now - now % iv + 2 * iv
        bad[6] = bad[0] + iv - 1
        return [row, bad]
    else:
        raise ValueError(f"unknown invalid kind {kind!r}")
    return [bad]


def wicks(top: int, bottom: int, span: int, h: int, tick: int) -> tuple[int, int]:
    """High and low of a candle whose body is [bottom, top]: up to `span` beyond it either
    way, drawn from the hash `h`, on the price tick and never below one tick."""
    up = span * (h & 0xFFFF) >> 16
    down = span * (h >> 16 & 0xFFFF) >> 16
    return top + up - up % tick, max(bottom - down + down % tick, tick)


def activity(h: int) -> int:
    """How busy a candle is, 0.2x to 1.8x of the usual, scaled by 2**16, from the hash `h`."""
    return 13_107 + (h >> 32 & 0xFFFF) * 8 // 5
