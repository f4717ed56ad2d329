-- See sql/postgresql/0008_strategy_performance.sql: the same in SQLite's types (as_of is
-- YYYY-MM-DD text, times ISO-8601 UTC text).
ALTER TABLE strategies ADD COLUMN live_since TEXT;

CREATE TABLE IF NOT EXISTS strategy_performance (
    strategy                TEXT    NOT NULL,
    strategy_version        TEXT    NOT NULL,
    exchange                TEXT    NOT NULL,
    symbol                  TEXT    NOT NULL,
    timeframe               TEXT    NOT NULL,
    as_of                   TEXT    NOT NULL,
    live_since              TEXT    NOT NULL,
    live_trades             INTEGER NOT NULL,
    live_win_rate           REAL,
    live_expectancy_r       REAL,
    live_profit_factor      REAL,
    live_max_drawdown_r     REAL    NOT NULL,
    backtest_trades         INTEGER NOT NULL,
    backtest_win_rate       REAL,
    backtest_expectancy_r   REAL,
    backtest_profit_factor  REAL,
    backtest_max_drawdown_r REAL    NOT NULL,
    expectancy_floor_r      REAL,
    degraded                INTEGER NOT NULL,
    reason                  TEXT    NOT NULL,
    computed_at             TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (strategy, strategy_version, exchange, symbol, timeframe, as_of),
    FOREIGN KEY (strategy, strategy_version) REFERENCES strategies (name, version)
);
