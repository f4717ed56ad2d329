"""The 1m candles are read only for candles that touched both the stop and a target, and
then decide them."""

import numpy as np

from titan_dagster.config.strategies import StrategySettings
from titan_dagster.signals.model import Candles, RawSignals, Risk
from titan_dagster.signals.pipeline import run_strategy

H, M = 3_600_000, 60_000
T0 = 1_704_067_200_000


def series(rows, step=H, t0=T0) -> Candles:
    o, h, lo, c = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    return Candles(np.arange(len(rows), dtype=np.int64) * step + t0, o, h, lo, c,
                   np.ones(len(rows)), step)


def long_at_first(candles, params):
    return RawSignals(np.array([0]), np.array([1], dtype=np.int8), np.array([1.0]))


STRATEGY = StrategySettings(name="s", kind="tests.signals.test_pipeline:long_at_first",
                            source="binance", symbols=("BTC/USDT",), timeframe="1h",
                            risk=Risk(stop_pct=0.05, tp1_fraction=1.0, max_hold_candles=5))
# Signal at candle 0 (close 100): stop 95, TP 105. Candle 2 touches both (low 94, high 106).
CANDLES = series([(100, 100, 100, 100), (100, 101, 99, 100), (100, 106, 94, 100),
                  (100, 101, 99, 100)])


def test_one_minute_candles_decide_a_candle_that_touched_both_and_only_they_are_read():
    asked = []

    def read_minute(start, end):
        asked.append((start, end))
        # Up to the target first, then down through the stop.
        return series([(100, 106, 99, 105), (105, 105, 94, 95)], M, start)

    _, (outcome,) = run_strategy(STRATEGY, "BTC/USDT", CANDLES, read_minute)
    assert asked == [(T0 + 2 * H, T0 + 3 * H)]
    assert (outcome.status, outcome.resolved_by, outcome.ambiguous) == ("tp1", "1m", False)
    assert outcome.r_gross == 1.0


def test_without_one_minute_candles_the_stop_comes_first():
    def none_stored(start, end):
        return Candles(np.empty(0, dtype=np.int64), *(np.empty(0) for _ in range(5)), M)

    _, (outcome,) = run_strategy(STRATEGY, "BTC/USDT", CANDLES, none_stored)
    assert (outcome.status, outcome.resolved_by, outcome.ambiguous) == ("stopped", "rule", True)
    assert outcome.r_gross == -1.0


def test_day_by_day_equals_one_run_over_the_range_property():
    """Signals computed each day from the candles up to that day's end, with their outcomes
    tracked through every candle stored when the range is over, equal one run over the whole
    range (the DB-backed version of this is in test_strategy_runs.py)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from titan_dagster.signals.engine import evaluate
    from titan_dagster.signals.pipeline import compute_signals

    strategy = StrategySettings(name="s", kind="sma_cross", source="binance",
                                symbols=("BTC/USDT",), timeframe="1h",
                                params={"fast": 3, "slow": 8},
                                risk=Risk(stop_pct=0.01, max_hold_candles=12, fee_bps=10,
                                          slippage_bps=2))

    @settings(max_examples=40, deadline=None)
    @given(st.integers(0, 2**32 - 1), st.integers(3, 8))
    def check(seed, days):
        rng = np.random.default_rng(seed)
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, days * 24)))
        opens = np.concatenate([[100.0], close[:-1]])
        wick = np.abs(rng.normal(0, 0.004, len(close))) * close
        candles = series(list(zip(opens, np.maximum(opens, close) + wick,
                                  np.minimum(opens, close) - wick, close, strict=True)))
        whole = compute_signals(strategy, "BTC/USDT", candles)
        daily_index, daily_stop = [], []
        for day in range(days):
            end = (day + 1) * 24
            upto = Candles(*(getattr(candles, n)[:end] for n in
                             ("ts", "open", "high", "low", "close", "volume")), candles.step)
            found = compute_signals(strategy, "BTC/USDT", upto)
            today = (found.index >= day * 24) & (found.index < end)
            daily_index += found.index[today].tolist()
            daily_stop += found.stop[today].tolist()
        assert daily_index == whole.index.tolist() and daily_stop == whole.stop.tolist()
        # An outcome evaluated on fewer candles is a prefix of its final one, and final once
        # closed (the engine's property test); so each day's outcomes converge to these.
        full = evaluate(candles, whole, strategy.risk)
        for day in range(1, days + 1):
            upto = Candles(*(getattr(candles, n)[:day * 24] for n in
                             ("ts", "open", "high", "low", "close", "volume")), candles.step)
            known = whole.index < day * 24
            picked = type(whole)(**{n: getattr(whole, n)[known] for n in
                                   ("index", "direction", "confidence", "ref", "stop", "tp1",
                                    "tp2")})
            for early, final in zip(evaluate(upto, picked, strategy.risk), full, strict=False):
                if early.closed or early.status == "not_filled":
                    assert early.__dict__ == final.__dict__

    check()
