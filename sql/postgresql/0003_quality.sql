-- Quarantine: rows an exchange served that are not valid candles, kept verbatim with the
-- rules they broke. They are never in ohlcv; re-fetching their days replaces them.
CREATE TABLE IF NOT EXISTS ohlcv_rejects (
    id          bigserial   PRIMARY KEY,
    exchange    text        NOT NULL,
    symbol      text        NOT NULL,
    timeframe   text        NOT NULL,
    day         date        NOT NULL,   -- the UTC day (partition) the row was fetched for
    ts_ms       bigint,                 -- open time as served, ms (may be misaligned)
    open        text,
    high        text,
    low         text,
    close       text,
    volume      text,
    rule        text        NOT NULL,   -- the schema rules it failed, comma-separated
    rejected_at timestamptz NOT NULL DEFAULT now(),
    run_id      text
);
CREATE INDEX IF NOT EXISTS ohlcv_rejects_key ON ohlcv_rejects (exchange, symbol, timeframe, day);

-- Exchange-side gaps: candles a targeted re-request confirmed the exchange does not have
-- (maintenance windows, halts). Reported as warnings and not fetched again.
CREATE TABLE IF NOT EXISTS ohlcv_gaps (
    exchange     text        NOT NULL,
    symbol       text        NOT NULL,
    timeframe    text        NOT NULL,
    start_ts     timestamptz NOT NULL,  -- first missing open time
    end_ts       timestamptz NOT NULL,  -- open time after the last missing candle
    candles      integer     NOT NULL,
    confirmed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol, timeframe, start_ts)
);
