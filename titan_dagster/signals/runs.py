"""One run of a strategy over a range of days, for every symbol, without Dagster: signals,
outcomes and a backtest per symbol, stored in the signal tables."""

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from titan_dagster.calendars import CRYPTO, calendar_of
from titan_dagster.config.strategies import StrategySettings
from titan_dagster.signals.lookahead import lookahead_mismatches, sample
from titan_dagster.signals.metrics import Metrics, backtest_metrics
from titan_dagster.signals.model import Candles, Outcome, Signals
from titan_dagster.signals.performance import Performance, performance_by_day
from titan_dagster.signals.pipeline import read_series, run_strategy, signal_rows
from titan_dagster.signals.report import report_path, write_report
from titan_dagster.state import state_dir
from titan_dagster.timeframes import DAY_MS, day_start_ms, days_between, now_ms, to_datetime
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.signal_store import SeriesKey, SignalStore


@dataclass
class SymbolRun:
    symbol: str
    candles: int = 0
    signals: int = 0  # with signal_ts in the range
    outcomes: dict[str, int] = field(default_factory=dict)  # status -> count, range and open
    metrics: Metrics | None = None
    report: Path | None = None  # the backtest's HTML report
    lookahead: list[str] = field(default_factory=list)  # mismatches found by the check
    lookahead_checked: int = 0
    live_since: int | None = None  # epoch ms; None while the strategy never was active
    performance: Performance | None = None  # as of the range's last day (or today)


def run_range(strategy: StrategySettings, store: Warehouse, symbol: str, first: date,
              last: date, *, backtest: bool = True, check_lookahead: bool = False,
              performance: bool = True) -> SymbolRun:
    """Signals whose signal_ts falls in [first, last], their outcomes, the outcomes of older
    signals still unresolved, the backtest of the range and the live-against-backtest record
    as of each of its days since going live. Candles after the range are read too: outcomes
    are tracked forward through every stored candle, never signals."""
    signals_store = SignalStore(store)
    key = SeriesKey(strategy.name, strategy.version, strategy.source, symbol,
                    strategy.timeframe)
    live_since = signals_store.record_strategy(
        strategy.name, strategy.version, strategy.kind, strategy.params, asdict(strategy.risk),
        strategy.source, strategy.timeframe, strategy.active, strategy.live_since)
    candles = read_series(store, strategy.source, symbol, strategy.timeframe)
    run = SymbolRun(symbol, candles=len(candles), live_since=live_since)
    if not len(candles):
        return run

    def read_minute(start: int, end: int) -> Candles:
        return read_series(store, strategy.source, symbol, "1m", to_datetime(start),
                           to_datetime(end))

    signals, outcomes = run_strategy(strategy, symbol, candles,
                                     read_minute if strategy.timeframe != "1m" else None)
    rows = signal_rows(strategy, candles, signals)
    start, end = day_start_ms(first), day_start_ms(last) + DAY_MS
    unresolved = set(signals_store.unresolved_signal_times(key))
    chosen = [i for i, row in enumerate(rows)
              if start <= row.signal_ts < end or row.signal_ts in unresolved]
    in_range = [i for i in chosen if start <= rows[i].signal_ts < end]
    # Older signals are stored already (kept as they are); their ids come back all the same.
    ids = signals_store.write_signals(key, [rows[i] for i in chosen])
    signals_store.write_outcomes((ids[(rows[i].signal_ts, rows[i].direction)], outcomes[i])
                                 for i in chosen)
    run.signals = len(in_range)
    if check_lookahead:
        picks = sample(in_range)
        run.lookahead = lookahead_mismatches(strategy, symbol, candles, signals, picks)
        run.lookahead_checked = len(picks)
    for i in chosen:
        run.outcomes[outcomes[i].status] = run.outcomes.get(outcomes[i].status, 0) + 1
    if backtest:
        _backtest(strategy, signals_store, key, run, candles, signals, outcomes, start, end)
    if performance and live_since is not None:
        _performance(strategy, signals_store, key, run, candles, rows, outcomes, first, last)
    return run


def _performance(strategy: StrategySettings, signals_store: SignalStore, key: SeriesKey,
                 run: SymbolRun, candles: Candles, rows: list, outcomes: list[Outcome],
                 first: date, last: date) -> None:
    """The record as of each day of the range from the day the strategy went live to today."""
    closed = [i for i, outcome in enumerate(outcomes) if outcome.closed]
    signal_ts = np.array([rows[i].signal_ts for i in closed], dtype=np.int64)
    closed_ts = np.array([int(candles.ts[outcomes[i].exit_index]) for i in closed],
                         dtype=np.int64) + candles.step
    r_net = np.array([outcomes[i].r_net for i in closed], dtype=np.float64)
    start = max(first, to_datetime(run.live_since).date())
    stop = min(last, to_datetime(now_ms()).date())
    days = days_between(start, stop)
    records = performance_by_day(signal_ts, closed_ts, r_net, run.live_since, days,
                                 strategy.min_live_trades)
    signals_store.write_performance(key, run.live_since, records)
    run.performance = records[-1] if records else None


def _backtest(strategy: StrategySettings, signals_store: SignalStore, key: SeriesKey,
              run: SymbolRun, candles: Candles, signals: Signals, outcomes: list[Outcome],
              start: int, end: int) -> None:
    """The range's candles and the trades of the signals inside it, scored."""
    lo, hi = np.searchsorted(candles.ts, [start, end])
    window = Candles(*(getattr(candles, name)[lo:hi] for name in
                       ("ts", "open", "high", "low", "close", "volume")), step=candles.step)
    picked = [j for j, i in enumerate(signals.index) if lo <= i < hi]
    shifted = Signals(index=signals.index[picked] - lo, direction=signals.direction[picked],
                      confidence=signals.confidence[picked], ref=signals.ref[picked],
                      stop=signals.stop[picked], tp1=signals.tp1[picked],
                      tp2=signals.tp2[picked])
    trades = [_within(outcomes[j], lo, hi) for j in picked]
    always_open = calendar_of(strategy.source, key.symbol) is CRYPTO
    run.metrics = backtest_metrics(window, shifted, trades, always_open=always_open)
    signals_store.write_backtest(key, start, end, run.metrics.as_dict())
    run.report = write_report(
        report_path(state_dir(), strategy.name, strategy.version, key.symbol),
        strategy=strategy.name, version=strategy.version, symbol=key.symbol,
        timeframe=strategy.timeframe, candles=window, signals=shifted, outcomes=trades,
        metrics=run.metrics)


def _within(outcome: Outcome, lo: int, hi: int) -> Outcome:
    """An outcome with candle positions relative to the range; a trade still running at the
    range's end is not a trade of the backtest (it is `open` there)."""
    if outcome.exit_index is not None and outcome.exit_index >= hi:
        return Outcome("open", entry_index=None if outcome.entry_index is None
                       else outcome.entry_index - lo)
    return Outcome(**{**outcome.__dict__,
                      "entry_index": None if outcome.entry_index is None
                      else outcome.entry_index - lo,
                      "exit_index": None if outcome.exit_index is None
                      else outcome.exit_index - lo})
