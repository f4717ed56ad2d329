"""A strategy over one series, end to end and without Dagster: candles from the warehouse,
signals, their levels, their outcomes, the rows the signal tables store.

Indicators are always computed from the series' first stored candle, whatever range is
asked: an indicator with memory (Wilder's RSI, ATR) then has the same value at a candle
whether the range is one day or five years, so day-by-day runs equal one run over the range.
"""

from collections.abc import Callable
from datetime import datetime

import numpy as np

from titan_dagster.calendars import calendar_of
from titan_dagster.config.strategies import StrategySettings
from titan_dagster.signals.engine import evaluate
from titan_dagster.signals.kinds import run_kind
from titan_dagster.signals.levels import levels
from titan_dagster.signals.model import Candles, Outcome, Signals
from titan_dagster.timeframes import timeframe_ms
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.signal_store import SignalRow


def read_series(store: Warehouse, exchange: str, symbol: str, timeframe: str,
                start: datetime | None = None, end: datetime | None = None) -> Candles:
    """Every closed candle of a series in [start, end), as float64 arrays for the engine."""
    frame = store.read_candles(exchange, symbol, timeframe, start, end, exact=False)
    return Candles(
        ts=(frame["ts"].astype("int64") // 1_000_000).to_numpy(dtype=np.int64),
        open=frame["open"].to_numpy(), high=frame["high"].to_numpy(),
        low=frame["low"].to_numpy(), close=frame["close"].to_numpy(),
        volume=frame["volume"].fillna(0.0).to_numpy(), step=timeframe_ms(timeframe))


MINUTE_MS = 60_000
MinuteReader = Callable[[int, int], Candles]  # the 1m candles with open time in [a, b)


def run_strategy(strategy: StrategySettings, symbol: str, candles: Candles,
                 read_minute: MinuteReader | None = None) -> tuple[Signals, list[Outcome]]:
    """Signals and outcomes of one symbol. Where a candle touched both the stop and a
    target, the stored 1m candles of that candle decide, read for those candles only (a
    decision there can let the trade run into another such candle: asked again until no new
    one turns up)."""
    signals = compute_signals(strategy, symbol, candles)
    outcomes = evaluate(candles, signals, strategy.risk)
    read: dict[int, Candles] = {}  # by the open time of the candle they lie in
    while read_minute is not None:
        ambiguous = {int(candles.ts[o.exit_index]) for o in outcomes
                     if o.ambiguous and o.exit_index is not None} - set(read)
        if not ambiguous:
            break
        read |= {ts: read_minute(ts, ts + candles.step) for ts in ambiguous}
        minute = _joined([read[ts] for ts in sorted(read)], MINUTE_MS)
        outcomes = evaluate(candles, signals, strategy.risk, minute)
    return signals, outcomes


def _joined(parts: list[Candles], step: int) -> Candles:
    names = ("ts", "open", "high", "low", "close", "volume")
    return Candles(*(np.concatenate([getattr(p, name) for p in parts]) for name in names),
                   step=step)


def compute_signals(strategy: StrategySettings, symbol: str, candles: Candles) -> Signals:
    """Signals with their levels. Indicators restart after a gap the market's calendar says
    should hold candles, never bridge it."""
    calendar, step = calendar_of(strategy.source, symbol), candles.step

    def missing_between(a: int, b: int) -> bool:
        return calendar.count(a + step, b, step) > 0

    raw = run_kind(strategy.kind, candles, strategy.params, missing_between=missing_between)
    return levels(candles, raw, strategy.risk, missing_between=missing_between)


def signal_rows(strategy: StrategySettings, candles: Candles, signals: Signals
                ) -> list[SignalRow]:
    """What the signals table stores: the signal at its candle's close time, the market entry
    at the reference price, valid for `entry_valid_candles` candles."""
    step = candles.step
    valid = strategy.risk.entry_valid_candles * step
    return [SignalRow(signal_ts=int(candles.ts[i]) + step,
                      direction="long" if direction > 0 else "short",
                      reference_price=repr(float(ref)), entry=repr(float(ref)),
                      stop_loss=repr(float(stop)), take_profit_1=repr(float(tp1)),
                      take_profit_2=repr(float(tp2)), confidence=float(confidence),
                      valid_until=int(candles.ts[i]) + step + valid)
            for i, direction, confidence, ref, stop, tp1, tp2 in zip(
                signals.index, signals.direction, signals.confidence, signals.ref,
                signals.stop, signals.tp1, signals.tp2, strict=True)]
