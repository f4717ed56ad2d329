"""The outcome engine: what became of each signal, walked forward through the later candles.

`evaluate(candles, signals, risk, minute)` gives one `Outcome` per signal, in order. Pure numpy
and Python: per signal it finds the first candle where anything happens with vectorised
comparisons over the holding window and handles only those event candles (at most two searches
and a few candles per trade) in Python (`titan_dagster.signals.fills`).

Rules, for a long (a short, direction -1, mirrors every comparison); signal at candle t,
ref = close[t], levels stop/tp1/tp2 fixed at signal time, f1 = tp1_fraction, H = max_hold_candles:

0. Levels: a signal whose ref, stop or tp1 (or tp2 when f1 < 1) is not finite, whose stop is not
   strictly below ref, whose tp1 is not strictly above ref, or whose tp2 is below tp1, is
   `not_filled` (r None) at once: it never depends on later candles.
1. Entry: market entry at the open of the next stored candle e = t + 1; entry_fill_price =
   open[e] (raw: slippage is a cost in R, not a price change). No candle after t yet: `pending`.
   R = |entry_fill_price - stop|. entry_valid_candles plays no part in a market entry.
2. A fill candle that opens at or beyond the stop (open[e] <= stop) or a target (open[e] >= tp1)
   fills at that open and closes there (one leg of fraction 1.0): r_gross 0, R = |ref - stop|,
   fees on both fills, slippage on the entry and, for the stop, on the exit. Status `stopped`,
   else `tp2` if open[e] >= tp2 (f1 < 1), else `tp1`.
3. The walk covers at most H stored candles, e .. e+H-1: remaining 1.0, the initial stop, TP1
   not done. The entry candle's open is the fill, so only its range counts (rule 5).
4. Gaps, candles after e: an open at or beyond the current stop exits the rest there (a stop fill:
   `stopped`, or `breakeven` when the stop sits at the entry). An open >= TP2 exits all that
   remains there (the TP1 leg too if not done: `tp2`). An open >= TP1 (not done) but < TP2 exits
   the TP1 leg there and the rest goes on inside that candle under rule 5. A candle that opens
   beyond a target exits at that open even if it later reaches the stop.
5. A candle's range: stop touched = low <= stop, target touched = high >= the next target (TP1,
   or TP2 once TP1 is done). Only targets: the TP1 leg at TP1, and the rest at TP2 if high >=
   TP2 as well. Only the stop: the rest at the stop. Both: replay [ts[k], ts[k] + step) on the
   1m candles (rules 4-5 on each in order, gaps included, the parent's stop unchanged); if that
   closes the trade: resolved_by "1m", not ambiguous. Otherwise (no 1m candles, a 1m candle
   touching both, or 1m candles that end with the trade open) the rest exits at the stop:
   ambiguous, resolved_by "rule". Legs the replay took before that stand.
6. Breakeven (breakeven_after_tp1): after TP1 the rest's stop moves to entry_fill_price from the
   next candle on; within the TP1 candle (its 1m replay included) the original stop counts. An
   exit at the moved stop is `breakeven`; without the move, a stop after TP1 is `stopped`.
7. tp1_fraction == 1.0: a single target; TP1 closes everything (`tp1`), TP2 is ignored.
8. Expiry: what remains after H candles closes at close[e+H-1] (`expired`, also after a TP1;
   slippage applies). Fewer than H candles yet and not closed: `open` (nothing hit) or `tp1`
   (TP1 done, the rest running), with r_gross/r_net/exit_index None until the trade closes.
   An outcome depends only on the candles up to its exit, so evaluating again with more candles
   gives exactly what one evaluation over all of them gives.
9. Timestamps: entry_index = e, entry_fill_ts = ts[e]; tp1_hit_ts, tp2_hit_ts, sl_hit_ts (also
   for a breakeven exit) and each leg's ts are the open time of the (parent) candle the fill
   happened in, even when the 1m replay decided it; expired_ts = ts[e+H-1]; exit_index = the
   candle index the trade ended in.
10. Legs: Leg(ts, price, fraction, reason in tp1, tp2, stop, breakeven, expiry);
    r_gross = sum(fraction * direction * (price - entry_fill_price) / R).
11. Costs in R: fee_bps per fill on notional, the entry fee_bps/1e4 * entry_fill_price / R and
    each exit leg fee_bps/1e4 * price * fraction / R; slippage slippage_bps/1e4 * price *
    fraction / R on the entry (fraction 1), stop and breakeven exits and expiry closes, never on
    target fills. r_net = r_gross - fees - slippage.
12. The walk counts stored candles: candles missing from the store inside the holding window are
    simply not there (H counts stored candles, and a gap's first stored open is a gap in rule 4).
"""

from __future__ import annotations

import math

import numpy as np

from titan_dagster.signals.fills import Book
from titan_dagster.signals.model import Candles, Leg, Outcome, Risk, Signals

_STOP_LIKE = ("stop", "breakeven", "expiry")  # slippage applies (rule 11)


def evaluate(candles: Candles, signals: Signals, risk: Risk,
             minute: Candles | None = None) -> list[Outcome]:
    """One Outcome per signal, in order (rules in the module docstring)."""
    if not 0.0 < risk.tp1_fraction <= 1.0:
        raise ValueError(f"tp1_fraction must be in (0, 1], got {risk.tp1_fraction}")
    if risk.max_hold_candles < 1:
        raise ValueError(f"max_hold_candles must be >= 1, got {risk.max_hold_candles}")
    count = len(signals.index)
    for name in ("direction", "ref", "stop", "tp1", "tp2"):
        if len(getattr(signals, name)) != count:
            raise ValueError(f"signals.{name} has {len(getattr(signals, name))} values "
                             f"for {count} signals")
    n = len(candles)
    frames: dict[int, tuple[np.ndarray, ...]] = {}
    out = []
    for i in range(count):
        t = int(signals.index[i])
        d = int(signals.direction[i])
        if not 0 <= t < n:
            raise ValueError(f"signal {i} at candle {t}, outside the {n} candles")
        if d not in (1, -1):
            raise ValueError(f"signal {i} has direction {d}, not +1 or -1")
        if d not in frames:
            frames[d] = _frame(candles, d)
        out.append(_one(candles, frames[d], t, d, float(signals.ref[i]), float(signals.stop[i]),
                        float(signals.tp1[i]), float(signals.tp2[i]), risk, minute))
    return out


def _frame(c: Candles, d: int) -> tuple[np.ndarray, ...]:
    """open, high, low, close in the long frame of direction d (negated for a short)."""
    if d == 1:
        return (np.asarray(c.open, dtype=np.float64), np.asarray(c.high, dtype=np.float64),
                np.asarray(c.low, dtype=np.float64), np.asarray(c.close, dtype=np.float64))
    return (-np.asarray(c.open, dtype=np.float64), -np.asarray(c.low, dtype=np.float64),
            -np.asarray(c.high, dtype=np.float64), -np.asarray(c.close, dtype=np.float64))


def _valid(ref: float, stop: float, tp1: float, tp2: float, single: bool) -> bool:
    """Rule 0, in the long frame."""
    if not (math.isfinite(ref) and math.isfinite(stop) and math.isfinite(tp1)):
        return False
    if not stop < ref < tp1:
        return False
    return single or (math.isfinite(tp2) and tp2 >= tp1)


def _first(mask: np.ndarray) -> int:
    """Index of the first True, or -1."""
    k = int(mask.argmax())
    return k if mask[k] else -1


def _one(c: Candles, frame: tuple[np.ndarray, ...], t: int, d: int, ref: float, stop: float,
         tp1: float, tp2: float, risk: Risk, minute: Candles | None) -> Outcome:
    o, h, l, cl = frame  # noqa: E741
    ref, stop, tp1, tp2 = d * ref, d * stop, d * tp1, d * tp2
    single = risk.tp1_fraction >= 1.0
    if not _valid(ref, stop, tp1, tp2, single):
        return Outcome(status="not_filled")
    n = len(c)
    e = t + 1
    if e >= n:
        return Outcome(status="pending")
    ts = c.ts
    entry = float(o[e])
    book = Book(entry, stop, tp1, tp2, risk.tp1_fraction)
    ts_e = int(ts[e])

    # Rule 2: the fill candle opens beyond a level.
    if entry <= stop or entry >= tp1:
        if entry <= stop:
            book.stop_out(ts_e, entry)
        elif not single and entry >= tp2:
            book.tp1_ts = ts_e
            book.take_tp2(ts_e, entry)
        else:
            book.tp1_ts = ts_e
            book.exit_rest(ts_e, entry, "tp1")
        return _outcome(book, d, e, ts_e, e, None, abs(ref - stop), risk)

    end = min(e + risk.max_hold_candles, n)  # the walk's stored candles, e .. end-1
    exit_index = None
    start = e
    while start < end:  # at most twice: before TP1, then the rest after it
        target = tp2 if book.tp1_done else tp1
        k = _first((l[start:end] <= book.stop) | (h[start:end] >= target))
        if k < 0:
            break
        k += start
        book.candle(int(ts[k]), c.step, float(o[k]), float(h[k]), float(l[k]), k > e, minute, d)
        if book.done:
            exit_index = k
            break
        if risk.breakeven_after_tp1:  # TP1 done, the rest runs on from the next candle
            book.move_stop_to_entry()
        start = k + 1
    expired_ts = None
    if not book.done and e + risk.max_hold_candles <= n:
        exit_index = e + risk.max_hold_candles - 1
        expired_ts = int(ts[exit_index])
        book.exit_rest(expired_ts, float(cl[exit_index]), "expiry")
    return _outcome(book, d, e, ts_e, exit_index, expired_ts, abs(entry - stop), risk)


def _outcome(book: Book, d: int, e: int, ts_e: int, exit_index: int | None,
             expired_ts: int | None, r: float, risk: Risk) -> Outcome:
    legs = [Leg(ts=lts, price=d * p, fraction=f, reason=why) for lts, p, f, why in book.legs]
    entry = d * book.entry  # the raw fill price again
    if book.done:
        last = legs[-1].reason
        status = {"stop": "stopped", "breakeven": "breakeven", "expiry": "expired"}.get(last, last)
        gross = sum(f * (p - book.entry) for _, p, f, _ in book.legs) / r
        fees = risk.fee_bps / 1e4 * (entry + sum(leg.price * leg.fraction for leg in legs)) / r
        slip = risk.slippage_bps / 1e4 * (entry + sum(
            leg.price * leg.fraction for leg in legs if leg.reason in _STOP_LIKE)) / r
        r_gross, r_net = gross, gross - fees - slip
    else:
        status = "tp1" if book.tp1_done else "open"
        r_gross = r_net = exit_index = None
    return Outcome(status=status, entry_index=e, entry_fill_ts=ts_e, entry_fill_price=entry,
                   tp1_hit_ts=book.tp1_ts, tp2_hit_ts=book.tp2_ts, sl_hit_ts=book.sl_ts,
                   expired_ts=expired_ts, legs=legs, r_gross=r_gross, r_net=r_net,
                   ambiguous=book.ambiguous, resolved_by=book.resolved_by, exit_index=exit_index)
