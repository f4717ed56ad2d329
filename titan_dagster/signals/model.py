"""The shapes the signal domain passes around: candles as arrays, signals, outcomes."""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Risk:
    """How a signal becomes a trade (titan.yaml `strategies.<name>.risk`)."""
    stop_pct: float | None = None  # stop this fraction from the reference price, or
    stop_atr: float | None = None  # this many ATRs (period atr_period) from it
    atr_period: int = 14
    tp1_r: float = 1.0  # targets in multiples of R (reference price to stop)
    tp2_r: float = 2.0
    tp1_fraction: float = 0.5  # closed at TP1; 1.0 = a single target
    breakeven_after_tp1: bool = True
    entry_valid_candles: int = 1
    max_hold_candles: int = 48
    fee_bps: float = 0.0  # per fill
    slippage_bps: float = 0.0  # adverse, on market and stop fills


@dataclass(frozen=True)
class Candles:
    """One series, oldest first: open times in epoch ms, prices as float64."""
    ts: np.ndarray  # int64
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    step: int  # candle length in ms

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class RawSignals:
    """What a strategy kind says: at candle `index` (its close), go `direction`."""
    index: np.ndarray  # int64 positions in the Candles
    direction: np.ndarray  # int8: +1 long, -1 short
    confidence: np.ndarray  # float64 in [0, 1]


@dataclass(frozen=True)
class Signals(RawSignals):
    """Signals with their levels, fixed at signal time from the reference price."""
    ref: np.ndarray = field(default_factory=lambda: np.empty(0))  # close of the signal candle
    stop: np.ndarray = field(default_factory=lambda: np.empty(0))
    tp1: np.ndarray = field(default_factory=lambda: np.empty(0))
    tp2: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass(frozen=True)
class Leg:
    ts: int  # open time of the candle the leg exited in
    price: float
    fraction: float
    reason: str  # tp1, tp2, stop, breakeven, expiry


@dataclass
class Outcome:
    status: str  # pending, open, tp1, tp2, stopped, breakeven, expired, not_filled
    entry_index: int | None = None
    entry_fill_ts: int | None = None
    entry_fill_price: float | None = None
    tp1_hit_ts: int | None = None
    tp2_hit_ts: int | None = None
    sl_hit_ts: int | None = None
    expired_ts: int | None = None
    legs: list[Leg] = field(default_factory=list)
    r_gross: float | None = None
    r_net: float | None = None
    ambiguous: bool = False
    resolved_by: str | None = None  # "1m" or "rule" where a candle touched stop and target
    exit_index: int | None = None  # the candle the trade ended in

    @property
    def closed(self) -> bool:
        return self.status in ("tp2", "stopped", "breakeven", "expired") or (
            self.status == "tp1" and sum(leg.fraction for leg in self.legs) >= 1 - 1e-12)
