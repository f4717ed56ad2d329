"""No look-ahead, checked: a signal recomputed from the candles up to its own candle, and no
later one, must come out exactly as it was computed from the whole series."""

import numpy as np

from titan_dagster.config.strategies import StrategySettings
from titan_dagster.signals.model import Candles, Signals
from titan_dagster.signals.pipeline import compute_signals

SAMPLE = 20


def sample(positions: list[int], size: int = SAMPLE) -> list[int]:
    """Up to `size` of them, spread evenly from the first to the last (deterministic)."""
    if len(positions) <= size:
        return positions
    return [positions[i] for i in np.linspace(0, len(positions) - 1, size).round().astype(int)]


def lookahead_mismatches(strategy: StrategySettings, symbol: str, candles: Candles,
                         signals: Signals, picks: list[int]) -> list[str]:
    """What differs, one line per picked signal whose recomputation on truncated candles
    does not reproduce it (empty: none)."""
    problems = []
    for j in picks:
        t = int(signals.index[j])
        truncated = Candles(*(getattr(candles, name)[:t + 1] for name in
                              ("ts", "open", "high", "low", "close", "volume")),
                            step=candles.step)
        again = compute_signals(strategy, symbol, truncated)
        same = np.flatnonzero((again.index == t) & (again.direction == signals.direction[j]))
        if not len(same):
            problems.append(f"{symbol} signal at candle {t}: not produced from candles up to it")
            continue
        k = int(same[0])
        fields = ("confidence", "ref", "stop", "tp1", "tp2")
        differ = [name for name in fields
                  if getattr(again, name)[k] != getattr(signals, name)[j]]
        if differ:
            problems.append(f"{symbol} signal at candle {t}: {', '.join(differ)} differ from "
                            "candles up to it")
    return problems
