"""Where a symbol's stored prices jump or spike, found in the database.

Each candle is paired with its neighbours by window functions and only the flagged rows come
back, so checking years of 1m candles moves a handful of rows to Python, not millions.
A jump: the open is further than the threshold from the previous close. A spike: the close
is beyond the threshold from both neighbouring closes, in the same direction.
"""

_FLAGGED = """
SELECT ts, open, close, previous_close, jump, spike FROM (
    SELECT ts, open, close, previous_close,
           abs({open} / {previous} - 1) > :t AS jump,
           ({close} / {previous} - 1 > :t AND {close} / {following} - 1 > :t)
           OR ({close} / {previous} - 1 < -:t AND {close} / {following} - 1 < -:t) AS spike
    FROM (
        SELECT ts, open, close, lag(close) OVER w AS previous_close,
               lead(close) OVER w AS next_close
        FROM ohlcv
        WHERE {where}
        WINDOW w AS (ORDER BY ts)
    ) neighbours
) judged
WHERE jump OR spike
ORDER BY ts
"""

# Threshold comparisons need no exactness; SQLite keeps the exact decimals as text.
_AS_NUMBER = {"postgresql": "{}::float8", "sqlite": "CAST({} AS REAL)"}


def price_outliers_sql(backend: str, where: str) -> str:
    """SQL returning (ts, open, close, previous_close, jump, spike) of the flagged candles
    among those `where` selects; the threshold is the parameter :t."""
    number = _AS_NUMBER[backend]
    return _FLAGGED.format(where=where, open=number.format("open"), close=number.format("close"),
                           previous=number.format("previous_close"),
                           following=number.format("next_close"))
