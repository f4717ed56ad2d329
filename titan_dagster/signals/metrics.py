"""Backtest metrics: score a strategy's closed trades over one candle series.

Pure numpy, no Dagster, no database. `backtest_metrics` is the entry point; `equity_curves`
and `daily_returns` are the building blocks it uses, public for plots and tests.

Rules (the README quotes them):

- A trade is an outcome that is `closed` (status tp2, stopped, breakeven or expired, or tp1
  with all of its legs closed). Pending, open, not-filled and partly-closed tp1 outcomes are
  not trades and play no part in any metric: not in the counts, the equity curves or the
  exposure. Trades are scored on `r_net`.
- `outcomes[i]` belongs to signal `i` of `signals`: R = |entry_fill_price - signals.stop[i]|,
  direction = signals.direction[i].
- Equity starts at 1.0 and each trade risks `risk_fraction` of the STARTING equity (no
  compounding): a trade adds `risk_fraction * R-multiple` to it.
- The realised curve books `risk_fraction * r_net` at the close of the trade's exit candle.
- The marked curve also marks each trade at every close from its entry candle up to (not
  including) its exit candle, where it is booked at `r_net` like the realised curve. The mark
  in R is: the gross R of the legs already exited (a leg counts from the close of the candle
  its `ts` names), plus the remaining fraction * direction * (close - entry_fill_price) / R,
  minus the trade's entry costs. Entry costs are the trade's total costs (r_gross - r_net)
  apportioned to the entry by notional: entry_fill_price / (entry_fill_price + sum of
  leg.fraction * leg.price), exact for per-fill costs in bps of the fill price. The exit costs
  appear only at the exit candle.
- Both curves have one value per candle of the series (its close), first candle to last.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

from titan_dagster.signals.model import Candles, Outcome, Signals

DAY_MS = 86_400_000
YEAR_MS = 365.25 * DAY_MS
EPS = 1e-12  # |r_net| at or below this is a breakeven; a std at or below it is zero


@dataclass(frozen=True)
class Metrics:
    """A strategy's score over one series. Counts are ints, the rest floats or None.

    trades: closed outcomes. wins / losses / breakevens: trades with r_net > 1e-12,
        r_net < -1e-12, |r_net| <= 1e-12 (disjoint: they sum to trades).
    win_rate: wins / trades; None without trades.
    profit_factor: sum(r_net of wins) / |sum(r_net of losses)|; None when there is no loss
        (with or without wins: never infinity), 0.0 with losses and no win.
    expectancy_r: mean r_net; None without trades.
    avg_r: mean r_gross; None without trades.
    sqn: sqrt(N) * mean(r_net) / std(r_net, ddof=1) (Van Tharp, on R); None for N < 2 or a
        std <= 1e-12.
    max_drawdown: max over the marked curve of (running peak - equity) / running peak, the
        peak seeded with the starting 1.0; 0.0 when equity never falls (and without candles).
        It exceeds 1 when equity goes negative (never clipped).
    max_drawdown_closed: the same on the realised curve.
    sharpe: mean / std(ddof=1) * sqrt(P) of the daily returns (see `daily_returns`), P = 365
        when always_open else 252; None with fewer than 2 daily returns, a std <= 1e-12 or a
        non-finite return (equity at zero).
    sortino: mean / sqrt(mean(min(r, 0) ** 2)) * sqrt(P), downside over all days; None like
        sharpe, and when the downside deviation is <= 1e-12 (no losing day).
    total_return: final / initial - 1 (final = the last close of the marked curve, which is
        the realised equity since every trade is closed); 0.0 without candles.
    cagr: (final / initial) ** (365.25 days / span) - 1, span = last candle close - first
        candle open; None when span < 1 day or final <= 0; inf if the power overflows.
    calmar: cagr / max_drawdown; None when max_drawdown == 0 or cagr is None.
    exposure: fraction of the series' candles inside a trade (entry candle to exit candle,
        inclusive; overlapping trades counted once); None without candles.
    """
    trades: int
    wins: int
    losses: int
    breakevens: int
    win_rate: float | None
    profit_factor: float | None
    expectancy_r: float | None
    avg_r: float | None
    sqn: float | None
    max_drawdown: float
    max_drawdown_closed: float
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    cagr: float | None
    total_return: float
    exposure: float | None

    def as_dict(self) -> dict[str, int | float | None]:
        """Plain Python values by field name, for storage and asset metadata."""
        return asdict(self)


@dataclass(frozen=True)
class _Trade:
    signal: int  # position in the Signals / outcomes
    entry_index: int
    exit_index: int
    entry: float  # entry_fill_price
    risk: float  # R in price
    direction: int
    r_gross: float
    r_net: float
    legs: tuple  # (ts, price, fraction) of each leg


def _closed_trades(signals: Signals, outcomes: list[Outcome], n_candles: int) -> list[_Trade]:
    """The closed outcomes, checked, with what scoring needs from their signal."""
    if len(outcomes) != len(signals.index):
        raise ValueError(f"{len(outcomes)} outcomes for {len(signals.index)} signals: "
                         "outcomes[i] must be signal i's outcome")
    trades = []
    for i, outcome in enumerate(outcomes):
        if not outcome.closed:
            continue
        missing = [name for name in ("entry_index", "exit_index", "entry_fill_price", "r_gross",
                                     "r_net") if getattr(outcome, name) is None]
        if missing:
            raise ValueError(f"closed outcome {i} ({outcome.status}) lacks {', '.join(missing)}")
        entry_index, exit_index = int(outcome.entry_index), int(outcome.exit_index)
        if not 0 <= entry_index <= exit_index < n_candles:
            raise ValueError(f"outcome {i}: entry_index {entry_index} / exit_index {exit_index} "
                             f"outside 0..{n_candles - 1} or out of order")
        entry = float(outcome.entry_fill_price)
        risk = abs(entry - float(signals.stop[i]))
        if not risk > 0 and exit_index > entry_index:  # R only matters to mark an open trade
            raise ValueError(f"outcome {i}: entry_fill_price equals the stop, R is zero")
        trades.append(_Trade(
            signal=i, entry_index=entry_index, exit_index=exit_index, entry=entry, risk=risk,
            direction=int(signals.direction[i]), r_gross=float(outcome.r_gross),
            r_net=float(outcome.r_net),
            legs=tuple((int(leg.ts), float(leg.price), float(leg.fraction))
                       for leg in outcome.legs)))
    return trades


def _entry_cost_r(trade: _Trade) -> float:
    """The trade's costs in R apportioned to its entry by notional (see the module rules)."""
    exit_notional = sum(fraction * price for _, price, fraction in trade.legs)
    if exit_notional <= 0:  # no legs recorded: split evenly
        exit_notional = trade.entry
    return (trade.r_gross - trade.r_net) * trade.entry / (trade.entry + exit_notional)


def _equity(candles: Candles, trades: list[_Trade],
            risk_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(candles)
    booked = np.zeros(n)
    np.add.at(booked, np.array([t.exit_index for t in trades], dtype=np.int64),
              np.array([t.r_net for t in trades]))
    realised = 1.0 + risk_fraction * np.cumsum(booked)
    marks = np.zeros(n)  # R of the trades open at each close
    ts = np.asarray(candles.ts, dtype=np.int64)
    close = np.asarray(candles.close, dtype=np.float64)
    for t in trades:
        lo, hi = t.entry_index, t.exit_index
        if lo == hi:
            continue
        seg_ts = ts[lo:hi]
        done_r = np.zeros(hi - lo)
        remaining = np.ones(hi - lo)
        for leg_ts, price, fraction in t.legs:
            out = seg_ts >= leg_ts
            done_r += out * (fraction * t.direction * (price - t.entry) / t.risk)
            remaining -= out * fraction
        marks[lo:hi] += (done_r + remaining * t.direction * (close[lo:hi] - t.entry) / t.risk
                         - _entry_cost_r(t))
    return realised + risk_fraction * marks, realised


def equity_curves(candles: Candles, signals: Signals, outcomes: list[Outcome], *,
                  risk_fraction: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """(marked, realised) equity at each candle close of the series, both starting from 1.0
    before the first candle (the module docstring has the rules)."""
    return _equity(candles, _closed_trades(signals, outcomes, len(candles)), risk_fraction)


def daily_returns(candles: Candles, equity: np.ndarray) -> np.ndarray:
    """Percent change of equity between consecutive UTC days of the series.

    A day's equity is the curve at the close of its last candle, the day being that of the
    candle's open time. Days without candles (weekends, holidays, gaps) are skipped, not
    filled: consecutive means consecutive days present in the series. N days give N - 1
    returns; the starting 1.0 is not a day. Equity at zero gives inf / nan (never clipped)."""
    if len(candles) == 0:
        return np.empty(0)
    days = np.asarray(candles.ts, dtype=np.int64) // DAY_MS
    last = np.append(np.flatnonzero(np.diff(days) != 0), len(days) - 1)
    day_equity = np.asarray(equity, dtype=np.float64)[last]
    with np.errstate(divide="ignore", invalid="ignore"):
        return day_equity[1:] / day_equity[:-1] - 1.0


def _max_drawdown(equity: np.ndarray) -> float:
    if len(equity) == 0:
        return 0.0
    peak = np.maximum.accumulate(np.maximum(equity, 1.0))  # seeded with the starting 1.0
    return float(np.max((peak - equity) / peak))


def _ratios(returns: np.ndarray, periods: int) -> tuple[float | None, float | None]:
    if len(returns) < 2 or not np.all(np.isfinite(returns)):
        return None, None
    mean = float(np.mean(returns))
    std = float(np.std(returns, ddof=1))
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    scale = math.sqrt(periods)
    sharpe = mean / std * scale if std > EPS else None
    sortino = mean / downside * scale if downside > EPS else None
    return sharpe, sortino


def _cagr(final: float, span_ms: float) -> float | None:
    if span_ms < DAY_MS or final <= 0:
        return None
    try:
        return final ** (YEAR_MS / span_ms) - 1.0
    except OverflowError:
        return math.inf


def backtest_metrics(candles: Candles, signals: Signals, outcomes: list[Outcome], *,
                     always_open: bool, risk_fraction: float = 0.01) -> Metrics:
    """Score the closed trades among `outcomes` (outcomes[i] is signal i's) over `candles`.

    `always_open`: the market trades 24/7 (crypto), so a year has 365 daily returns, else 252.
    `risk_fraction`: the share of the starting equity each trade risks (no compounding).
    `Metrics` documents every value and when it is None; the module docstring the equity rules.
    Raises ValueError when outcomes and signals differ in length, or a closed outcome lacks an
    entry/exit index, fill price or R, has indices outside the series, or has R = 0 while it
    needs marking (entry before exit; an entry-candle exit, as on a gap through the stop, is
    booked at its r_net and needs no R).
    """
    n = len(candles)
    trades = _closed_trades(signals, outcomes, n)
    r_net = np.array([t.r_net for t in trades])
    r_gross = np.array([t.r_gross for t in trades])
    count = len(trades)

    breakeven = np.abs(r_net) <= EPS
    win = (r_net > 0) & ~breakeven
    loss = (r_net < 0) & ~breakeven
    wins, losses = int(win.sum()), int(loss.sum())
    gain, lost = float(r_net[win].sum()), float(-r_net[loss].sum())
    profit_factor = None if losses == 0 else gain / lost

    expectancy = float(r_net.mean()) if count else None
    sqn = None
    if count >= 2:
        std = float(np.std(r_net, ddof=1))
        if std > EPS:
            sqn = math.sqrt(count) * expectancy / std

    marked, realised = _equity(candles, trades, risk_fraction)
    max_dd = _max_drawdown(marked)
    periods = 365 if always_open else 252
    sharpe, sortino = _ratios(daily_returns(candles, marked), periods)

    final = float(marked[-1]) if n else 1.0
    span = float(int(candles.ts[-1]) + candles.step - int(candles.ts[0])) if n else 0.0
    cagr = _cagr(final, span)
    calmar = cagr / max_dd if cagr is not None and max_dd > 0 else None

    exposure = None
    if n:
        inside = np.zeros(n + 1, dtype=np.int64)
        np.add.at(inside, np.array([t.entry_index for t in trades], dtype=np.int64), 1)
        np.add.at(inside, np.array([t.exit_index + 1 for t in trades], dtype=np.int64), -1)
        exposure = float(np.count_nonzero(np.cumsum(inside[:n]) > 0) / n)

    return Metrics(
        trades=count, wins=wins, losses=losses, breakevens=int(breakeven.sum()),
        win_rate=wins / count if count else None,
        profit_factor=profit_factor,
        expectancy_r=expectancy,
        avg_r=float(r_gross.mean()) if count else None,
        sqn=sqn,
        max_drawdown=max_dd,
        max_drawdown_closed=_max_drawdown(realised),
        sharpe=sharpe, sortino=sortino, calmar=calmar, cagr=cagr,
        total_return=final - 1.0,
        exposure=exposure,
    )
