"""Known answers of the outcome engine on small hand-built candle sequences, and properties
(prefix re-evaluation, long/short mirror, the vectorised search against a candle-by-candle walk)
on random walks.

Unless a test says otherwise: a long signal at candle 0 (close 100) with stop 90, TP1 110,
TP2 120, TP1 fraction 0.5, breakeven after TP1, and entry at candle 1's open."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from titan_dagster.signals.engine import evaluate
from titan_dagster.signals.fills import Book
from titan_dagster.signals.model import Candles, Leg, Outcome, Risk, Signals

STEP = 3_600_000  # 1h candles
MIN = 60_000
SIGNAL_BAR = (100, 100, 100, 100)


def bars(*rows, step=STEP, ts=None) -> Candles:
    """Candles from (open, high, low, close) rows, one step apart from 0 unless ts is given."""
    a = np.array(rows, dtype=np.float64).reshape(-1, 4)
    ts = np.arange(len(a), dtype=np.int64) * step if ts is None else np.asarray(ts, np.int64)
    return Candles(ts=ts, open=a[:, 0], high=a[:, 1], low=a[:, 2], close=a[:, 3],
                   volume=np.ones(len(a)), step=step)


def minutes(parent_ts, *rows) -> Candles:
    """1m candles from (open, high, low, close) rows, starting at parent_ts."""
    return bars(*rows, step=MIN, ts=[parent_ts + j * MIN for j in range(len(rows))])


def sigs(*specs) -> Signals:
    """Signals from (index, direction, ref, stop, tp1, tp2) tuples."""
    a = list(zip(*specs, strict=True)) if specs else [()] * 6
    return Signals(index=np.array(a[0], np.int64), direction=np.array(a[1], np.int8),
                   confidence=np.ones(len(a[0])), ref=np.array(a[2], np.float64),
                   stop=np.array(a[3], np.float64), tp1=np.array(a[4], np.float64),
                   tp2=np.array(a[5], np.float64))


LONG = (0, 1, 100, 90, 110, 120)
SHORT = (0, -1, 100, 110, 90, 80)


DEFAULT = Risk()


def run(*rows, risk=DEFAULT, minute=None, signal=LONG) -> Outcome:
    [out] = evaluate(bars(SIGNAL_BAR, *rows), sigs(signal), risk, minute)
    return out


def ts(k):
    return k * STEP


# -- entry ---------------------------------------------------------------------------------------

def test_next_open_entry_tp1_then_tp2():
    # Entry at candle 1's open 101: R = 101 - 90 = 11. Candle 1 touches nothing. Candle 2 (high
    # 112) takes TP1 at 110; its low 100 is below the entry but the stop only moves to 101 from
    # candle 3 on. Candle 3 (high 121, low 105) takes TP2 at 120.
    # r = .5 * (110 - 101) / 11 + .5 * (120 - 101) / 11 = 14 / 11.
    out = run((101, 105, 95, 102), (102, 112, 100, 111), (111, 121, 105, 118))
    assert out.status == "tp2"
    assert (out.entry_index, out.entry_fill_ts, out.entry_fill_price) == (1, ts(1), 101)
    assert out.legs == [Leg(ts(2), 110, 0.5, "tp1"), Leg(ts(3), 120, 0.5, "tp2")]
    assert (out.tp1_hit_ts, out.tp2_hit_ts, out.sl_hit_ts) == (ts(2), ts(3), None)
    assert out.r_gross == pytest.approx(14 / 11)
    assert out.r_net == pytest.approx(14 / 11)
    assert out.exit_index == 3 and out.closed
    assert not out.ambiguous and out.resolved_by is None


def test_pending_without_a_next_candle():
    out = run()
    assert out == Outcome(status="pending")


def test_open_while_the_window_is_not_over():
    out = run((100, 105, 95, 101))
    assert out.status == "open" and not out.closed
    assert (out.entry_index, out.entry_fill_price) == (1, 100)
    assert out.legs == [] and out.r_gross is None and out.r_net is None
    assert out.exit_index is None


def test_tp1_done_rest_running():
    out = run((100, 111, 95, 105), (105, 108, 101, 106))
    assert out.status == "tp1" and not out.closed
    assert out.legs == [Leg(ts(1), 110, 0.5, "tp1")]
    assert out.r_gross is None and out.exit_index is None


@pytest.mark.parametrize("signal", [(0, 1, 100, math.nan, 110, 120),  # no stop (ATR warm-up)
                                    (0, 1, 100, 100, 110, 120),  # R 0
                                    (0, 1, 100, 105, 110, 120),  # stop above a long's ref
                                    (0, 1, 100, 90, 100, 120),  # TP1 not above ref
                                    (0, 1, 100, 90, 110, 105),  # TP2 below TP1
                                    (0, -1, 100, 90, 110, 120)])  # long levels on a short
def test_invalid_levels_are_not_filled(signal):
    assert run((100, 105, 95, 101), signal=signal) == Outcome(status="not_filled")
    assert run(signal=signal) == Outcome(status="not_filled")  # even before the next candle


def test_single_target_ignores_an_invalid_tp2():
    out = run((100, 111, 95, 105), risk=Risk(tp1_fraction=1.0),
              signal=(0, 1, 100, 90, 110, math.nan))
    assert out.status == "tp1" and out.closed and out.r_gross == pytest.approx(1.0)


# -- rule 2: the fill candle opens beyond a level ------------------------------------------------

COSTS = Risk(fee_bps=10, slippage_bps=5)


def test_entry_candle_opens_beyond_the_stop():
    # Filled and stopped at the open 89. R = |ref - stop| = 10. r_gross 0.
    # fees .001 * (89 + 89) / 10 = .0178; slippage (entry and stop) .0005 * (89 + 89) / 10 = .0089.
    out = run((89, 95, 80, 85), (85, 130, 80, 125), risk=COSTS)
    assert out.status == "stopped"
    assert out.entry_fill_price == 89 and out.entry_index == 1
    assert out.legs == [Leg(ts(1), 89, 1.0, "stop")]
    assert out.sl_hit_ts == ts(1) and out.exit_index == 1
    assert out.r_gross == 0
    assert out.r_net == pytest.approx(-0.0267)


def test_entry_candle_opens_at_the_stop():
    out = run((90, 95, 80, 85))
    assert out.status == "stopped" and out.legs == [Leg(ts(1), 90, 1.0, "stop")]
    assert out.r_gross == 0 and out.r_net == 0


def test_entry_candle_opens_beyond_tp1():
    # Filled and closed at 112 as one TP1 leg of 1.0. fees .001 * (112 + 112) / 10 = .0224;
    # slippage on the entry only .0005 * 112 / 10 = .0056.
    out = run((112, 115, 80, 85), risk=COSTS)
    assert out.status == "tp1" and out.closed
    assert out.legs == [Leg(ts(1), 112, 1.0, "tp1")]
    assert (out.tp1_hit_ts, out.tp2_hit_ts, out.exit_index) == (ts(1), None, 1)
    assert out.r_gross == 0
    assert out.r_net == pytest.approx(-0.028)


def test_entry_candle_opens_beyond_tp2():
    # One TP2 leg at 125. fees .001 * 250 / 10 = .025; slippage .0005 * 125 / 10 = .00625.
    out = run((125, 126, 80, 85), risk=COSTS)
    assert out.status == "tp2"
    assert out.legs == [Leg(ts(1), 125, 1.0, "tp2")]
    assert (out.tp1_hit_ts, out.tp2_hit_ts) == (ts(1), ts(1))
    assert out.r_gross == 0
    assert out.r_net == pytest.approx(-0.03125)


def test_entry_candle_beyond_tp2_with_a_single_target():
    out = run((125, 126, 80, 85), risk=Risk(tp1_fraction=1.0))
    assert out.status == "tp1" and out.legs == [Leg(ts(1), 125, 1.0, "tp1")]


# -- gaps ----------------------------------------------------------------------------------------

def test_gap_through_the_stop():
    # Entry 100, R 10. Candle 2 opens at 88, below the stop: out at 88, r = -12 / 10.
    out = run((100, 104, 95, 96), (88, 92, 85, 90))
    assert out.status == "stopped"
    assert out.legs == [Leg(ts(2), 88, 1.0, "stop")]
    assert out.sl_hit_ts == ts(2) and out.exit_index == 2
    assert out.r_gross == pytest.approx(-1.2)


def test_gap_through_tp1_rest_continues_then_breakeven():
    # Candle 2 opens at 112: TP1 leg at 112; the rest stays inside candle 2 (low 108, high 115:
    # nothing). The stop moves to 100; candle 3's low 99 takes it at 100.
    # r = .5 * 12 / 10 + .5 * 0 = .6.
    out = run((100, 105, 95, 104), (112, 115, 108, 113), (106, 107, 99, 100))
    assert out.status == "breakeven"
    assert out.legs == [Leg(ts(2), 112, 0.5, "tp1"), Leg(ts(3), 100, 0.5, "breakeven")]
    assert (out.tp1_hit_ts, out.sl_hit_ts, out.exit_index) == (ts(2), ts(3), 3)
    assert out.r_gross == pytest.approx(0.6)


def test_gap_through_tp1_then_tp2_inside_the_same_candle():
    # TP1 at the open 112, TP2 at 120 in the range: r = .5 * 1.2 + .5 * 2 = 1.6.
    out = run((100, 105, 95, 104), (112, 121, 108, 119))
    assert out.status == "tp2"
    assert out.legs == [Leg(ts(2), 112, 0.5, "tp1"), Leg(ts(2), 120, 0.5, "tp2")]
    assert out.r_gross == pytest.approx(1.6)


def test_gap_through_tp1_then_the_original_stop_inside_the_same_candle():
    # TP1 at the open 112 even though the candle reaches 85 later; inside the TP1 candle the stop
    # is still 90: the rest exits there. r = .5 * 1.2 - .5 * 1 = .1. Not ambiguous: for the rest
    # only the stop was touched.
    out = run((100, 105, 95, 104), (112, 113, 85, 86))
    assert out.status == "stopped"
    assert out.legs == [Leg(ts(2), 112, 0.5, "tp1"), Leg(ts(2), 90, 0.5, "stop")]
    assert out.r_gross == pytest.approx(0.1)
    assert not out.ambiguous and out.resolved_by is None


def test_gap_beyond_tp2():
    # Everything at the open 125: r = 2.5.
    out = run((100, 105, 95, 104), (125, 126, 85, 90))
    assert out.status == "tp2"
    assert out.legs == [Leg(ts(2), 125, 0.5, "tp1"), Leg(ts(2), 125, 0.5, "tp2")]
    assert (out.tp1_hit_ts, out.tp2_hit_ts) == (ts(2), ts(2))
    assert out.r_gross == pytest.approx(2.5)


def test_gap_beyond_tp2_after_tp1():
    # TP1 at 110 in candle 1, the rest at candle 2's open 125: r = .5 + .5 * 2.5 = 1.75.
    out = run((100, 111, 95, 104), (125, 126, 85, 90))
    assert out.legs == [Leg(ts(1), 110, 0.5, "tp1"), Leg(ts(2), 125, 0.5, "tp2")]
    assert out.r_gross == pytest.approx(1.75)


def test_gap_through_the_breakeven_stop():
    # TP1 in candle 1; candle 2 opens at 97, below the breakeven stop 100: out at 97.
    # r = .5 * 1 + .5 * (-3 / 10) = .35.
    out = run((100, 111, 101, 104), (97, 99, 95, 98))
    assert out.status == "breakeven"
    assert out.legs[1] == Leg(ts(2), 97, 0.5, "breakeven")
    assert out.r_gross == pytest.approx(0.35)


# -- stop and target in one candle ---------------------------------------------------------------

BOTH = (100, 111, 89, 100)  # candle 1: touches the stop 90 and TP1 110


@pytest.mark.parametrize("minute", [None, minutes(0), minutes(ts(2), (100, 111, 99, 110))],
                         ids=["none", "empty", "elsewhere"])
def test_stop_and_target_without_1m_candles(minute):
    # No 1m candles inside candle 1's hour: stop first, r = -1.
    out = run(BOTH, minute=minute)
    assert out.status == "stopped"
    assert out.legs == [Leg(ts(1), 90, 1.0, "stop")]
    assert out.ambiguous and out.resolved_by == "rule"
    assert out.r_gross == pytest.approx(-1)


def test_1m_decides_target_first():
    # Minute 0 takes TP1 at 110; minute 1 reaches 89: the stop is still 90 inside the parent
    # candle. r = .5 - .5 = 0. Legs carry the parent candle's ts.
    out = run(BOTH, minute=minutes(ts(1), (100, 111, 100, 108), (108, 108, 89, 90)))
    assert out.status == "stopped"
    assert out.legs == [Leg(ts(1), 110, 0.5, "tp1"), Leg(ts(1), 90, 0.5, "stop")]
    assert (out.tp1_hit_ts, out.sl_hit_ts) == (ts(1), ts(1))
    assert not out.ambiguous and out.resolved_by == "1m"
    assert out.r_gross == pytest.approx(0)


def test_1m_decides_both_targets_first():
    # Parent high 121: minute 0 takes TP1 and TP2, r = 1.5.
    out = run((100, 121, 89, 100), minute=minutes(ts(1), (100, 121, 99, 120), (120, 120, 89, 90)))
    assert out.status == "tp2" and out.resolved_by == "1m" and not out.ambiguous
    assert out.r_gross == pytest.approx(1.5)


def test_1m_decides_stop_first():
    out = run(BOTH, minute=minutes(ts(1), (100, 101, 89, 95), (95, 111, 94, 110)))
    assert out.status == "stopped" and out.legs == [Leg(ts(1), 90, 1.0, "stop")]
    assert not out.ambiguous and out.resolved_by == "1m"
    assert out.r_gross == pytest.approx(-1)


def test_1m_gap_through_the_stop():
    # Minute 1 opens at 88 (a minute missing before it): out at 88, r = -1.2.
    out = run(BOTH, minute=minutes(ts(1), (100, 105, 95, 96), (88, 111, 87, 110)))
    assert out.legs == [Leg(ts(1), 88, 1.0, "stop")] and out.resolved_by == "1m"
    assert out.r_gross == pytest.approx(-1.2)


def test_1m_candle_still_touching_both():
    # Minute 0 touches both: stop first there; minute 1's targets come too late.
    out = run(BOTH, minute=minutes(ts(1), (100, 111, 89, 100), (100, 125, 99, 120)))
    assert out.legs == [Leg(ts(1), 90, 1.0, "stop")]
    assert out.ambiguous and out.resolved_by == "rule"


def test_1m_tp1_then_a_1m_candle_touching_tp2_and_stop():
    # Minute 0 takes TP1; minute 1 touches TP2 and the stop: stop first for the rest. r = 0.
    out = run((100, 121, 89, 100),
              minute=minutes(ts(1), (100, 111, 95, 108), (108, 121, 89, 100)))
    assert out.legs == [Leg(ts(1), 110, 0.5, "tp1"), Leg(ts(1), 90, 0.5, "stop")]
    assert out.ambiguous and out.resolved_by == "rule"
    assert out.r_gross == pytest.approx(0)


def test_1m_candles_that_run_out_leave_the_rule():
    # The 1m candles there touch neither: the rest exits at the stop the parent touched.
    out = run(BOTH, minute=minutes(ts(1), (100, 105, 95, 100)))
    assert out.legs == [Leg(ts(1), 90, 1.0, "stop")]
    assert out.ambiguous and out.resolved_by == "rule"


def test_tp2_and_stop_in_one_candle_after_tp1():
    # TP1 in candle 1 with breakeven off; candle 2 touches TP2 and the stop 90: no 1m, stop
    # first. r = .5 - .5 = 0.
    out = run((100, 111, 95, 105), (105, 121, 89, 100), risk=Risk(breakeven_after_tp1=False))
    assert out.status == "stopped" and out.ambiguous and out.resolved_by == "rule"
    assert out.legs == [Leg(ts(1), 110, 0.5, "tp1"), Leg(ts(2), 90, 0.5, "stop")]
    # ... and with 1m candles taking TP2 first: r = .5 + .5 * 2 = 1.5.
    out = run((100, 111, 95, 105), (105, 121, 89, 100), risk=Risk(breakeven_after_tp1=False),
              minute=minutes(ts(2), (105, 121, 104, 115), (115, 115, 89, 90)))
    assert out.status == "tp2" and out.resolved_by == "1m" and not out.ambiguous
    assert out.r_gross == pytest.approx(1.5)


# -- breakeven, both targets, single target ------------------------------------------------------

def test_tp1_then_breakeven():
    # TP1 at 110 in candle 1 (its low 95 is above the original stop); candle 2's low 99 takes
    # the breakeven stop at 100. r = .5 * 1 + .5 * 0 = .5.
    out = run((100, 111, 95, 105), (105, 106, 99, 100))
    assert out.status == "breakeven"
    assert out.legs == [Leg(ts(1), 110, 0.5, "tp1"), Leg(ts(2), 100, 0.5, "breakeven")]
    assert (out.tp1_hit_ts, out.sl_hit_ts, out.exit_index) == (ts(1), ts(2), 2)
    assert out.r_gross == pytest.approx(0.5)


def test_tp1_without_breakeven_keeps_the_stop():
    # Candle 2's low 99 is above the unmoved stop; candle 3 reaches 89: out at 90. r = 0.
    out = run((100, 111, 95, 105), (105, 106, 99, 100), (95, 96, 89, 90),
              risk=Risk(breakeven_after_tp1=False))
    assert out.status == "stopped"
    assert out.legs == [Leg(ts(1), 110, 0.5, "tp1"), Leg(ts(3), 90, 0.5, "stop")]
    assert out.r_gross == pytest.approx(0)


def test_tp1_and_tp2_in_one_candle():
    # r = .5 * 1 + .5 * 2 = 1.5, both in candle 1.
    out = run((100, 125, 95, 121))
    assert out.status == "tp2"
    assert out.legs == [Leg(ts(1), 110, 0.5, "tp1"), Leg(ts(1), 120, 0.5, "tp2")]
    assert (out.tp1_hit_ts, out.tp2_hit_ts, out.exit_index) == (ts(1), ts(1), 1)
    assert out.r_gross == pytest.approx(1.5)


def test_single_target():
    # tp1_fraction 1.0: TP1 closes everything, TP2 (also touched) is ignored. r = 1.
    out = run((100, 125, 95, 121), risk=Risk(tp1_fraction=1.0))
    assert out.status == "tp1" and out.closed
    assert out.legs == [Leg(ts(1), 110, 1.0, "tp1")]
    assert out.tp2_hit_ts is None and out.exit_index == 1
    assert out.r_gross == pytest.approx(1.0)


def test_single_target_gap_beyond_tp2():
    out = run((100, 105, 95, 104), (125, 126, 85, 90), risk=Risk(tp1_fraction=1.0))
    assert out.status == "tp1" and out.legs == [Leg(ts(2), 125, 1.0, "tp1")]
    assert out.r_gross == pytest.approx(2.5)


# -- expiry and stored gaps ----------------------------------------------------------------------

def test_expiry():
    # H = 3: candles 1..3 touch nothing; close[3] = 104: r = .4. Candle 4's stop is past the
    # window. fees .001 * (100 + 104) / 10 = .0204, slippage (entry, expiry) .0102.
    out = run((100, 105, 95, 101), (101, 106, 96, 102), (102, 107, 97, 104), (95, 96, 80, 85),
              risk=Risk(max_hold_candles=3, fee_bps=10, slippage_bps=5))
    assert out.status == "expired"
    assert out.legs == [Leg(ts(3), 104, 1.0, "expiry")]
    assert (out.expired_ts, out.exit_index) == (ts(3), 3)
    assert out.r_gross == pytest.approx(0.4)
    assert out.r_net == pytest.approx(0.4 - 0.0204 - 0.0102)


def test_expiry_after_tp1():
    # TP1 at 110 in candle 1; breakeven stop 100 never touched; the rest at close[3] = 104.
    # r = .5 * 1 + .5 * .4 = .7.
    out = run((100, 111, 95, 105), (105, 108, 101, 106), (106, 108, 101, 104),
              risk=Risk(max_hold_candles=3))
    assert out.status == "expired"
    assert out.legs == [Leg(ts(1), 110, 0.5, "tp1"), Leg(ts(3), 104, 0.5, "expiry")]
    assert (out.tp1_hit_ts, out.expired_ts, out.exit_index) == (ts(1), ts(3), 3)
    assert out.r_gross == pytest.approx(0.7)


def test_expiry_on_the_last_candle_there_is():
    out = run((100, 105, 95, 101), (101, 106, 96, 103), risk=Risk(max_hold_candles=2))
    assert out.status == "expired" and out.legs == [Leg(ts(2), 103, 1.0, "expiry")]


def test_missing_candles_are_not_counted():
    # Candles stored at hours 0, 1, 5, 6: with H = 2 the window is the candles at hours 1 and 5.
    c = bars(SIGNAL_BAR, (100, 105, 95, 101), (102, 106, 96, 103), (103, 104, 80, 85),
             ts=[0, STEP, 5 * STEP, 6 * STEP])
    [out] = evaluate(c, sigs(LONG), Risk(max_hold_candles=2))
    assert out.status == "expired"
    assert out.legs == [Leg(5 * STEP, 103, 1.0, "expiry")]
    assert (out.expired_ts, out.exit_index) == (5 * STEP, 2)


# -- fees and slippage ---------------------------------------------------------------------------

def test_fees_and_slippage_on_targets():
    # The first test's trade: entry 101, R 11, TP1 110 (.5), TP2 120 (.5), r_gross 14 / 11.
    # fees .001 * (101 + 55 + 60) / 11 = .216 / 11; slippage on the entry only .0005 * 101 / 11.
    out = run((101, 105, 95, 102), (102, 112, 100, 111), (111, 121, 105, 118), risk=COSTS)
    assert out.r_gross == pytest.approx(14 / 11)
    assert out.r_net == pytest.approx((14 - 0.216 - 0.0505) / 11)


def test_fees_and_slippage_on_a_stop():
    # Entry 100, out at the gap 88: fees .001 * 188 / 10 = .0188, slippage .0005 * 188 / 10.
    out = run((100, 104, 95, 96), (88, 92, 85, 90), risk=COSTS)
    assert out.r_net == pytest.approx(-1.2 - 0.0188 - 0.0094)


def test_fees_and_slippage_on_breakeven():
    # TP1 110 (.5), breakeven 100 (.5): fees .001 * (100 + 55 + 50) / 10 = .0205; slippage on
    # the entry and the breakeven exit .0005 * (100 + 50) / 10 = .0075.
    out = run((100, 111, 95, 105), (105, 106, 99, 100), risk=COSTS)
    assert out.r_gross == pytest.approx(0.5)
    assert out.r_net == pytest.approx(0.5 - 0.0205 - 0.0075)


# -- shorts --------------------------------------------------------------------------------------

def test_short_gap_through_the_stop():
    # Short at 100, stop 110: candle 2 opens at 112: out at 112, r = -(112 - 100) / 10 = -1.2.
    # fees .001 * (100 + 112) / 10 = .0212, slippage .0005 * 212 / 10 = .0106.
    out = run((100, 105, 96, 104), (112, 115, 108, 110), risk=COSTS, signal=SHORT)
    assert out.status == "stopped"
    assert out.legs == [Leg(ts(2), 112, 1.0, "stop")]
    assert out.r_gross == pytest.approx(-1.2)
    assert out.r_net == pytest.approx(-1.2 - 0.0212 - 0.0106)


def test_short_gap_through_tp1():
    # Candle 2 opens at 88, below TP1 90: TP1 leg at 88; its range touches nothing else.
    out = run((100, 105, 96, 97), (88, 92, 85, 87), signal=SHORT)
    assert out.status == "tp1" and out.legs == [Leg(ts(2), 88, 0.5, "tp1")]


def test_short_stop_and_target_without_1m():
    out = run(BOTH, signal=SHORT)
    assert out.legs == [Leg(ts(1), 110, 1.0, "stop")]
    assert out.ambiguous and out.resolved_by == "rule"
    assert out.r_gross == pytest.approx(-1)


def test_short_1m_target_first():
    # Minute 0 reaches 89: TP1 at 90; minute 1 reaches 111: the stop 110. r = .5 - .5 = 0.
    out = run(BOTH, signal=SHORT,
              minute=minutes(ts(1), (100, 101, 89, 92), (92, 111, 91, 108)))
    assert out.legs == [Leg(ts(1), 90, 0.5, "tp1"), Leg(ts(1), 110, 0.5, "stop")]
    assert not out.ambiguous and out.resolved_by == "1m"
    assert out.r_gross == pytest.approx(0)


def test_short_1m_stop_first():
    out = run(BOTH, signal=SHORT, minute=minutes(ts(1), (100, 111, 99, 108), (108, 109, 89, 90)))
    assert out.legs == [Leg(ts(1), 110, 1.0, "stop")] and out.resolved_by == "1m"


def test_short_tp1_then_breakeven():
    # TP1 at 90 in candle 1, candle 2's high 101 takes the breakeven stop 100. r = .5.
    out = run((100, 105, 89, 95), (95, 101, 94, 100), signal=SHORT)
    assert out.status == "breakeven"
    assert out.legs == [Leg(ts(1), 90, 0.5, "tp1"), Leg(ts(2), 100, 0.5, "breakeven")]
    assert out.r_gross == pytest.approx(0.5)


def test_short_entry_candle_opens_beyond_the_stop():
    out = run((111, 115, 100, 101), risk=COSTS, signal=SHORT)
    # R = 10; fees .001 * 222 / 10 = .0222, slippage .0005 * 222 / 10 = .0111.
    assert out.status == "stopped" and out.legs == [Leg(ts(1), 111, 1.0, "stop")]
    assert out.r_gross == 0
    assert out.r_net == pytest.approx(-0.0333)


# -- several signals, validation -----------------------------------------------------------------

def test_one_outcome_per_signal_in_order():
    c = bars(SIGNAL_BAR, (100, 111, 95, 105), (105, 106, 99, 100), (100, 101, 89, 90))
    specs = [LONG, (3, 1, 90, 80, 100, 110), SHORT, (1, -1, 105, 115, 85, 80)]
    outs = evaluate(c, sigs(*specs), Risk())
    assert [o.status for o in outs] == ["breakeven", "pending", "stopped", "open"]
    for i, spec in enumerate(specs):
        assert evaluate(c, sigs(spec), Risk()) == [outs[i]]
    assert evaluate(c, sigs(), Risk()) == []


@pytest.mark.parametrize(("risk", "signal"), [(Risk(tp1_fraction=0), LONG),
                                              (Risk(tp1_fraction=1.5), LONG),
                                              (Risk(max_hold_candles=0), LONG),
                                              (Risk(), (5, 1, 100, 90, 110, 120)),
                                              (Risk(), (0, 0, 100, 90, 110, 120))])
def test_bad_input_raises(risk, signal):
    with pytest.raises(ValueError):
        evaluate(bars(SIGNAL_BAR, (100, 105, 95, 101)), sigs(signal), risk)


def test_signals_without_levels_raise():
    bare = Signals(index=np.array([0]), direction=np.array([1], np.int8),
                   confidence=np.array([1.0]))
    with pytest.raises(ValueError):
        evaluate(bars(SIGNAL_BAR), bare, Risk())


# -- properties on random walks ------------------------------------------------------------------

def walk(moves, start=1000) -> list[tuple[int, int, int, int]]:
    """Integer candles from (gap, body, upper wick, lower wick) moves: exact touches are common."""
    rows, price = [], start
    for gap, body, up, down in moves:
        o = price + gap
        c = o + body
        rows.append((o, max(o, c) + up, min(o, c) - down, c))
        price = c
    return rows


MOVE = st.tuples(st.integers(-4, 4), st.integers(-4, 4), st.integers(0, 3), st.integers(0, 3))


@st.composite
def scenarios(draw):
    rows = walk(draw(st.lists(MOVE, min_size=2, max_size=40)))
    n = len(rows)
    c = bars(*rows)
    specs = []
    for t, d, dist, a, b in draw(st.lists(st.tuples(
            st.integers(0, n - 1), st.sampled_from([1, -1]), st.integers(1, 6),
            st.integers(1, 6), st.integers(0, 6)), min_size=1, max_size=8)):
        ref = rows[t][3]
        specs.append((t, d, ref, ref - d * dist, ref + d * a, ref + d * (a + b)))
    mrows, mts = [], []
    for k in draw(st.lists(st.integers(0, n - 1), max_size=6, unique=True)):
        part = walk(draw(st.lists(MOVE, min_size=1, max_size=5)), start=rows[k][0])
        mrows += part
        mts += [k * STEP + j * MIN for j in range(len(part))]
    order = np.argsort(mts, kind="stable")
    minute = bars(*[mrows[i] for i in order], step=MIN, ts=np.array(mts)[order]) if mrows else None
    risk = Risk(tp1_fraction=draw(st.sampled_from([0.5, 1.0, 0.25])),
                breakeven_after_tp1=draw(st.booleans()),
                max_hold_candles=draw(st.integers(1, 15)),
                fee_bps=draw(st.sampled_from([0.0, 7.5])),
                slippage_bps=draw(st.sampled_from([0.0, 3.0])))
    return c, specs, minute, risk


def prefix(c: Candles, m: int) -> Candles:
    return Candles(ts=c.ts[:m], open=c.open[:m], high=c.high[:m], low=c.low[:m],
                   close=c.close[:m], volume=c.volume[:m], step=c.step)


def mirror(c: Candles | None, k=3000) -> Candles | None:
    """Prices reflected around k / 2: a long's path becomes a short's."""
    if c is None:
        return None
    return Candles(ts=c.ts, open=k - c.open, high=k - c.low, low=k - c.high, close=k - c.close,
                   volume=c.volume, step=c.step)


def walk_every_candle(c: Candles, spec, risk: Risk, minute: Candles | None) -> list[Leg] | None:
    """The legs of a plain candle-by-candle walk (no vectorised search; a short walks the
    negated prices), None where rules 0-2 decide without a walk."""
    t, d, ref, stop, tp1, tp2 = spec
    if d == -1:
        c, minute = mirror(c, 0), mirror(minute, 0)
        ref, stop, tp1, tp2 = -ref, -stop, -tp1, -tp2
    e = t + 1
    if e >= len(c) or not stop < ref < tp1 or c.open[e] <= stop or c.open[e] >= tp1:
        return None
    book = Book(float(c.open[e]), stop, tp1, tp2, risk.tp1_fraction)
    end = e + risk.max_hold_candles
    for k in range(e, min(end, len(c))):
        had_tp1 = book.tp1_done
        book.candle(int(c.ts[k]), c.step, float(c.open[k]), float(c.high[k]), float(c.low[k]),
                    k > e, minute, 1)
        if book.done:
            break
        if book.tp1_done and not had_tp1 and risk.breakeven_after_tp1:
            book.move_stop_to_entry()
    else:
        if end <= len(c):
            book.exit_rest(int(c.ts[end - 1]), float(c.close[end - 1]), "expiry")
    return [Leg(lts, d * p, f, why) for lts, p, f, why in book.legs]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_prefix_then_full_gives_the_full_result(scenario, data):
    c, specs, minute, risk = scenario
    m = data.draw(st.integers(1, len(c)))
    full = evaluate(c, sigs(*specs), risk, minute)
    assert evaluate(c, sigs(*specs), risk, minute) == full  # evaluated again: the same
    inside = [i for i, spec in enumerate(specs) if spec[0] < m]
    early = evaluate(prefix(c, m), sigs(*[specs[i] for i in inside]), risk, minute)
    for i, out in zip(inside, early, strict=True):
        if out.closed or out.status == "not_filled":
            assert out == full[i]
        else:
            assert out.status in ("pending", "open", "tp1")
            assert full[i].legs[:len(out.legs)] == out.legs
            if out.status != "pending":
                assert (out.entry_index, out.entry_fill_price) == (full[i].entry_index,
                                                                   full[i].entry_fill_price)
    for spec, out in zip(specs, full, strict=True):
        if out.closed:
            assert sum(leg.fraction for leg in out.legs) == pytest.approx(1.0)
            assert out.entry_index <= out.exit_index <= out.entry_index + risk.max_hold_candles - 1
            assert out.status in ("tp1", "tp2", "stopped", "breakeven", "expired")
        walked = walk_every_candle(c, spec, risk, minute)
        if walked is not None:
            assert out.legs == walked


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_shorts_mirror_longs(scenario):
    c, specs, minute, risk = scenario
    longs = [(t, 1, ref, ref - abs(ref - stop), ref + abs(tp1 - ref), ref + abs(tp2 - ref))
             for t, _, ref, stop, tp1, tp2 in specs]
    shorts = [(t, -1, 3000 - ref, 3000 - stop, 3000 - tp1, 3000 - tp2)
              for t, _, ref, stop, tp1, tp2 in longs]
    a = evaluate(c, sigs(*longs), risk, minute)
    b = evaluate(mirror(c), sigs(*shorts), risk, mirror(minute))
    for x, y in zip(a, b, strict=True):
        assert (x.status, x.entry_index, x.exit_index, x.ambiguous, x.resolved_by) == (
            y.status, y.entry_index, y.exit_index, y.ambiguous, y.resolved_by)
        assert (x.tp1_hit_ts, x.tp2_hit_ts, x.sl_hit_ts, x.expired_ts) == (
            y.tp1_hit_ts, y.tp2_hit_ts, y.sl_hit_ts, y.expired_ts)
        assert [(leg.ts, 3000 - leg.price, leg.fraction, leg.reason) for leg in x.legs] == [
            (leg.ts, leg.price, leg.fraction, leg.reason) for leg in y.legs]
        assert x.r_gross == y.r_gross


def test_a_long_series_against_a_candle_by_candle_walk():
    # The benchmark's shape (44k 1h candles, 1,000 signals) with assertions instead of timing:
    # every filled trade matches a plain walk of every candle.
    rng = np.random.default_rng(7)
    n = 44_000
    close = 20_000 * np.exp(np.cumsum(rng.normal(0, 0.006, n)))
    open_ = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, 0.0005, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.003, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.003, n)))
    c = Candles(ts=np.arange(n, dtype=np.int64) * STEP, open=open_, high=high, low=low,
                close=close, volume=np.ones(n), step=STEP)
    index = np.sort(rng.choice(n, 1000, replace=False))
    direction = rng.choice(np.array([1, -1], np.int8), 1000)
    ref = close[index]
    dist = ref * rng.uniform(0.005, 0.04, 1000)
    s = Signals(index=index, direction=direction, confidence=np.ones(1000), ref=ref,
                stop=ref - direction * dist, tp1=ref + direction * dist,
                tp2=ref + direction * 2 * dist)
    risk = Risk(max_hold_candles=48, fee_bps=5, slippage_bps=2)
    outs = evaluate(c, s, risk)
    assert len(outs) == 1000
    statuses = {o.status for o in outs}
    assert {"tp2", "stopped", "breakeven", "expired"} <= statuses
    assert statuses <= {"tp1", "tp2", "stopped", "breakeven", "expired", "open", "pending"}
    for i, out in enumerate(outs):
        spec = (int(index[i]), int(direction[i]), ref[i], s.stop[i], s.tp1[i], s.tp2[i])
        walked = walk_every_candle(c, spec, risk, None)
        if walked is not None:
            assert out.legs == walked
        if out.closed:
            assert out.r_net < out.r_gross
