-- See sql/postgresql/0007_signals.sql: the same tables with SQLite's types. Prices are
-- canonical decimal text, times ISO-8601 UTC text, JSON as text, ratios REAL (8-byte floats).

CREATE TABLE IF NOT EXISTS strategies (
    name       TEXT        NOT NULL,
    version    TEXT        NOT NULL,
    kind       TEXT        NOT NULL,
    params     TEXT       NOT NULL,
    risk       TEXT       NOT NULL,
    source     TEXT        NOT NULL,
    timeframe  TEXT        NOT NULL,
    active     INTEGER     NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (name, version)
);

CREATE TABLE IF NOT EXISTS signals (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    strategy         TEXT        NOT NULL,
    strategy_version TEXT        NOT NULL,
    exchange         TEXT        NOT NULL,
    symbol           TEXT        NOT NULL,
    timeframe        TEXT        NOT NULL,
    signal_ts        TEXT NOT NULL,
    direction        TEXT        NOT NULL CHECK (direction IN ('long', 'short')),
    reference_price  TEXT     NOT NULL,
    entry            TEXT     NOT NULL,
    stop_loss        TEXT     NOT NULL,
    take_profit_1    TEXT     NOT NULL,
    take_profit_2    TEXT     NOT NULL,
    confidence       REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    valid_until      TEXT NOT NULL,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (strategy, strategy_version, exchange, symbol, timeframe, signal_ts, direction),
    FOREIGN KEY (strategy, strategy_version) REFERENCES strategies (name, version)
);

CREATE TABLE IF NOT EXISTS outcomes (
    signal_id        INTEGER PRIMARY KEY REFERENCES signals (id) ON DELETE CASCADE,
    status           TEXT        NOT NULL CHECK (status IN ('pending', 'open', 'tp1', 'tp2',
                                 'stopped', 'breakeven', 'expired', 'not_filled')),
    entry_fill_ts    TEXT,
    entry_fill_price TEXT,
    tp1_hit          INTEGER     NOT NULL DEFAULT 0,
    tp1_hit_ts       TEXT,
    tp2_hit          INTEGER     NOT NULL DEFAULT 0,
    tp2_hit_ts       TEXT,
    sl_hit           INTEGER     NOT NULL DEFAULT 0,
    sl_hit_ts        TEXT,
    expired          INTEGER     NOT NULL DEFAULT 0,
    expired_ts       TEXT,
    exit_legs        TEXT       NOT NULL DEFAULT '[]',
    r_gross          REAL,
    r_net            REAL,
    ambiguous        INTEGER     NOT NULL DEFAULT 0,
    resolved_by      TEXT        CHECK (resolved_by IN ('1m', 'rule')),
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE IF NOT EXISTS backtest_results (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    strategy            TEXT        NOT NULL,
    strategy_version    TEXT        NOT NULL,
    exchange            TEXT        NOT NULL,
    symbol              TEXT        NOT NULL,
    timeframe           TEXT        NOT NULL,
    range_start         TEXT NOT NULL,
    range_end           TEXT NOT NULL,
    trades              INTEGER     NOT NULL,
    wins                INTEGER     NOT NULL,
    losses              INTEGER     NOT NULL,
    breakevens          INTEGER     NOT NULL,
    win_rate            REAL,
    profit_factor       REAL,
    expectancy_r        REAL,
    avg_r               REAL,
    sqn                 REAL,
    max_drawdown        REAL,
    max_drawdown_closed REAL,
    sharpe              REAL,
    sortino             REAL,
    calmar              REAL,
    cagr                REAL,
    total_return        REAL,
    exposure            REAL,
    ran_at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (strategy, strategy_version, exchange, symbol, timeframe, range_start, range_end),
    FOREIGN KEY (strategy, strategy_version) REFERENCES strategies (name, version)
);
