-- The trading-signal domain. Prices stay exact (numeric); R multiples and metrics are
-- ratios that can be absurd on a short range (a CAGR of 1e30), so double precision, never a
-- narrow numeric(10, 4).

-- One row per version of a strategy: editing its kind, params, risk or timeframe in
-- titan.yaml makes a new version; the rows of the old one stay, never mixed with the new.
CREATE TABLE IF NOT EXISTS strategies (
    name       text        NOT NULL,
    version    text        NOT NULL,
    kind       text        NOT NULL,
    params     jsonb       NOT NULL,
    risk       jsonb       NOT NULL,
    source     text        NOT NULL,
    timeframe  text        NOT NULL,
    active     boolean     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

-- signal_ts is the close time of the candle that produced the signal; reference_price that
-- candle's close, from which stop and targets were fixed.
CREATE TABLE IF NOT EXISTS signals (
    id               bigserial   PRIMARY KEY,
    strategy         text        NOT NULL,
    strategy_version text        NOT NULL,
    exchange         text        NOT NULL,
    symbol           text        NOT NULL,
    timeframe        text        NOT NULL,
    signal_ts        timestamptz NOT NULL,
    direction        text        NOT NULL CHECK (direction IN ('long', 'short')),
    reference_price  numeric     NOT NULL,
    entry            numeric     NOT NULL,
    stop_loss        numeric     NOT NULL,
    take_profit_1    numeric     NOT NULL,
    take_profit_2    numeric     NOT NULL,
    confidence       double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    valid_until      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (strategy, strategy_version, exchange, symbol, timeframe, signal_ts, direction),
    FOREIGN KEY (strategy, strategy_version) REFERENCES strategies (name, version)
);

CREATE TABLE IF NOT EXISTS outcomes (
    signal_id        bigint      PRIMARY KEY REFERENCES signals (id) ON DELETE CASCADE,
    status           text        NOT NULL CHECK (status IN ('pending', 'open', 'tp1', 'tp2',
                                 'stopped', 'breakeven', 'expired', 'not_filled')),
    entry_fill_ts    timestamptz,
    entry_fill_price numeric,
    tp1_hit          boolean     NOT NULL DEFAULT false,
    tp1_hit_ts       timestamptz,
    tp2_hit          boolean     NOT NULL DEFAULT false,
    tp2_hit_ts       timestamptz,
    sl_hit           boolean     NOT NULL DEFAULT false,
    sl_hit_ts        timestamptz,
    expired          boolean     NOT NULL DEFAULT false,
    expired_ts       timestamptz,
    exit_legs        jsonb       NOT NULL DEFAULT '[]',
    r_gross          double precision,
    r_net            double precision,
    ambiguous        boolean     NOT NULL DEFAULT false,
    resolved_by      text        CHECK (resolved_by IN ('1m', 'rule')),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS backtest_results (
    id                  bigserial   PRIMARY KEY,
    strategy            text        NOT NULL,
    strategy_version    text        NOT NULL,
    exchange            text        NOT NULL,
    symbol              text        NOT NULL,
    timeframe           text        NOT NULL,
    range_start         timestamptz NOT NULL,
    range_end           timestamptz NOT NULL,
    trades              integer     NOT NULL,
    wins                integer     NOT NULL,
    losses              integer     NOT NULL,
    breakevens          integer     NOT NULL,
    win_rate            double precision,
    profit_factor       double precision,
    expectancy_r        double precision,
    avg_r               double precision,
    sqn                 double precision,
    max_drawdown        double precision,
    max_drawdown_closed double precision,
    sharpe              double precision,
    sortino             double precision,
    calmar              double precision,
    cagr                double precision,
    total_return        double precision,
    exposure            double precision,
    ran_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (strategy, strategy_version, exchange, symbol, timeframe, range_start, range_end),
    FOREIGN KEY (strategy, strategy_version) REFERENCES strategies (name, version)
);
