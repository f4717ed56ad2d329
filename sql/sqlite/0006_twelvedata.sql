-- See sql/postgresql/0006_twelvedata.sql. SQLite cannot drop a NOT NULL constraint in place:
-- the table is rebuilt, inside the migration's transaction, with every row kept.
CREATE TABLE ohlcv_nullable_volume (
    exchange  TEXT    NOT NULL,
    symbol    TEXT    NOT NULL,
    timeframe TEXT    NOT NULL,
    ts        TEXT    NOT NULL,
    open      TEXT    NOT NULL,
    high      TEXT    NOT NULL,
    low       TEXT    NOT NULL,
    close     TEXT    NOT NULL,
    volume    TEXT,
    closed    INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (exchange, symbol, timeframe, ts)
) WITHOUT ROWID;
INSERT INTO ohlcv_nullable_volume (exchange, symbol, timeframe, ts, open, high, low, close,
                                   volume, closed)
SELECT exchange, symbol, timeframe, ts, open, high, low, close, volume, closed FROM ohlcv;
DROP TABLE ohlcv;
ALTER TABLE ohlcv_nullable_volume RENAME TO ohlcv;

CREATE TABLE IF NOT EXISTS source_credits (
    source TEXT    NOT NULL,
    day    TEXT    NOT NULL,
    used   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, day)
) WITHOUT ROWID;
