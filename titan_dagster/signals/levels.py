"""Levels: a raw signal becomes a trade plan, fixed at signal time from the close of its
candle (the reference price): a stop, and two targets in multiples of R = |ref - stop|.

    stop_pct p:  long ref * (1 - p), short ref * (1 + p)
    stop_atr k:  long ref - k * ATR[t], short ref + k * ATR[t]   (TA-Lib ATR, risk.atr_period)
    tp1 = ref + direction * tp1_r * R,  tp2 = ref + direction * tp2_r * R

The ATR, like the kinds' indicators, is computed per segment of the series (see
`kinds.segments`), so it never spans a gap and warms up again after one.

A signal whose levels cannot be set is dropped: with stop_atr, one whose ATR is still
warming up (NaN: the first atr_period candles of its segment) or is 0 (candles without any
range); in general any whose R is not a positive finite number.
"""

from __future__ import annotations

import math

import numpy as np
import talib

from titan_dagster.signals.kinds import MissingBetween, segments, validate_signals
from titan_dagster.signals.model import Candles, RawSignals, Risk, Signals


def check_risk(risk: Risk) -> None:
    """ValueError naming the field if `risk` can't set levels: exactly one of stop_pct
    (within (0, 1)) and stop_atr (> 0) set, atr_period an int >= 1, tp1_r and tp2_r finite
    and > 0."""
    if (risk.stop_pct is None) == (risk.stop_atr is None):
        raise ValueError(
            "risk: exactly one of stop_pct and stop_atr must be set, got "
            f"stop_pct={risk.stop_pct!r}, stop_atr={risk.stop_atr!r}")
    if risk.stop_pct is not None and not (
            _finite(risk.stop_pct) and 0 < risk.stop_pct < 1):
        raise ValueError(f"risk: stop_pct must be within (0, 1), got {risk.stop_pct!r}")
    if risk.stop_atr is not None and not (_finite(risk.stop_atr) and risk.stop_atr > 0):
        raise ValueError(f"risk: stop_atr must be a number > 0, got {risk.stop_atr!r}")
    if risk.stop_atr is not None and not (
            isinstance(risk.atr_period, int) and not isinstance(risk.atr_period, bool)
            and risk.atr_period >= 1):
        raise ValueError(f"risk: atr_period must be an int >= 1, got {risk.atr_period!r}")
    for name in ("tp1_r", "tp2_r"):
        value = getattr(risk, name)
        if not (_finite(value) and value > 0):
            raise ValueError(f"risk: {name} must be a number > 0, got {value!r}")


def _finite(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def atr(candles: Candles, period: int,
        missing_between: MissingBetween | None = None) -> np.ndarray:
    """TA-Lib's ATR(period) over the series, computed per segment: NaN for the first
    `period` candles of each segment."""
    out = np.full(len(candles), np.nan)
    f64 = {name: np.ascontiguousarray(getattr(candles, name), dtype=np.float64)
           for name in ("high", "low", "close")}
    for start, stop in segments(candles, missing_between):
        out[start:stop] = talib.ATR(f64["high"][start:stop], f64["low"][start:stop],
                                    f64["close"][start:stop], period)
    return out


def levels(candles: Candles, raw: RawSignals, risk: Risk,
           missing_between: MissingBetween | None = None) -> Signals:
    """Reference price, stop and targets for each signal (see the module doc); signals
    whose levels cannot be set are dropped. `missing_between` is the one given to
    `run_kind`, so the ATR sees the same segments as the kind did."""
    check_risk(risk)
    raw = validate_signals(candles, raw)
    index, direction = raw.index, raw.direction.astype(np.float64)
    ref = np.asarray(candles.close, dtype=np.float64)[index]
    if risk.stop_pct is not None:
        stop = ref * (1 - direction * risk.stop_pct)
    else:
        stop = ref - direction * risk.stop_atr * atr(candles, risk.atr_period,
                                                     missing_between)[index]
    r = np.abs(ref - stop)
    tp1 = ref + direction * risk.tp1_r * r
    tp2 = ref + direction * risk.tp2_r * r
    keep = np.isfinite(r) & (r > 0) & np.isfinite(tp1) & np.isfinite(tp2)
    return Signals(index=raw.index[keep], direction=raw.direction[keep],
                   confidence=raw.confidence[keep], ref=ref[keep], stop=stop[keep],
                   tp1=tp1[keep], tp2=tp2[keep])
