"""Strategy kinds: known answers on hand-built series, params checks, user kinds, output
checks, gap segmentation, and no look-ahead as a property."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from titan_dagster.signals.kinds import (
    KINDS,
    check_params,
    donchian_breakout,
    load_kind,
    resolve_kind,
    rsi_reversion,
    run_kind,
    segments,
    slice_candles,
    sma_cross,
    validate_signals,
)
from titan_dagster.signals.model import Candles, RawSignals

STEP = 60_000


def candles(close, high=None, low=None, ts=None, open_=None, step=STEP) -> Candles:
    close = np.asarray(close, dtype=np.float64)
    n = len(close)
    return Candles(
        ts=np.arange(n, dtype=np.int64) * step if ts is None else np.asarray(ts, np.int64),
        open=close.copy() if open_ is None else np.asarray(open_, np.float64),
        high=close + 1 if high is None else np.asarray(high, np.float64),
        low=close - 1 if low is None else np.asarray(low, np.float64),
        close=close, volume=np.ones(n), step=step)


def pairs(raw: RawSignals) -> list[tuple[int, int]]:
    return [(int(i), int(d)) for i, d in zip(raw.index, raw.direction, strict=True)]


def raw(index, direction, confidence) -> RawSignals:
    return RawSignals(index=np.asarray(index), direction=np.asarray(direction),
                      confidence=np.asarray(confidence))


# --- user kinds used through load_kind ----------------------------------------------------

def my_kind(candles: Candles, params: dict) -> RawSignals:
    """Long on every candle that closes above `params['above']`, confidence 0.5."""
    index = np.flatnonzero(candles.close > params["above"])
    return RawSignals(index=index.astype(np.int64), direction=np.ones(len(index), np.int8),
                      confidence=np.full(len(index), 0.5))


def bad_kind(candles: Candles, params: dict) -> RawSignals:
    return raw([len(candles)], [1], [0.5])  # one past the end


NOT_CALLABLE = 42


# --- sma_cross ----------------------------------------------------------------------------

def test_sma_cross_long_and_short_at_the_expected_indices():
    # fast(2): [nan 2.5 1.5 1.5 2.5 3.5 3.5 2.5 1.5]; slow(3): [nan nan 2 1.67 2 3 3.33 3 2]
    out = sma_cross(candles([3, 2, 1, 2, 3, 4, 3, 2, 1]), {"fast": 2, "slow": 3})
    assert pairs(out) == [(4, 1), (7, -1)]
    assert out.index.dtype == np.int64 and out.direction.dtype == np.int8
    assert out.confidence.tolist() == [1.0, 1.0]  # 25% and 17% apart: capped


def test_sma_cross_confidence_is_the_gap_relative_to_slow_per_percent():
    # t=3: fast (100 + 100.6) / 2 = 100.3, slow 100.2: 0.1 / 100.2 / 0.01
    out = sma_cross(candles([101, 100, 100, 100.6]), {"fast": 2, "slow": 3})
    assert pairs(out) == [(3, 1)]
    assert out.confidence[0] == pytest.approx(0.1 / 100.2 / 0.01)


@pytest.mark.parametrize("close", [
    [13, 12, 11, 13, 8],  # fast comes up to slow at t=3 (both 12) and falls back below
    [7, 8, 9, 7, 12],  # fast comes down to slow at t=3 (both 8) and goes back above
])
def test_sma_cross_touch_without_cross_does_not_fire(close):
    assert pairs(sma_cross(candles(close), {"fast": 2, "slow": 3})) == []


def test_sma_cross_fast_one_is_price_crossing_its_average():
    # fast 1 = close; slow 2: sign of the change; a flat candle is a touch, not a side
    c = candles([3, 2, 2, 1, 2, 3, 2])
    assert pairs(sma_cross(c, {"fast": 1, "slow": 2})) == [(4, 1), (6, -1)]


def test_sma_cross_nothing_during_warm_up_or_on_short_series():
    assert pairs(sma_cross(candles([3, 2, 1]), {"fast": 2, "slow": 3})) == []
    assert pairs(sma_cross(candles([]), {"fast": 2, "slow": 3})) == []


# --- rsi_reversion ------------------------------------------------------------------------

def test_rsi_reversion_known_answers():
    # Wilder RSI(2): [nan nan 100 66.7 28.6 54.5 88.4 91.5 43.9 14.3]
    close = [10, 12, 14, 13, 11, 12, 16, 17, 15, 11]
    out = rsi_reversion(candles(close), {"period": 2})
    assert pairs(out) == [(3, -1), (5, 1), (8, -1)]
    # short at 3: the excursion peaked at 100: full; long at 5: it went to 200/7 (28.57);
    # short at 8: it peaked at 5400/59 (91.53) over two candles
    assert out.confidence == pytest.approx([1.0, (30 - 200 / 7) / 30, (5400 / 59 - 70) / 30])


def test_rsi_reversion_crossing_onto_the_band_fires_touching_it_does_not():
    # RSI(2) 0 then exactly 50: rsi[t-1] < lower <= rsi[t]; confidence (50 - 0) / 50
    params = {"period": 2, "lower": 50, "upper": 100}
    out = rsi_reversion(candles([14, 12, 10, 12]), params)
    assert pairs(out) == [(3, 1)] and out.confidence.tolist() == [1.0]
    # RSI(2) 100, 66.7, exactly 50, then up: came down onto the band, never below it
    assert pairs(rsi_reversion(candles([10, 12, 14, 13, 12.5, 14]), params)) == []


def test_rsi_reversion_defaults_and_flat_start():
    close = 100 + np.concatenate([np.zeros(5), -np.arange(1, 16), np.full(3, -10)])
    out = rsi_reversion(candles(close), {})  # period 14, lower 30, upper 70
    assert pairs(out) == [(20, 1)]
    # TA-Lib says RSI 0 for a series that has not moved: no "oversold" out of a flat start
    assert pairs(rsi_reversion(candles([5, 5, 5, 5, 5, 6]), {"period": 2})) == []


# --- donchian_breakout --------------------------------------------------------------------

def test_donchian_breakout_known_answers_and_current_candle_excluded():
    high = [11, 11, 11, 12.5, 13, 11, 10, 9, 12.5]
    low = [9, 9, 9, 10.5, 12, 9.5, 8.5, 8, 11]
    close = [10, 10, 10, 11.5, 12.5, 10, 9, 8.5, 12]
    out = donchian_breakout(candles(close, high, low), {"period": 3})
    # t=3: 11.5 > max(high[0..2]) = 11 although high[3] = 12.5 (the candle is not its own
    # channel); t=4: close 12.5 touches max(high[1..3]); t=6: 9 < min(low[3..5]) = 9.5;
    # t=7: 8.5 touches min(low[4..6]); t=8: 12 > max(high[5..7]) = 11 (high[4] is out)
    assert pairs(out) == [(3, 1), (6, -1), (8, 1)]
    assert out.confidence == pytest.approx([0.5 / 2, 0.5 / 3.5, 1 / 3])


def test_donchian_breakout_default_period_and_zero_width_channel():
    close = np.full(21, 10.0)
    close[20] = 10.5
    out = donchian_breakout(candles(close, close, close), {})
    assert pairs(out) == [(20, 1)] and out.confidence.tolist() == [1.0]
    assert pairs(donchian_breakout(candles(close[:20]), {})) == []


# --- params -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, params, message", [
    ("sma_cross", {"fast": 5}, "sma_cross: missing param 'slow'"),
    ("sma_cross", {"fast": 5, "slow": 10, "speed": 1}, "unknown param 'speed'"),
    ("sma_cross", {"fast": 5.0, "slow": 10}, "param 'fast' must be an int, got 5.0 (float)"),
    ("sma_cross", {"fast": True, "slow": 10}, "param 'fast' must be an int, got True"),
    ("sma_cross", {"fast": "5", "slow": 10}, "param 'fast' must be an int, got '5' (str)"),
    ("sma_cross", {"fast": 10, "slow": 10}, "'fast' (10) must be less than 'slow' (10)"),
    ("sma_cross", {"fast": 20, "slow": 10}, "'fast' (20) must be less than 'slow' (10)"),
    ("sma_cross", {"fast": 0, "slow": 10}, "param 'fast' must be >= 1, got 0"),
    ("rsi_reversion", {"period": 1}, "param 'period' must be >= 2, got 1"),
    ("rsi_reversion", {"lower": 70, "upper": 30}, "'lower' (70) must be less than 'upper' (30)"),
    ("rsi_reversion", {"lower": 80}, "'lower' (80) must be less than 'upper' (70)"),
    ("rsi_reversion", {"lower": -5}, "param 'lower' must be within 0..100, got -5"),
    ("rsi_reversion", {"upper": 100.5}, "param 'upper' must be within 0..100, got 100.5"),
    ("rsi_reversion", {"upper": float("nan")}, "param 'upper' must be a finite number"),
    ("rsi_reversion", {"lower": "30"}, "param 'lower' must be a finite number, got '30'"),
    ("donchian_breakout", {"period": 1}, "param 'period' must be >= 2, got 1"),
    ("donchian_breakout", {"length": 20}, "unknown param 'length' (known: period)"),
    ("donchian_breakout", [20], "params must be a mapping, got list"),
    ("macd", {}, "unknown strategy kind 'macd'"),
    ("nope.nowhere:fn", {}, "cannot import module 'nope.nowhere'"),
])
def test_check_params_names_param_and_value(kind, params, message):
    with pytest.raises(ValueError) as e:
        check_params(kind, params)
    assert message in str(e.value)


@pytest.mark.parametrize("kind, params", [
    ("sma_cross", {"fast": 1, "slow": 2}),
    ("sma_cross", {"fast": np.int64(5), "slow": 20}),
    ("rsi_reversion", {}),
    ("rsi_reversion", {"period": 7, "lower": 0, "upper": 100}),
    ("rsi_reversion", {"lower": 25.5, "upper": 74.5}),
    ("donchian_breakout", {}),
    ("donchian_breakout", {"period": 2}),
    ("tests.signals.test_kinds:my_kind", {"anything": "goes"}),
])
def test_check_params_accepts(kind, params):
    check_params(kind, params)


def test_kinds_check_their_params_when_called_directly_and_through_run_kind():
    with pytest.raises(ValueError, match="'fast' \\(3\\) must be less than 'slow' \\(2\\)"):
        sma_cross(candles([1, 2, 3]), {"fast": 3, "slow": 2})
    with pytest.raises(ValueError, match="missing param 'fast'"):
        run_kind("sma_cross", candles([]), {"slow": 3})  # no candles, still checked


# --- user kinds ---------------------------------------------------------------------------

def test_load_kind_loads_a_user_function_and_run_kind_runs_it():
    assert load_kind("tests.signals.test_kinds:my_kind") is my_kind
    assert resolve_kind("tests.signals.test_kinds:my_kind") is my_kind
    assert resolve_kind("sma_cross") is KINDS["sma_cross"] is sma_cross
    ts = [0, STEP, 5 * STEP, 6 * STEP]  # a gap after position 1: indices map back
    out = run_kind("tests.signals.test_kinds:my_kind", candles([1, 3, 1, 3], ts=ts),
                   {"above": 2})
    assert pairs(out) == [(1, 1), (3, 1)] and out.confidence.tolist() == [0.5, 0.5]


@pytest.mark.parametrize("spec, message", [
    ("no_colon_here", "is not of the form 'module.path:function'"),
    ("a:b:c", "is not of the form 'module.path:function'"),
    (":my_kind", "is not of the form 'module.path:function'"),
    ("tests.signals.test_kinds:", "is not of the form 'module.path:function'"),
    ("tests.signals.no_such_module:fn", "cannot import module 'tests.signals.no_such_module'"),
    ("tests.signals.test_kinds:no_such_fn", "has no attribute 'no_such_fn'"),
    ("tests.signals.test_kinds:NOT_CALLABLE", "'NOT_CALLABLE' is a int, not callable"),
])
def test_load_kind_errors_name_the_spec(spec, message):
    with pytest.raises(ValueError) as e:
        load_kind(spec)
    assert repr(spec) in str(e.value) and message in str(e.value)


def test_run_kind_rejects_bad_user_output_naming_kind_and_segment():
    with pytest.raises(ValueError, match=r"bad_kind on candles 0\.\.2: index 3 out of range"):
        run_kind(bad_kind, candles([1, 2, 3]), {})


# --- validate_signals ---------------------------------------------------------------------

C5 = candles([1, 2, 3, 4, 5])


@pytest.mark.parametrize("out, message", [
    ({"index": [1]}, "expected RawSignals, got dict"),
    (raw([[1]], [[1]], [[0.5]]), "index must be a 1-D array"),
    (raw([1, 2], [1], [0.5]), "differ in length"),
    (raw([1.0], [1], [0.5]), "index must be integers, got dtype float64"),
    (raw([1], [1.0], [0.5]), "direction must be integers"),
    (raw([1], [1], ["x"]), "confidence must be numbers"),
    (raw([5], [1], [0.5]), "index 5 out of range 0..4"),
    (raw([-1], [1], [0.5]), "index -1 out of range 0..4"),
    (raw([2, 1], [1, 1], [0.5, 0.5]), "index not sorted: 2 then 1"),
    (raw([1], [0], [0.5]), "direction must be -1 or +1, got 0"),
    (raw([1, 1], [-1, -1], [0.5, 0.5]), "repeated signal: index 1, direction -1"),
    (raw([1, 2, 2, 2], [1, 1, -1, 1], [0.5] * 4), "repeated signal: index 2, direction +1"),
    (raw([1], [1], [1.5]), "within [0, 1], got 1.5"),
    (raw([1], [1], [-0.1]), "within [0, 1], got -0.1"),
    (raw([1], [1], [np.nan]), "confidence must be finite"),
])
def test_validate_signals_errors(out, message):
    with pytest.raises(ValueError) as e:
        validate_signals(C5, out)
    assert message in str(e.value)


def test_validate_signals_normalises_and_allows_both_directions_at_one_index():
    out = validate_signals(C5, raw(np.array([1, 1, 4], np.int32), [1, -1, 1], [0, 1, 0.25]))
    assert out.index.dtype == np.int64 and out.direction.dtype == np.int8
    assert out.confidence.dtype == np.float64
    assert pairs(out) == [(1, 1), (1, -1), (4, 1)]
    assert pairs(validate_signals(C5, raw([], [], []))) == []


# --- gaps ---------------------------------------------------------------------------------

# Falling into the gap, high after it: bridged, SMA(2) jumps over SMA(3) at the first candle
# after the gap (t=5: 5.5 > 4.33); per segment, the second one is flat and never crosses.
GAP_CLOSE = [5, 4, 3, 2, 1, 10, 10, 10, 10]
GAP_TS = [0, 1, 2, 3, 4, 9, 10, 11, 12]


def test_segments_split_at_gaps_the_calendar_expects():
    c = candles(GAP_CLOSE, ts=np.array(GAP_TS) * STEP)
    assert segments(c) == [(0, 5), (5, 9)]
    calls = []

    def closed(a, b):  # the market was closed: a jump, not a gap
        calls.append((a, b))
        return False

    assert segments(c, closed) == [(0, 9)]
    assert calls == [(4 * STEP, 9 * STEP)]  # asked only about jumps, with both open times
    assert segments(candles([])) == []
    assert segments(candles([1, 2, 3])) == [(0, 3)]
    with pytest.raises(ValueError, match="open times must increase: 60000 then 60000"):
        segments(candles([1, 2, 3], ts=[0, STEP, STEP]))


def test_sma_does_not_cross_a_gap():
    c = candles(GAP_CLOSE, ts=np.array(GAP_TS) * STEP)
    params = {"fast": 2, "slow": 3}
    assert pairs(sma_cross(c, params)) == [(5, 1)]  # the kind alone sees one series
    assert pairs(run_kind(sma_cross, c, params)) == []
    assert pairs(run_kind(sma_cross, c, params, lambda a, b: True)) == []
    assert pairs(run_kind(sma_cross, c, params, lambda a, b: False)) == [(5, 1)]


def test_warm_up_restarts_after_a_gap():
    # after the gap: down, then up; the second segment alone crosses at its position 4
    after = [10, 9, 8, 9, 10, 11]
    c = candles(GAP_CLOSE[:5] + after, ts=np.r_[0:5, 9:15] * STEP)
    params = {"fast": 2, "slow": 3}
    out = run_kind("sma_cross", c, params)
    alone = sma_cross(candles(after), params)
    assert pairs(alone) == [(4, 1)]
    assert pairs(out) == [(5 + 4, 1)]
    # bridged, the averages still hold the candles before the gap: a long at 5 and a short
    # at 7 (segment position 2, where SMA(3) has only just warmed up) that don't fire per
    # segment
    assert pairs(run_kind("sma_cross", c, params, lambda a, b: False)) == [
        (5, 1), (7, -1), (9, 1)]
    # Donchian and RSI warm up again too: no signal in a segment shorter than the warm-up
    short_tail = candles(list(range(1, 30)) + [100, 101], ts=np.r_[0:29, 40:42] * STEP)
    assert 29 not in run_kind("donchian_breakout", short_tail, {"period": 5}).index
    assert 29 in donchian_breakout(short_tail, {"period": 5}).index


def test_kinds_get_read_only_views():
    def writer(c, params):
        c.close[0] = 0.0
        return raw([], [], [])

    c = candles([1, 2, 3])
    with pytest.raises(ValueError, match="read-only"):
        run_kind(writer, c, {})
    assert c.close[0] == 1.0
    assert slice_candles(c, 1, 3).close.tolist() == [2.0, 3.0]


# --- no look-ahead ------------------------------------------------------------------------

def random_walk(seed: int, n: int, gap_every: int) -> Candles:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    jumps = np.where(rng.integers(0, gap_every, n) == 0, rng.integers(2, 5, n), 1)
    jumps[0] = 0
    ts = np.cumsum(jumps) * STEP
    return Candles(ts=ts.astype(np.int64), open=open_, high=high, low=low, close=close,
                   volume=np.ones(n), step=STEP)


LOOK_AHEAD_KINDS = [
    ("sma_cross", {"fast": 3, "slow": 8}),
    ("sma_cross", {"fast": 1, "slow": 4}),
    ("rsi_reversion", {"period": 3, "lower": 35, "upper": 65}),
    ("rsi_reversion", {}),
    ("donchian_breakout", {"period": 4}),
    ("tests.signals.test_kinds:my_kind", {"above": 100}),
]


def until(out: RawSignals, j: int) -> RawSignals:
    keep = out.index <= j
    return RawSignals(out.index[keep], out.direction[keep], out.confidence[keep])


def same(a: RawSignals, b: RawSignals) -> bool:
    return (np.array_equal(a.index, b.index) and np.array_equal(a.direction, b.direction)
            and np.array_equal(a.confidence, b.confidence))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 150), cut=st.floats(0, 1),
       gap_every=st.sampled_from([10**9, 40, 8]), bridge=st.booleans())
def test_no_look_ahead(seed, n, cut, gap_every, bridge):
    c = random_walk(seed, n, gap_every)
    j = min(n - 1, int(cut * n))
    missing = (lambda a, b: False) if bridge else None
    for kind, params in LOOK_AHEAD_KINDS:
        full = run_kind(kind, c, params, missing)
        truncated = run_kind(kind, slice_candles(c, 0, j + 1), params, missing)
        assert same(until(full, j), truncated), (kind, params, j)


def test_the_random_walks_do_produce_signals_of_every_kind():
    c = random_walk(7, 400, 40)
    for kind, params in LOOK_AHEAD_KINDS:
        out = run_kind(kind, c, params)
        assert len(out.index) > 0, kind
        assert {1, -1} <= set(out.direction.tolist()) or kind.startswith("tests."), kind
        assert ((out.confidence >= 0) & (out.confidence <= 1)).all()
