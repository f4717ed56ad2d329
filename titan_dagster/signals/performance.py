"""Live against backtest: a strategy version's record since it went live beside its backtest
before then, day by day, and whether the live record is worse than the backtest makes
plausible. Pure numpy, no Dagster, no database.

Rules (the README quotes them):

- A trade is a closed outcome (as in metrics.py), scored on r_net and dated by the close of
  the candle it ended in. The record as of day D counts the trades closed by the end of D.
- Live trades are those whose signal came at or after `live_since`; the backtest is the
  trades whose signal came before it.
- Degraded: with at least `min_trades` closed trades on each side, either
  - live expectancy R < backtest expectancy R - 2 * SE, SE = sqrt(s_b^2 / n_b + s_l^2 / n_l)
    (s: standard deviation of r_net, ddof=1; below by more than 1e-12 R, not by rounding), or
  - live win rate < p - 2 * sqrt(p * (1 - p) * (1 / n_l + 1 / n_b)), p = (wins_b + 1) /
    (n_b + 2) (the backtest's win rate, pulled off 0 and 1 so that one loss after a flawless
    backtest is not by itself a verdict).
  With fewer trades on either side there is no flag: the reason says how many are missing.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np

from titan_dagster.signals.metrics import EPS
from titan_dagster.timeframes import DAY_MS, day_start_ms


@dataclass(frozen=True)
class Record:
    """trades: closed trades. win_rate: share with r_net > 1e-12 (breakevens count in N).
    expectancy_r: mean r_net. profit_factor: sum of wins / |sum of losses|, None without a
    loss. max_drawdown_r: the deepest fall of the cumulative r_net (trades in exit order)
    below its running peak, seeded at 0. std_r: ddof=1, None for fewer than 2 trades."""
    trades: int
    wins: int
    win_rate: float | None
    expectancy_r: float | None
    profit_factor: float | None
    max_drawdown_r: float
    std_r: float | None


def record(r_net: np.ndarray) -> Record:
    """`r_net` in the order the trades closed."""
    n = len(r_net)
    win = r_net > EPS
    loss = r_net < -EPS
    lost = float(-r_net[loss].sum())
    cumulative = np.concatenate(([0.0], np.cumsum(r_net)))
    drawdown = float((np.maximum.accumulate(cumulative) - cumulative).max())
    return Record(trades=n, wins=int(win.sum()),
                  win_rate=float(win.mean()) if n else None,
                  expectancy_r=float(r_net.mean()) if n else None,
                  profit_factor=float(r_net[win].sum()) / lost if loss.any() else None,
                  max_drawdown_r=drawdown,
                  std_r=float(np.std(r_net, ddof=1)) if n >= 2 else None)


@dataclass(frozen=True)
class Verdict:
    degraded: bool
    reason: str
    expectancy_floor_r: float | None  # live expectancy below this is degraded


def judge(live: Record, backtest: Record, min_trades: int) -> Verdict:
    if backtest.trades < min_trades:
        return Verdict(False, f"not judged: the backtest before going live has "
                              f"{backtest.trades} closed trades, {min_trades} needed", None)
    se = np.sqrt(backtest.std_r ** 2 / backtest.trades
                 + (live.std_r or 0.0) ** 2 / max(live.trades, 1))
    floor = backtest.expectancy_r - 2 * float(se)
    if live.trades < min_trades:
        return Verdict(False, f"not judged yet: {live.trades} of {min_trades} live trades "
                              "closed", floor)
    p = (backtest.wins + 1) / (backtest.trades + 2)
    win_floor = p - 2 * np.sqrt(p * (1 - p) * (1 / live.trades + 1 / backtest.trades))
    failures = []
    # Beyond rounding: trades that all made the same R come out a few ulps apart (their
    # levels are fractions of different prices), and with no spread the floor is the
    # backtest's mean itself, so float noise alone would otherwise decide.
    if live.expectancy_r < floor - EPS:
        failures.append(f"live expectancy {live.expectancy_r:.3f}R over {live.trades} trades "
                        f"is below {floor:.3f}R, the backtest's {backtest.expectancy_r:.3f}R "
                        f"over {backtest.trades} trades less two standard errors")
    if live.win_rate < win_floor:
        failures.append(f"live win rate {live.win_rate:.1%} is below {win_floor:.1%}, the "
                        f"backtest's {backtest.win_rate:.1%} less two standard errors")
    if failures:
        return Verdict(True, "; ".join(failures), floor)
    return Verdict(False, f"within the backtest: live expectancy {live.expectancy_r:.3f}R "
                          f"(floor {floor:.3f}R), win rate {live.win_rate:.1%} (floor "
                          f"{win_floor:.1%}) over {live.trades} trades", floor)


@dataclass(frozen=True)
class Performance:
    as_of: date
    live: Record
    backtest: Record
    verdict: Verdict


def performance_by_day(signal_ts: np.ndarray, closed_ts: np.ndarray, r_net: np.ndarray,
                       live_since: int, days: list[date], min_trades: int
                       ) -> list[Performance]:
    """The record as of the end of each of `days`, from the closed trades given by their
    signal time, close time (epoch ms) and r_net."""
    order = np.argsort(closed_ts, kind="stable")
    signal_ts, closed_ts, r_net = signal_ts[order], closed_ts[order], r_net[order]
    live = signal_ts >= live_since
    out = []
    for day in days:
        known = closed_ts <= day_start_ms(day) + DAY_MS
        live_record = record(r_net[known & live])
        backtest_record = record(r_net[known & ~live])
        out.append(Performance(day, live_record, backtest_record,
                               judge(live_record, backtest_record, min_trades)))
    return out
