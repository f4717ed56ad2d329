"""Strategy kinds: functions `(candles: Candles, params: dict) -> RawSignals`.

A signal at index t is decided at the CLOSE of candle t, from candles 0..t only: every
indicator here is causal (TA-Lib's forward recursions, or windows that end at t), nothing is
shifted back in time. Directions are +1 (long) and -1 (short); each kind documents its
confidence, a float in [0, 1].

Indicators never span a gap in the stored candles: `run_kind` splits the series into
`segments` and runs the kind on each on its own, so an indicator warms up again after a gap.
Call the kinds through `run_kind`; calling one directly treats its candles as one segment.

Built-in kinds live in `KINDS`; a user kind is named "module.path:function" and loaded by
`load_kind`, with the same contract, and its output is checked by `validate_signals`.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import talib

from titan_dagster.signals.model import Candles, RawSignals

Kind = Callable[[Candles, dict], RawSignals]
MissingBetween = Callable[[int, int], bool]

# --- params -------------------------------------------------------------------------------

_REQUIRED = object()
# kind -> param -> (type name, default or _REQUIRED)
_PARAMS: dict[str, dict[str, tuple[str, Any]]] = {
    "sma_cross": {"fast": ("int", _REQUIRED), "slow": ("int", _REQUIRED)},
    "rsi_reversion": {"period": ("int", 14), "lower": ("number", 30), "upper": ("number", 70)},
    "donchian_breakout": {"period": ("int", 20)},
}


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_builtin(kind: str, params: Any) -> dict[str, Any]:
    """Check a built-in kind's params; return them with defaults filled in."""
    if not isinstance(params, Mapping):
        raise ValueError(f"{kind}: params must be a mapping, got {type(params).__name__}")
    spec = _PARAMS[kind]
    for name in params:
        if name not in spec:
            raise ValueError(
                f"{kind}: unknown param {name!r} (known: {', '.join(sorted(spec))})")
    out: dict[str, Any] = {}
    for name, (type_name, default) in spec.items():
        if name not in params:
            if default is _REQUIRED:
                raise ValueError(f"{kind}: missing param {name!r}")
            out[name] = default
            continue
        value = params[name]
        ok = _is_int(value) if type_name == "int" else _is_number(value)
        if not ok:
            what = "an int" if type_name == "int" else "a finite number"
            raise ValueError(
                f"{kind}: param {name!r} must be {what}, got {value!r} "
                f"({type(value).__name__})")
        out[name] = int(value) if type_name == "int" else float(value)

    def at_least(name: str, low: int) -> None:
        if out[name] < low:
            raise ValueError(f"{kind}: param {name!r} must be >= {low}, got {out[name]!r}")

    if kind == "sma_cross":
        at_least("fast", 1)  # fast=1 is the close itself: "price crosses its SMA"
        if out["fast"] >= out["slow"]:
            raise ValueError(
                f"{kind}: param 'fast' ({out['fast']}) must be less than "
                f"'slow' ({out['slow']})")
    elif kind == "rsi_reversion":
        at_least("period", 2)
        for name in ("lower", "upper"):
            if not 0 <= out[name] <= 100:
                raise ValueError(
                    f"{kind}: param {name!r} must be within 0..100, got {params[name]!r}")
        if out["lower"] >= out["upper"]:
            raise ValueError(
                f"{kind}: param 'lower' ({params.get('lower', out['lower'])!r}) must be "
                f"less than 'upper' ({params.get('upper', out['upper'])!r})")
    elif kind == "donchian_breakout":
        at_least("period", 2)
    return out


def check_params(kind: str, params: Any) -> None:
    """Raise ValueError, naming the param and its value, if `params` don't fit `kind`.

    For a built-in kind (a key of KINDS) the params are checked in full: unknown or missing
    params, types (ints must be ints, not floats or bools), ranges and relations. For a user
    kind ("module.path:function") the spec must load (see `load_kind`) and params must be a
    mapping; what is inside is the user function's business.
    """
    if kind in _PARAMS:
        _check_builtin(kind, params)
        return
    if isinstance(kind, str) and ":" in kind:
        load_kind(kind)
        if not isinstance(params, Mapping):
            raise ValueError(f"{kind}: params must be a mapping, got {type(params).__name__}")
        return
    raise ValueError(
        f"unknown strategy kind {kind!r}: use one of {', '.join(sorted(KINDS))} "
        "or 'module.path:function'")


# --- output -------------------------------------------------------------------------------

def _empty() -> RawSignals:
    return RawSignals(index=np.empty(0, np.int64), direction=np.empty(0, np.int8),
                      confidence=np.empty(0, np.float64))


def _signals(long: np.ndarray, long_conf: np.ndarray,
             short: np.ndarray, short_conf: np.ndarray) -> RawSignals:
    """Long and short positions with their confidences, merged in index order (a long
    before a short at the same index)."""
    index = np.concatenate([long, short]).astype(np.int64)
    direction = np.concatenate([np.ones(len(long), np.int8), -np.ones(len(short), np.int8)])
    confidence = np.concatenate([long_conf, short_conf]).astype(np.float64)
    order = np.lexsort((-direction, index))
    return RawSignals(index=index[order], direction=direction[order],
                      confidence=np.clip(confidence[order], 0.0, 1.0))


def _f64(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


# --- built-in kinds -----------------------------------------------------------------------

def sma_cross(candles: Candles, params: dict) -> RawSignals:
    """SMA(fast) crossing SMA(slow) of the close; params {fast, slow}, fast < slow.

    Long at t when fast[t-1] < slow[t-1] and fast[t] > slow[t]; short on the mirror. A
    touch (fast == slow) is not a side, so neither a touch nor a cross through an exact
    touch candle fires. First possible signal: t = slow.

    Confidence: the distance between the averages at t relative to the slow one, 1% of
    price = full: min(1, |fast[t] - slow[t]| / |slow[t]| / 0.01).
    """
    p = _check_builtin("sma_cross", params)
    close = _f64(candles.close)
    fast = talib.SMA(close, p["fast"])
    slow = talib.SMA(close, p["slow"])
    f0, s0, f1, s1 = fast[:-1], slow[:-1], fast[1:], slow[1:]
    long = np.flatnonzero((f0 < s0) & (f1 > s1)) + 1
    short = np.flatnonzero((f0 > s0) & (f1 < s1)) + 1

    def conf(at: np.ndarray) -> np.ndarray:
        gap = np.abs(fast[at] - slow[at])
        return np.minimum(1.0, gap / np.maximum(0.01 * np.abs(slow[at]), 1e-300))

    return _signals(long, conf(long), short, conf(short))


def _rsi(close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's RSI (TA-Lib), NaN while the series has not moved yet: TA-Lib answers 0 for
    no gain and no loss, which would read a flat start as oversold."""
    rsi = talib.RSI(close, period)
    moved = np.zeros(len(close), bool)
    moved[1:] = np.cumsum(np.abs(np.diff(close))) > 0
    rsi[~moved] = np.nan
    return rsi


def rsi_reversion(candles: Candles, params: dict) -> RawSignals:
    """RSI (Wilder, TA-Lib) coming back inside its band; params {period=14, lower=30,
    upper=70}.

    Long at t when rsi[t-1] < lower <= rsi[t]; short when rsi[t-1] > upper >= rsi[t].

    Confidence: how far the RSI went beyond the band during the excursion that ends at t
    (the run of candles up to t-1 spent beyond it), as a fraction of the way from the band
    to the scale's end: long (lower - min rsi) / lower, short (max rsi - upper) / (100 -
    upper). An RSI that reached 0 (or 100) gives 1.
    """
    p = _check_builtin("rsi_reversion", params)
    lower, upper = p["lower"], p["upper"]
    rsi = _rsi(_f64(candles.close), p["period"])
    r0, r1 = rsi[:-1], rsi[1:]
    long = np.flatnonzero((r0 < lower) & (lower <= r1)) + 1
    short = np.flatnonzero((r0 > upper) & (upper >= r1)) + 1

    def excursion(t: int, beyond: Callable[[float], bool]) -> np.ndarray:
        start = t - 1
        while start > 0 and beyond(rsi[start - 1]):
            start -= 1
        return rsi[start:t]

    long_conf = np.array(
        [(lower - excursion(t, lambda r: r < lower).min()) / lower for t in long], np.float64)
    short_conf = np.array(
        [(excursion(t, lambda r: r > upper).max() - upper) / (100.0 - upper) for t in short],
        np.float64)
    return _signals(long, long_conf, short, short_conf)


def donchian_breakout(candles: Candles, params: dict) -> RawSignals:
    """Close breaking out of the Donchian channel of the previous N candles; params
    {period=20}.

    With hh[t] = max(high[t-N..t-1]) and ll[t] = min(low[t-N..t-1]) (candle t itself is not
    in the channel): long at t when close[t] > hh[t], short when close[t] < ll[t]. Every
    candle that closes beyond the channel fires, not only the first. First possible signal:
    t = N.

    Confidence: the breakout distance as a fraction of the channel's width, capped at 1:
    min(1, (close - hh) / (hh - ll)) long, min(1, (ll - close) / (hh - ll)) short; 1 when
    the channel has no width.
    """
    p = _check_builtin("donchian_breakout", params)
    n = p["period"]
    close = _f64(candles.close)
    hh = np.full(len(close), np.nan)
    ll = np.full(len(close), np.nan)
    if len(close) > 1:
        hh[1:] = talib.MAX(_f64(candles.high), n)[:-1]
        ll[1:] = talib.MIN(_f64(candles.low), n)[:-1]
    long = np.flatnonzero(close > hh)
    short = np.flatnonzero(close < ll)
    width = hh - ll

    def conf(at: np.ndarray, distance: np.ndarray) -> np.ndarray:
        w = width[at]
        return np.where(w > 0, np.minimum(1.0, distance / np.where(w > 0, w, 1.0)), 1.0)

    return _signals(long, conf(long, close[long] - hh[long]),
                    short, conf(short, ll[short] - close[short]))


KINDS: dict[str, Kind] = {
    "sma_cross": sma_cross,
    "rsi_reversion": rsi_reversion,
    "donchian_breakout": donchian_breakout,
}


# --- user kinds ---------------------------------------------------------------------------

def load_kind(spec: str) -> Kind:
    """The callable named by "module.path:function" (the attribute may be dotted,
    "module:Class.method"). ValueError naming the spec if it is malformed, the module does
    not import, the attribute is missing or it is not callable."""
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ValueError(f"strategy kind {spec!r} is not of the form 'module.path:function'")
    module_name, attr = spec.split(":")
    if not module_name or not attr:
        raise ValueError(f"strategy kind {spec!r} is not of the form 'module.path:function'")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:  # ImportError, or whatever the module raised on import
        raise ValueError(
            f"strategy kind {spec!r}: cannot import module {module_name!r}: "
            f"{type(e).__name__}: {e}") from e
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(
                f"strategy kind {spec!r}: {module_name!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise ValueError(
            f"strategy kind {spec!r}: {attr!r} is a {type(obj).__name__}, not callable")
    return obj


def resolve_kind(kind: str) -> Kind:
    """A built-in kind by name, or a user kind by "module.path:function"."""
    if kind in KINDS:
        return KINDS[kind]
    if isinstance(kind, str) and ":" in kind:
        return load_kind(kind)
    raise ValueError(
        f"unknown strategy kind {kind!r}: use one of {', '.join(sorted(KINDS))} "
        "or 'module.path:function'")


def validate_signals(candles: Candles, raw: Any) -> RawSignals:
    """Check what a kind returned; return it normalised (int64 index, int8 direction,
    float64 confidence). ValueError naming the first problem: not a RawSignals, arrays not
    1-D or of different lengths, index not integer, out of 0..len-1 or not sorted,
    a repeated (index, direction), a direction other than -1/+1, a confidence not finite or
    outside [0, 1]."""
    if not isinstance(raw, RawSignals):
        raise ValueError(f"expected RawSignals, got {type(raw).__name__}")
    arrays = {}
    for name in ("index", "direction", "confidence"):
        value = np.asarray(getattr(raw, name))
        if value.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array, got shape {value.shape}")
        arrays[name] = value
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"index, direction and confidence differ in length: {lengths}")
    index, direction, confidence = arrays["index"], arrays["direction"], arrays["confidence"]
    if len(index) == 0:
        return _empty()
    if not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"index must be integers, got dtype {index.dtype}")
    if not np.issubdtype(direction.dtype, np.integer):
        raise ValueError(f"direction must be integers (-1/+1), got dtype {direction.dtype}")
    if not (np.issubdtype(confidence.dtype, np.floating)
            or np.issubdtype(confidence.dtype, np.integer)):
        raise ValueError(f"confidence must be numbers, got dtype {confidence.dtype}")
    index = index.astype(np.int64)
    bad = np.flatnonzero((index < 0) | (index >= len(candles)))
    if len(bad):
        raise ValueError(
            f"index {index[bad[0]]} out of range 0..{len(candles) - 1} (at position {bad[0]})")
    back = np.flatnonzero(np.diff(index) < 0)
    if len(back):
        i = back[0]
        raise ValueError(
            f"index not sorted: {index[i]} then {index[i + 1]} (at position {i + 1})")
    bad = np.flatnonzero((direction != 1) & (direction != -1))
    if len(bad):
        raise ValueError(
            f"direction must be -1 or +1, got {direction[bad[0]]} (at position {bad[0]})")
    direction = direction.astype(np.int8)
    pairs = index * 2 + (direction > 0)
    order = np.argsort(pairs, kind="stable")
    dup = np.flatnonzero(np.diff(pairs[order]) == 0)
    if len(dup):
        i = order[dup[0] + 1]
        raise ValueError(
            f"repeated signal: index {index[i]}, direction {int(direction[i]):+d} "
            f"(at position {i})")
    confidence = confidence.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(confidence) | (confidence < 0) | (confidence > 1))
    if len(bad):
        raise ValueError(
            f"confidence must be finite and within [0, 1], got {confidence[bad[0]]} "
            f"(at position {bad[0]})")
    return RawSignals(index=index, direction=direction, confidence=confidence)


# --- gaps and running ---------------------------------------------------------------------

def segments(candles: Candles,
             missing_between: MissingBetween | None = None) -> list[tuple[int, int]]:
    """Split the series at its gaps: half-open position ranges [start, stop), in order,
    covering every candle.

    A gap is where consecutive open times are more than `step` apart and
    `missing_between(a_ts, b_ts)` (open times of the candles either side) says a candle
    was expected between them, e.g. `lambda a, b: calendar.count(a + step, b, step) > 0`
    from the market calendar; a closed market (weekend, night) is no gap. Without the
    callable every jump over `step` is a gap. Open times must increase strictly.
    """
    ts = np.asarray(candles.ts, dtype=np.int64)
    if len(ts) == 0:
        return []
    diff = np.diff(ts)
    back = np.flatnonzero(diff <= 0)
    if len(back):
        i = back[0]
        raise ValueError(
            f"candle open times must increase: {ts[i]} then {ts[i + 1]} (at position {i + 1})")
    cuts = [int(i) + 1 for i in np.flatnonzero(diff > candles.step)
            if missing_between is None or missing_between(int(ts[i]), int(ts[i + 1]))]
    bounds = [0, *cuts, len(ts)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _view(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    view = np.asarray(values)[start:stop]
    view.flags.writeable = False  # a kind must not write into the caller's candles
    return view


def slice_candles(candles: Candles, start: int, stop: int) -> Candles:
    """Candles start..stop-1, as read-only views."""
    return Candles(ts=_view(candles.ts, start, stop), open=_view(candles.open, start, stop),
                   high=_view(candles.high, start, stop), low=_view(candles.low, start, stop),
                   close=_view(candles.close, start, stop),
                   volume=_view(candles.volume, start, stop), step=candles.step)


def run_kind(fn: Kind | str, candles: Candles, params: dict,
             missing_between: MissingBetween | None = None) -> RawSignals:
    """Run a kind over the series one segment at a time (see `segments`), so no indicator
    spans a gap; validate each segment's output and merge it with indices mapped back to
    the full series. `fn` is a kind function, a built-in name or "module.path:function".
    A built-in kind's params are checked first, even when there are no candles."""
    label = fn if isinstance(fn, str) else getattr(fn, "__qualname__", repr(fn))
    if isinstance(fn, str):
        fn = resolve_kind(fn)
    builtin = next((name for name, kind in KINDS.items() if kind is fn), None)
    if builtin is not None:
        _check_builtin(builtin, params)
    parts: list[RawSignals] = []
    for start, stop in segments(candles, missing_between):
        segment = slice_candles(candles, start, stop)
        out = fn(segment, dict(params))
        try:
            out = validate_signals(segment, out)
        except ValueError as e:
            raise ValueError(
                f"strategy kind {label} on candles {start}..{stop - 1}: {e}") from None
        parts.append(RawSignals(index=out.index + start, direction=out.direction,
                                confidence=out.confidence))
    if not parts:
        return _empty()
    return RawSignals(index=np.concatenate([p.index for p in parts]),
                      direction=np.concatenate([p.direction for p in parts]),
                      confidence=np.concatenate([p.confidence for p in parts]))
