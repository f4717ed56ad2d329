"""Backtest metrics against hand computations on tiny series (arithmetic in the comments),
plus a brute-force per-candle cross-check of the vectorised equity curves and a timing."""

import json
import math
import time

import numpy as np
import pytest

from titan_dagster.signals.metrics import (
    Metrics,
    backtest_metrics,
    daily_returns,
    equity_curves,
)
from titan_dagster.signals.model import Candles, Leg, Outcome, Signals

HOUR = 3_600_000
DAY = 86_400_000
T0 = 19_676 * DAY  # 2023-11-15 00:00 UTC, a day boundary


def make_candles(closes, *, step=HOUR, start=T0, ts=None) -> Candles:
    c = np.asarray(closes, dtype=np.float64)
    n = len(c)
    ts = start + step * np.arange(n, dtype=np.int64) if ts is None else np.asarray(ts, np.int64)
    return Candles(ts=ts, open=c, high=c, low=c, close=c, volume=np.ones(n), step=step)


def make_signals(n, *, stops=None, directions=None) -> Signals:
    stops = [90.0] * n if stops is None else stops
    directions = [1] * n if directions is None else directions
    return Signals(index=np.arange(n, dtype=np.int64),
                   direction=np.asarray(directions, dtype=np.int8),
                   confidence=np.ones(n), ref=np.full(n, 100.0),
                   stop=np.asarray(stops, dtype=np.float64),
                   tp1=np.full(n, 110.0), tp2=np.full(n, 120.0))


def trade(r_net, *, entry=0, exit=None, price=100.0, r_gross=None, status="stopped", legs=()):
    """A closed outcome; entry == exit by default, so it never needs marking."""
    return Outcome(status=status, entry_index=entry, entry_fill_ts=None, entry_fill_price=price,
                   exit_index=entry if exit is None else exit, legs=list(legs),
                   r_gross=r_net if r_gross is None else r_gross, r_net=r_net)


def score(closes, outcomes, *, step=HOUR, stops=None, directions=None, always_open=True,
          risk_fraction=0.01) -> Metrics:
    return backtest_metrics(make_candles(closes, step=step),
                            make_signals(len(outcomes), stops=stops, directions=directions),
                            outcomes, always_open=always_open, risk_fraction=risk_fraction)


def flat(n):
    return [100.0] * n


# --- counts, profit factor, expectancy, sqn -------------------------------------------------

def test_counts_and_win_rate_with_breakevens():
    half = [Leg(T0, 110.0, 0.5, "tp1")]
    outcomes = [
        trade(2.0, status="tp2"),
        trade(-1.0, status="stopped"),
        trade(0.0, status="breakeven"),
        trade(1e-13, status="expired"),  # |r| <= 1e-12: a breakeven, not a win
        trade(0.5, status="tp1", legs=half + [Leg(T0, 100.0, 0.5, "breakeven")]),  # closed
        Outcome(status="pending"),
        Outcome(status="not_filled"),
        Outcome(status="open", entry_index=1, entry_fill_price=100.0),
        Outcome(status="tp1", entry_index=1, entry_fill_price=100.0, legs=half),  # half open
    ]
    m = score(flat(5), outcomes)
    # trades: the first five; wins 2.0 and 0.5; loss -1.0; breakevens 0.0 and 1e-13
    assert (m.trades, m.wins, m.losses, m.breakevens) == (5, 2, 1, 2)
    assert m.win_rate == pytest.approx(2 / 5)


@pytest.mark.parametrize(("r_nets", "expected"), [
    ([2.0, 1.0, -1.5], 2.0),  # (2 + 1) / 1.5
    ([0.0, -2.0, 3.0], 1.5),  # 3 / 2, the breakeven counts on neither side
    ([1.0, 2.0], None),  # no loss: None, not infinity
    ([1.0, 0.0], None),
    ([-1.0, -0.5], 0.0),  # losses and no win
    ([], None),
])
def test_profit_factor(r_nets, expected):
    m = score(flat(3), [trade(r) for r in r_nets])
    assert m.profit_factor == (None if expected is None else pytest.approx(expected))


def test_expectancy_avg_r_and_sqn():
    r_net = [2.0, -1.0, 0.5, 1.5]
    r_gross = [2.1, -0.9, 0.6, 1.6]
    m = score(flat(3), [trade(n, r_gross=g) for n, g in zip(r_net, r_gross, strict=True)])
    # expectancy = (2 - 1 + 0.5 + 1.5) / 4 = 0.75; avg_r = (2.1 - 0.9 + 0.6 + 1.6) / 4 = 0.85
    assert m.expectancy_r == pytest.approx(0.75)
    assert m.avg_r == pytest.approx(0.85)
    # deviations 1.25, -1.75, -0.25, 0.75 -> squares 1.5625 + 3.0625 + 0.0625 + 0.5625 = 5.25
    # var = 5.25 / 3 = 1.75; sqn = sqrt(4) * 0.75 / sqrt(1.75) = 1.5 / 1.3229 = 1.13389
    assert m.sqn == pytest.approx(1.5 / math.sqrt(1.75))
    assert m.sqn == pytest.approx(1.1338934)


@pytest.mark.parametrize("r_nets", [[1.5], [1.0, 1.0], [0.1, 0.1, 0.1]])
def test_sqn_none_for_one_trade_or_zero_std(r_nets):
    # [0.1] * 3 has a std of ~1e-17 from rounding: zero, not an sqn of 1e16
    m = score(flat(3), [trade(r) for r in r_nets])
    assert m.sqn is None
    assert m.expectancy_r == pytest.approx(r_nets[0])


# --- equity curves and drawdowns ------------------------------------------------------------

def test_long_trade_marked_to_market_vs_closed_only():
    # Long, filled at 100 in candle 1, stop 90: R = 10. TP1 at 110 for half in candle 3, the
    # rest out at breakeven (100) in candle 5. r_gross = 0.5 * 1 + 0.5 * 0 = 0.5; costs 0.041 R
    # so r_net = 0.459. Entry share of the costs by notional: 100 / (100 + 0.5*110 + 0.5*100)
    # = 100 / 205, so entry costs = 0.041 * 100 / 205 = 0.02 R.
    closes = [100.0, 98.0, 104.0, 111.0, 102.0, 100.0]
    ts = T0 + HOUR * np.arange(6)
    outcome = Outcome(status="tp1", entry_index=1, entry_fill_price=100.0, exit_index=5,
                      legs=[Leg(int(ts[3]), 110.0, 0.5, "tp1"),
                            Leg(int(ts[5]), 100.0, 0.5, "breakeven")],
                      r_gross=0.5, r_net=0.459)
    candles, signals = make_candles(closes), make_signals(1)
    marked, realised = equity_curves(candles, signals, [outcome], risk_fraction=0.1)
    # marks in R, risk 0.1 of the starting 1.0 per R:
    # c0: before entry               0                                   -> 1.0
    # c1: (98 - 100) / 10 - 0.02   = -0.22                               -> 0.978
    # c2: (104 - 100) / 10 - 0.02  =  0.38                               -> 1.038
    # c3: TP1 leg 0.5 * 1 + 0.5 * (111 - 100) / 10 - 0.02 = 1.03         -> 1.103
    # c4: 0.5 + 0.5 * (102 - 100) / 10 - 0.02 = 0.58                     -> 1.058
    # c5: exit, booked at r_net 0.459                                    -> 1.0459
    np.testing.assert_allclose(marked, [1.0, 0.978, 1.038, 1.103, 1.058, 1.0459])
    np.testing.assert_allclose(realised, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0459])
    m = backtest_metrics(candles, signals, [outcome], always_open=True, risk_fraction=0.1)
    # peak 1.103 at c3, trough after it 1.0459: (1.103 - 1.0459) / 1.103 = 0.051768 (bigger
    # than c1's (1 - 0.978) / 1 = 0.022); the realised curve never falls
    assert m.max_drawdown == pytest.approx(0.0571 / 1.103)
    assert m.max_drawdown_closed == 0.0
    assert m.total_return == pytest.approx(0.0459)
    assert m.exposure == pytest.approx(5 / 6)  # candles 1..5 of 6


def test_short_trade_marked_to_market():
    # Short at 100, stop 105: R = 5. Expires at 101 in candle 3: r = -(101 - 100) / 5 = -0.2.
    closes = [100.0, 97.0, 103.0, 100.0]
    outcome = trade(-0.2, entry=0, exit=3, legs=[Leg(T0 + 3 * HOUR, 101.0, 1.0, "expiry")],
                    status="expired")
    candles, signals = make_candles(closes), make_signals(1, stops=[105.0], directions=[-1])
    marked, realised = equity_curves(candles, signals, [outcome], risk_fraction=0.1)
    # c0: -(100 - 100) / 5 = 0; c1: -(97 - 100) / 5 = 0.6; c2: -(103 - 100) / 5 = -0.6; c3: -0.2
    np.testing.assert_allclose(marked, [1.0, 1.06, 0.94, 0.98])
    np.testing.assert_allclose(realised, [1.0, 1.0, 1.0, 0.98])
    m = backtest_metrics(candles, signals, [outcome], always_open=True, risk_fraction=0.1)
    assert m.max_drawdown == pytest.approx(0.12 / 1.06)  # peak 1.06, trough 0.94
    assert m.max_drawdown_closed == pytest.approx(0.02)  # 1.0 -> 0.98


def test_closed_drawdown_steps_at_exits():
    # +2 R out in candle 1, -1 R in candle 3, 0.1 risked per R: 1, 1.2, 1.2, 1.1
    m = score(flat(4), [trade(2.0, entry=1), trade(-1.0, entry=3)], risk_fraction=0.1)
    assert m.max_drawdown_closed == pytest.approx(0.1 / 1.2)
    assert m.max_drawdown == pytest.approx(0.1 / 1.2)  # nothing open between closes
    # a first trade losing: the peak is the starting 1.0, dd = (1 - 0.9) / 1
    m = score(flat(2), [trade(-1.0, entry=0)], risk_fraction=0.1)
    assert m.max_drawdown == pytest.approx(0.1)


def test_drawdown_zero_when_equity_never_falls():
    m = score(flat(4), [trade(1.0, entry=1), trade(0.0, entry=2)])
    assert m.max_drawdown == 0.0
    assert m.max_drawdown_closed == 0.0
    assert m.calmar is None


# --- daily returns, sharpe, sortino ---------------------------------------------------------

def four_days_of_hours():
    # 96 hourly candles, flat prices; trades in and out in one candle (no marking):
    # day 1 at 05:00 +2 R, day 2 at 10:00 -1 R, day 3 at 03:00 +3 R; 0.01 risked per R.
    # Day-end equity: 1.00, 1.02, 1.01, 1.04
    return flat(96), [trade(2.0, entry=29), trade(-1.0, entry=58), trade(3.0, entry=75)]


def test_daily_returns_are_day_end_equity_changes():
    closes, outcomes = four_days_of_hours()
    candles = make_candles(closes)
    marked, _ = equity_curves(candles, make_signals(3), outcomes)
    np.testing.assert_allclose(daily_returns(candles, marked),
                               [0.02, 1.01 / 1.02 - 1, 1.04 / 1.01 - 1])


def test_sharpe_and_sortino():
    closes, outcomes = four_days_of_hours()
    # r = 0.02, -0.00980392, 0.02970297; mean = 0.03989905 / 3 = 0.01329968
    # deviations 0.00670032, -0.02310360, 0.01640329: sum of squares 0.00084774, / 2,
    # sqrt -> std = 0.02058809; sharpe = 0.01329968 / 0.02058809 * sqrt(365) = 12.34161
    # downside = sqrt(0.00980392 ** 2 / 3) = 0.00566030; sortino = ... * sqrt(365) = 44.88989
    m = score(closes, outcomes, always_open=True)
    assert m.sharpe == pytest.approx(12.341607, rel=1e-6)
    assert m.sortino == pytest.approx(44.889888, rel=1e-6)
    # markets with sessions: sqrt(252) instead of sqrt(365)
    m = score(closes, outcomes, always_open=False)
    assert m.sharpe == pytest.approx(12.341607 * math.sqrt(252 / 365), rel=1e-6)
    assert m.sortino == pytest.approx(37.299444, rel=1e-6)


def test_sharpe_sortino_none_cases():
    # two days: one daily return
    assert score(flat(48), [trade(1.0, entry=30)]).sharpe is None
    # three days, no trade: returns 0, 0 -> std 0 and downside 0
    m = score(flat(72), [])
    assert (m.sharpe, m.sortino) == (None, None)
    # three days, no losing day: sharpe defined, sortino None
    m = score(flat(72), [trade(1.0, entry=30), trade(2.0, entry=60)])
    assert m.sharpe is not None
    assert m.sortino is None


def test_daily_returns_skip_days_without_candles():
    # candles on days 0, 0, 2 (a gap), 3: three days, two returns
    ts = [T0, T0 + HOUR, T0 + 2 * DAY, T0 + 3 * DAY]
    candles = make_candles(flat(4), ts=ts)
    equity = np.array([1.0, 1.1, 1.21, 1.331])
    np.testing.assert_allclose(daily_returns(candles, equity), [0.1, 0.1])


# --- total return, cagr, calmar -------------------------------------------------------------

def test_cagr_total_return_calmar_over_half_a_year():
    # 1461 three-hour candles: span = 1461 * 3 h = 182.625 days = half of 365.25.
    # +20 R then -10 R at 0.01 per R: 1.0 -> 1.2 -> 1.1.
    m = score(flat(1461), [trade(20.0, entry=10), trade(-10.0, entry=20)], step=3 * HOUR)
    assert m.total_return == pytest.approx(0.1)
    assert m.cagr == pytest.approx(1.1 ** 2 - 1)  # 0.21
    assert m.max_drawdown == pytest.approx(0.1 / 1.2)  # 1/12
    assert m.calmar == pytest.approx(0.21 * 12)  # 2.52


def test_cagr_none_cases_and_overflow():
    # span 23 h < 1 day
    m = score(flat(23), [trade(1.0), trade(-1.0, entry=1)])
    assert (m.cagr, m.calmar) == (None, None)
    assert m.total_return == pytest.approx(0.0)
    # final equity 0: 0.5 risked per R, -2 R
    m = score(flat(48), [trade(-2.0)], risk_fraction=0.5)
    assert m.total_return == pytest.approx(-1.0)
    assert (m.cagr, m.calmar) == (None, None)
    # exactly one day: cagr = 1.01 ** 365.25 - 1, absurd but not clipped
    m = score(flat(24), [trade(1.0)])
    assert m.cagr == pytest.approx(1.01 ** 365.25 - 1)
    # 11 ** 365.25 overflows a float: inf
    m = score(flat(24), [trade(100.0)], risk_fraction=0.1)
    assert m.cagr == math.inf


# --- exposure -------------------------------------------------------------------------------

def test_exposure_counts_overlapping_trades_once():
    # 10 candles: trades over candles 1..4 and 3..6 (overlap 3..4) and 8..8: union 1..6 + 8
    # = 7 candles; the open outcome from candle 0 is not a trade.
    outcomes = [trade(1.0, entry=1, exit=4), trade(-1.0, entry=3, exit=6),
                trade(0.5, entry=8), Outcome(status="open", entry_index=0,
                                             entry_fill_price=100.0)]
    assert score(flat(10), outcomes).exposure == pytest.approx(0.7)


# --- degenerate inputs ----------------------------------------------------------------------

def test_no_trades():
    m = score(flat(72), [Outcome(status="pending"), Outcome(status="not_filled")])
    assert (m.trades, m.wins, m.losses, m.breakevens) == (0, 0, 0, 0)
    assert m.win_rate is m.profit_factor is m.expectancy_r is m.avg_r is m.sqn is None
    assert m.sharpe is m.sortino is m.calmar is None
    assert (m.max_drawdown, m.max_drawdown_closed, m.total_return, m.exposure) == (0, 0, 0, 0)
    assert m.cagr == 0.0  # three days, flat: 1.0 ** x - 1


def test_empty_series():
    m = score([], [])
    assert m.trades == 0
    assert (m.max_drawdown, m.max_drawdown_closed, m.total_return) == (0.0, 0.0, 0.0)
    assert m.exposure is m.cagr is m.sharpe is None


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="outcomes for"):
        backtest_metrics(make_candles(flat(3)), make_signals(2), [trade(1.0)], always_open=True)
    with pytest.raises(ValueError, match="lacks exit_index"):
        score(flat(3), [Outcome(status="stopped", entry_index=0, entry_fill_price=100.0,
                                r_gross=-1.0, r_net=-1.0)])
    with pytest.raises(ValueError, match="outside"):
        score(flat(3), [trade(1.0, entry=2, exit=3)])
    with pytest.raises(ValueError, match="R is zero"):
        score(flat(3), [trade(1.0, entry=0, exit=1)], stops=[100.0])
    # R = 0 is fine for a trade out in its entry candle (a gap through the stop): no marking
    assert score(flat(3), [trade(-0.01, entry=1)], stops=[100.0]).trades == 1


def test_as_dict_is_plain_json():
    closes, outcomes = four_days_of_hours()
    d = score(closes, outcomes).as_dict()
    assert list(d) == [f for f in Metrics.__dataclass_fields__]
    assert json.loads(json.dumps(d)) == d
    assert type(d["trades"]) is int
    assert type(d["sharpe"]) is float


# --- the vectorised curves against a per-candle loop ----------------------------------------

def random_case(rng, n, count, max_hold=48):
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    candles = make_candles(closes)
    outcomes, stops, directions = [], [], []
    for _ in range(count):
        direction = int(rng.choice([-1, 1]))
        entry = int(rng.integers(0, n))
        exit = min(n - 1, entry + int(rng.integers(0, max_hold)))
        price = float(closes[entry])
        stop = price * (1 - direction * 0.01)
        risk = abs(price - stop)
        status = str(rng.choice(["tp2", "stopped", "expired", "tp1", "open", "not_filled"]))
        legs = []
        if exit > entry and rng.random() < 0.5:  # a TP1 half somewhere in between
            mid = int(rng.integers(entry, exit))
            legs.append(Leg(int(candles.ts[mid]), float(closes[mid]), 0.5, "tp1"))
        legs.append(Leg(int(candles.ts[exit]), float(closes[exit]),
                        1.0 - sum(leg.fraction for leg in legs), "stop"))
        if status == "tp1" and rng.random() < 0.5:
            legs = legs[:1]  # maybe only half closed: not a trade
        r_gross = sum(leg.fraction * direction * (leg.price - price) / risk for leg in legs)
        outcomes.append(Outcome(status=status, entry_index=entry, entry_fill_price=price,
                                exit_index=exit, legs=legs, r_gross=r_gross,
                                r_net=r_gross - float(rng.uniform(0, 0.1))))
        stops.append(stop)
        directions.append(direction)
    return candles, make_signals(count, stops=stops, directions=directions), outcomes


def brute_force(candles, signals, outcomes, risk_fraction):
    n = len(candles)
    marked, realised, inside = np.ones(n), np.ones(n), np.zeros(n, dtype=bool)
    for i, o in enumerate(outcomes):
        if not o.closed:
            continue
        d, e = int(signals.direction[i]), o.entry_fill_price
        risk = abs(e - signals.stop[i])
        entry_cost = (o.r_gross - o.r_net) * e / (e + sum(g.fraction * g.price for g in o.legs))
        for t in range(n):
            if t >= o.exit_index:
                marked[t] += risk_fraction * o.r_net
                realised[t] += risk_fraction * o.r_net
            elif t >= o.entry_index:
                done = [g for g in o.legs if g.ts <= candles.ts[t]]
                r = sum(g.fraction * d * (g.price - e) / risk for g in done)
                r += (1 - sum(g.fraction for g in done)) * d * (candles.close[t] - e) / risk
                marked[t] += risk_fraction * (r - entry_cost)
            inside[t] |= o.entry_index <= t <= o.exit_index
    return marked, realised, inside.mean()


def test_curves_match_a_per_candle_loop():
    rng = np.random.default_rng(7)
    candles, signals, outcomes = random_case(rng, 400, 60)
    marked, realised = equity_curves(candles, signals, outcomes, risk_fraction=0.02)
    want_marked, want_realised, want_exposure = brute_force(candles, signals, outcomes, 0.02)
    np.testing.assert_allclose(marked, want_marked, rtol=0, atol=1e-12)
    np.testing.assert_allclose(realised, want_realised, rtol=0, atol=1e-12)
    m = backtest_metrics(candles, signals, outcomes, always_open=True, risk_fraction=0.02)
    assert m.exposure == pytest.approx(want_exposure)
    peak = np.maximum.accumulate(np.maximum(want_marked, 1.0))
    assert m.max_drawdown == pytest.approx(np.max((peak - want_marked) / peak))


def test_fast_on_44k_candles_and_1000_outcomes():
    rng = np.random.default_rng(1)
    candles, signals, outcomes = random_case(rng, 44_000, 1_000)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        backtest_metrics(candles, signals, outcomes, always_open=True)
        best = min(best, time.perf_counter() - start)
    assert best < 0.1
