"""One trade's book while the outcome engine walks its event candles (rules 4-6 of
`titan_dagster.signals.engine`).

Prices here are in the long frame: the engine hands a short's prices in negated (open -> -open,
high -> -low, low -> -high), so one set of comparisons serves both directions, and the engine
negates the leg prices back. Only event candles reach this code; the engine finds them with
vectorised comparisons.
"""

from __future__ import annotations

import numpy as np

from titan_dagster.signals.model import Candles


class Book:
    """The state of one filled trade: what remains open, where the stop is, the legs so far."""

    __slots__ = ("entry", "stop", "tp1", "tp2", "f1", "single", "remaining", "tp1_done",
                 "at_entry", "done", "legs", "tp1_ts", "tp2_ts", "sl_ts", "ambiguous",
                 "resolved_by")

    def __init__(self, entry: float, stop: float, tp1: float, tp2: float, tp1_fraction: float):
        self.entry = entry
        self.stop = stop
        self.tp1 = tp1
        self.tp2 = tp2
        self.single = tp1_fraction >= 1.0  # rule 7: a single target, TP2 ignored
        self.f1 = 1.0 if self.single else tp1_fraction
        self.remaining = 1.0
        self.tp1_done = False
        self.at_entry = False  # the stop has moved to the entry (rule 6)
        self.done = False
        # ts, long-frame price, fraction, reason
        self.legs: list[tuple[int, float, float, str]] = []
        self.tp1_ts: int | None = None
        self.tp2_ts: int | None = None
        self.sl_ts: int | None = None
        self.ambiguous = False
        self.resolved_by: str | None = None

    # -- fills ---------------------------------------------------------------------------------
    def exit_rest(self, ts: int, price: float, reason: str) -> None:
        self.legs.append((ts, price, self.remaining, reason))
        self.remaining = 0.0
        self.done = True

    def stop_out(self, ts: int, price: float) -> None:
        self.sl_ts = ts
        self.exit_rest(ts, price, "breakeven" if self.at_entry else "stop")

    def take_tp1(self, ts: int, price: float) -> None:
        self.legs.append((ts, price, self.f1, "tp1"))
        self.tp1_done = True
        self.tp1_ts = ts
        self.remaining = 0.0 if self.single else 1.0 - self.f1
        self.done = self.single

    def take_tp2(self, ts: int, price: float) -> None:
        self.tp2_ts = ts
        self.exit_rest(ts, price, "tp2")

    def move_stop_to_entry(self) -> None:
        """Rule 6, called by the engine before the candle after the TP1 candle."""
        self.stop = self.entry
        self.at_entry = True

    # -- one candle ----------------------------------------------------------------------------
    def step(self, ts: int, o: float, h: float, l: float, gap: bool) -> bool:  # noqa: E741
        """Apply rules 4 (when `gap`: the open) and 5 (the range) to one candle.

        Returns True, having done nothing inside the range, when the stop and the next target
        are both touched inside it: the caller resolves that (1m replay or the stop-first rule).
        """
        if gap:
            if o <= self.stop:
                self.stop_out(ts, o)
                return False
            if not self.tp1_done:
                if o >= self.tp1:
                    beyond_tp2 = not self.single and o >= self.tp2
                    self.take_tp1(ts, o)
                    if self.done:
                        return False
                    if beyond_tp2:
                        self.take_tp2(ts, o)
                        return False
            elif o >= self.tp2:
                self.take_tp2(ts, o)
                return False
        stop_hit = l <= self.stop
        if h >= (self.tp2 if self.tp1_done else self.tp1):
            if stop_hit:
                return True
            if not self.tp1_done:
                self.take_tp1(ts, self.tp1)
                if not self.done and h >= self.tp2:
                    self.take_tp2(ts, self.tp2)
            else:
                self.take_tp2(ts, self.tp2)
        elif stop_hit:
            self.stop_out(ts, self.stop)
        return False

    def candle(self, ts: int, step_ms: int, o: float, h: float, l: float,  # noqa: E741
               gap: bool, minute: Candles | None, sign: int) -> None:
        """One parent candle: rules 4-5, and the 1m replay (rule 5) where stop and target both
        touch. The replay always settles the trade: if the 1m candles there run out with the
        trade still open (missing minutes, or 1m data that disagrees with the parent), the rest
        exits at the stop, which the parent candle did touch (ambiguous, by rule)."""
        if not self.step(ts, o, h, l, gap):
            return
        if minute is not None and len(minute):
            j0, j1 = np.searchsorted(minute.ts, (ts, ts + step_ms), side="left")
        else:
            j0 = j1 = 0
        if j1 > j0:
            if sign == 1:
                mo, mh, ml = minute.open[j0:j1], minute.high[j0:j1], minute.low[j0:j1]
            else:
                mo, mh, ml = -minute.open[j0:j1], -minute.low[j0:j1], -minute.high[j0:j1]
            for j in range(j1 - j0):
                if self.step(ts, float(mo[j]), float(mh[j]), float(ml[j]), True):
                    break  # this 1m candle touches both as well
                if self.done:
                    self.resolved_by = "1m"
                    return
        self.ambiguous = True
        self.resolved_by = "rule"
        self.stop_out(ts, self.stop)
