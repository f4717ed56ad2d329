"""Levels: stop and targets from the signal candle's close, by percent or ATR."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.signals.test_kinds import STEP, candles, random_walk
from titan_dagster.signals.kinds import run_kind, slice_candles
from titan_dagster.signals.levels import atr, check_risk, levels
from titan_dagster.signals.model import RawSignals, Risk, Signals


def raw(index, direction, confidence=None) -> RawSignals:
    n = len(index)
    return RawSignals(index=np.asarray(index, np.int64), direction=np.asarray(direction, np.int8),
                      confidence=np.full(n, 0.5) if confidence is None
                      else np.asarray(confidence, np.float64))


def test_levels_by_percent_long_and_short():
    c = candles([100, 200, 50])
    out = levels(c, raw([1, 2], [1, -1], [0.25, 0.75]), Risk(stop_pct=0.02, tp1_r=1.5, tp2_r=3))
    assert isinstance(out, Signals)
    assert out.index.tolist() == [1, 2] and out.direction.tolist() == [1, -1]
    assert out.confidence.tolist() == [0.25, 0.75]
    assert out.ref.tolist() == [200, 50]
    assert out.stop == pytest.approx([196, 51])  # 200 * 0.98, 50 * 1.02
    assert out.tp1 == pytest.approx([206, 48.5])  # R 4: 200 + 1.5 * 4; R 1: 50 - 1.5
    assert out.tp2 == pytest.approx([212, 47])


def test_levels_by_atr_long_and_short_drop_warm_up():
    # flat closes, high - low = 2 on every candle: true range 2, ATR(3) = 2 from index 3
    c = candles(np.full(8, 10.0))
    assert np.isnan(atr(c, 3)[:3]).all() and atr(c, 3)[3:].tolist() == [2.0] * 5
    out = levels(c, raw([2, 3, 5], [1, 1, -1]), Risk(stop_atr=1.5, atr_period=3))
    assert out.index.tolist() == [3, 5]  # index 2: ATR still NaN, dropped
    assert out.stop.tolist() == [7.0, 13.0]  # 10 -/+ 1.5 * 2
    assert out.tp1.tolist() == [13.0, 7.0]  # R 3, tp1_r 1
    assert out.tp2.tolist() == [16.0, 4.0]  # tp2_r 2


def test_atr_restarts_after_a_gap_unless_the_market_was_closed():
    c = candles(np.full(10, 10.0), ts=np.r_[0:4, 8:14] * STEP)
    risk = Risk(stop_atr=1.0, atr_period=3)
    signals = raw([3, 5, 7], [1, -1, 1])
    assert np.isnan(atr(c, 3)[4:7]).all() and atr(c, 3)[7] == 2.0
    assert levels(c, signals, risk).index.tolist() == [3, 7]
    closed = levels(c, signals, risk, lambda a, b: False)
    assert closed.index.tolist() == [3, 5, 7] and closed.stop.tolist() == [8, 12, 8]


def test_levels_drop_signals_without_risk_distance():
    flat = np.full(6, 10.0)
    c = candles(flat, high=flat, low=flat)  # ATR 0: stop on the reference price
    assert len(levels(c, raw([4], [1]), Risk(stop_atr=2.0, atr_period=3)).index) == 0


def test_levels_empty():
    out = levels(candles([1, 2]), raw([], []), Risk(stop_pct=0.01))
    assert len(out.index) == len(out.ref) == len(out.tp2) == 0


@pytest.mark.parametrize("risk, message", [
    (Risk(), "exactly one of stop_pct and stop_atr must be set"),
    (Risk(stop_pct=0.01, stop_atr=2.0), "exactly one of stop_pct and stop_atr must be set"),
    (Risk(stop_pct=0.0), "stop_pct must be within (0, 1), got 0.0"),
    (Risk(stop_pct=1.0), "stop_pct must be within (0, 1), got 1.0"),
    (Risk(stop_pct=float("nan")), "stop_pct must be within (0, 1), got nan"),
    (Risk(stop_atr=-1.0), "stop_atr must be a number > 0, got -1.0"),
    (Risk(stop_atr=2.0, atr_period=0), "atr_period must be an int >= 1, got 0"),
    (Risk(stop_atr=2.0, atr_period=3.5), "atr_period must be an int >= 1, got 3.5"),
    (Risk(stop_pct=0.01, tp1_r=0), "tp1_r must be a number > 0, got 0"),
    (Risk(stop_pct=0.01, tp2_r=float("inf")), "tp2_r must be a number > 0, got inf"),
])
def test_risk_errors(risk, message):
    with pytest.raises(ValueError) as e:
        check_risk(risk)
    assert message in str(e.value)
    with pytest.raises(ValueError):
        levels(candles([1, 2]), raw([], []), risk)


def test_levels_validate_the_signals():
    with pytest.raises(ValueError, match="index 2 out of range"):
        levels(candles([1, 2]), raw([2], [1]), Risk(stop_pct=0.01))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 120), cut=st.floats(0, 1),
       gap_every=st.sampled_from([10**9, 30]))
def test_levels_no_look_ahead(seed, n, cut, gap_every):
    c = random_walk(seed, n, gap_every)
    j = min(n - 1, int(cut * n))
    head = slice_candles(c, 0, j + 1)
    for risk in (Risk(stop_pct=0.02), Risk(stop_atr=1.5, atr_period=5)):
        full = levels(c, run_kind("donchian_breakout", c, {"period": 3}), risk)
        truncated = levels(head, run_kind("donchian_breakout", head, {"period": 3}), risk)
        keep = full.index <= j
        for name in ("index", "direction", "confidence", "ref", "stop", "tp1", "tp2"):
            assert np.array_equal(getattr(full, name)[keep], getattr(truncated, name)), name
