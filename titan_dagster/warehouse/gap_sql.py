"""Where a symbol's stored candles jump by more than one timeframe.

A window function over the stored rows: each candle paired with the next one, kept where the
step is longer than the timeframe. This is what a generate_series of the expected open times
anti-joined with the table finds, without materialising the expected series.
"""

_INNER = """
SELECT ts, next_ts FROM (
    SELECT ts, lead(ts) OVER (ORDER BY ts) AS next_ts FROM ohlcv
    WHERE exchange = :e AND symbol = :s AND timeframe = :tf AND ts >= :a AND ts < :b
      AND closed = TRUE
) paired
WHERE {longer_than_a_step}
ORDER BY ts
"""

_LONGER = {
    "postgresql": "next_ts > ts + make_interval(secs => :step_s)",
    "sqlite": "CAST(strftime('%s', next_ts) AS INTEGER) - CAST(strftime('%s', ts) AS INTEGER) "
              "> :step_s",
}


def gaps_between_candles(backend: str) -> str:
    """SQL returning (ts, next_ts) for each stored candle followed by a gap."""
    return _INNER.format(longer_than_a_step=_LONGER[backend])
