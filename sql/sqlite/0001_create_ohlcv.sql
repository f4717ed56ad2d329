-- The embedded warehouse. SQLite has no exact NUMERIC, so prices and volumes are stored as
-- canonical decimal text ('42123.45') and read back as Decimal; ts is ISO-8601 UTC text
-- ('2024-01-01T00:00:00Z'), which sorts in time order and works with SQLite's date functions.
CREATE TABLE IF NOT EXISTS ohlcv (
    exchange  TEXT NOT NULL,
    symbol    TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    ts        TEXT NOT NULL,
    open      TEXT NOT NULL,
    high      TEXT NOT NULL,
    low       TEXT NOT NULL,
    close     TEXT NOT NULL,
    volume    TEXT NOT NULL,
    PRIMARY KEY (exchange, symbol, timeframe, ts)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ohlcv_complete_days (
    exchange     TEXT    NOT NULL,
    symbol       TEXT    NOT NULL,
    timeframe    TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    candles      INTEGER NOT NULL,
    completed_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (exchange, symbol, timeframe, day)
) WITHOUT ROWID;
