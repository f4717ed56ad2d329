"""A slice of a series as one value: its candles as tab-separated lines, oldest first, joined
by the database. Fetching a row (or a COPY message) per candle cost more client CPU than the
rest of the read: psycopg spends ~1.5 us on each of a year's 525,600 COPY messages. One
value per slice leaves the client a single buffer for Arrow's CSV parser.

Line: ts, open, high, low, close, volume (empty where NULL)[, closed as t/f]. The values are
the stored text (PostgreSQL's numeric output, SQLite's canonical decimal text); ts is
PostgreSQL's ISO output with its UTC offset, or SQLite's ISO-8601 UTC text.
"""

_PRICES = ["open", "high", "low", "close"]


def candle_text_sql(backend: str, where: str, include_open: bool) -> str:
    """`where` selects one slice of one series. The lines are aggregated from a subquery
    ordered by ts (an aggregate ORDER BY would sort the slice again, ~30% more server time);
    the parser checks the order it gets."""
    if backend == "postgresql":
        fields = ["ts", *_PRICES, "coalesce(volume::text, '')", *(["closed"] * include_open)]
        line = f"concat_ws(E'\\t', {', '.join(fields)})"
        return (f"SELECT convert_to(string_agg({line}, E'\\n'), 'UTF8') FROM "
                f"(SELECT * FROM ohlcv WHERE {where} ORDER BY ts) AS slice")
    fields = ["ts", *_PRICES, "coalesce(volume, '')",
              *(["CASE WHEN closed THEN 't' ELSE 'f' END"] * include_open)]
    line = " || char(9) || ".join(fields)
    return (f"SELECT CAST(group_concat({line}, char(10)) AS BLOB) FROM "
            f"(SELECT * FROM ohlcv WHERE {where} ORDER BY ts) AS slice")
