-- Candle slots the exchange's REST API no longer serves (Kraken: only its last 720 candles),
-- per day: neither complete nor gaps. Their days are not fetched again, and the checks and
-- the gap report say "not served" instead of calling them healable.
CREATE TABLE IF NOT EXISTS ohlcv_unserved (
    exchange    text        NOT NULL,
    symbol      text        NOT NULL,
    timeframe   text        NOT NULL,
    day         date        NOT NULL,
    start_ts    timestamptz NOT NULL,  -- first open time not served
    end_ts      timestamptz NOT NULL,  -- open time after the last one
    candles     integer     NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol, timeframe, day, start_ts)
);
