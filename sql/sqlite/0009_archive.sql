-- See sql/postgresql/0009_archive.sql: the same tables with SQLite's types (values as exact
-- decimal text, like ohlcv's).
CREATE TABLE IF NOT EXISTS ohlcv_archive_days (
    exchange         TEXT    NOT NULL,
    symbol           TEXT    NOT NULL,
    timeframe        TEXT    NOT NULL,
    day              TEXT    NOT NULL,
    file             TEXT    NOT NULL,
    sha256           TEXT    NOT NULL,
    stored_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    rest_checked_at  TEXT,
    rest_candles     INTEGER,
    rest_differences INTEGER,
    PRIMARY KEY (exchange, symbol, timeframe, day)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ohlcv_archive_differences (
    exchange      TEXT NOT NULL,
    symbol        TEXT NOT NULL,
    timeframe     TEXT NOT NULL,
    ts            TEXT NOT NULL,
    archive_open  TEXT, archive_high TEXT, archive_low TEXT, archive_close TEXT,
    archive_volume TEXT,
    rest_open     TEXT, rest_high TEXT, rest_low TEXT, rest_close TEXT, rest_volume TEXT,
    found_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (exchange, symbol, timeframe, ts)
) WITHOUT ROWID;
