"""Where stored candles jump by more than one timeframe.

A window function over the stored rows: each candle paired with the next one of its series,
kept where the step is longer than the timeframe. This is what a generate_series of the
expected open times anti-joined with the table finds, without materialising the expected
series. One series (the quality checks) or all of them at once (`titan list-data`) use the
same statement; only the rows it reads and the step differ.
"""

_PAIRED = """
SELECT exchange, symbol, timeframe, ts, next_ts FROM (
    SELECT exchange, symbol, timeframe, ts,
           lead(ts) OVER (PARTITION BY exchange, symbol, timeframe ORDER BY ts) AS next_ts
    FROM ohlcv WHERE closed = TRUE AND {where}
) paired
WHERE {longer_than_a_step}
ORDER BY exchange, symbol, timeframe, ts
"""

_LONGER = {
    "postgresql": "next_ts > ts + make_interval(secs => {step_s})",
    "sqlite": "CAST(strftime('%s', next_ts) AS INTEGER) - CAST(strftime('%s', ts) AS INTEGER) "
              "> {step_s}",
}

ONE_SERIES = "exchange = :e AND symbol = :s AND timeframe = :tf AND ts >= :a AND ts < :b"


def gaps_between_candles(backend: str, where: str = ONE_SERIES, step_s: str = ":step_s") -> str:
    """SQL returning (exchange, symbol, timeframe, ts, next_ts) for each closed candle
    followed by a gap, among the rows `where` selects; `step_s` is the timeframe in seconds,
    a parameter or an expression of the row's timeframe."""
    return _PAIRED.format(where=where,
                          longer_than_a_step=_LONGER[backend].format(step_s=step_s))
