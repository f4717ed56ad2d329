-- Live against backtest. A strategy version goes live at `live_since` (titan.yaml's
-- live_since, or the first time the warehouse recorded it active): its signals from then on
-- are its live record, the ones before its backtest.
ALTER TABLE strategies ADD COLUMN IF NOT EXISTS live_since timestamptz;

-- One row per strategy version, symbol and day: the record as of the end of `as_of` (trades
-- closed by then), live beside backtest, and whether live falls outside what the backtest
-- makes plausible (README: the degradation rule). R figures are ratios: double precision.
CREATE TABLE IF NOT EXISTS strategy_performance (
    strategy                text        NOT NULL,
    strategy_version        text        NOT NULL,
    exchange                text        NOT NULL,
    symbol                  text        NOT NULL,
    timeframe               text        NOT NULL,
    as_of                   date        NOT NULL,
    live_since              timestamptz NOT NULL,
    live_trades             integer     NOT NULL,
    live_win_rate           double precision,
    live_expectancy_r       double precision,
    live_profit_factor      double precision,
    live_max_drawdown_r     double precision NOT NULL,
    backtest_trades         integer     NOT NULL,
    backtest_win_rate       double precision,
    backtest_expectancy_r   double precision,
    backtest_profit_factor  double precision,
    backtest_max_drawdown_r double precision NOT NULL,
    expectancy_floor_r      double precision,
    degraded                boolean     NOT NULL,
    reason                  text        NOT NULL,
    computed_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (strategy, strategy_version, exchange, symbol, timeframe, as_of),
    FOREIGN KEY (strategy, strategy_version) REFERENCES strategies (name, version)
);
