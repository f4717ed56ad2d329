-- See sql/postgresql/0005_unserved.sql: the same table with SQLite's types.
CREATE TABLE IF NOT EXISTS ohlcv_unserved (
    exchange    TEXT    NOT NULL,
    symbol      TEXT    NOT NULL,
    timeframe   TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    start_ts    TEXT    NOT NULL,
    end_ts      TEXT    NOT NULL,
    candles     INTEGER NOT NULL,
    recorded_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (exchange, symbol, timeframe, day, start_ts)
) WITHOUT ROWID;
