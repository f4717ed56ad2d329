-- See sql/postgresql/0003_quality.sql: the same tables with SQLite's types.
CREATE TABLE IF NOT EXISTS ohlcv_rejects (
    id          INTEGER PRIMARY KEY,
    exchange    TEXT NOT NULL,
    symbol      TEXT NOT NULL,
    timeframe   TEXT NOT NULL,
    day         TEXT NOT NULL,
    ts_ms       INTEGER,
    open        TEXT,
    high        TEXT,
    low         TEXT,
    close       TEXT,
    volume      TEXT,
    rule        TEXT NOT NULL,
    rejected_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    run_id      TEXT
);
CREATE INDEX IF NOT EXISTS ohlcv_rejects_key ON ohlcv_rejects (exchange, symbol, timeframe, day);

CREATE TABLE IF NOT EXISTS ohlcv_gaps (
    exchange     TEXT    NOT NULL,
    symbol       TEXT    NOT NULL,
    timeframe    TEXT    NOT NULL,
    start_ts     TEXT    NOT NULL,
    end_ts       TEXT    NOT NULL,
    candles      INTEGER NOT NULL,
    confirmed_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (exchange, symbol, timeframe, start_ts)
) WITHOUT ROWID;
