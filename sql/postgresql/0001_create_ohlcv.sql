-- Candles: one row per exchange, symbol, timeframe and open time (UTC). NUMERIC keeps the
-- exchange's decimal prices and volumes exact; a corrected candle overwrites its row.
CREATE TABLE IF NOT EXISTS ohlcv (
    exchange  text        NOT NULL,
    symbol    text        NOT NULL,
    timeframe text        NOT NULL,
    ts        timestamptz NOT NULL,
    open      numeric     NOT NULL,
    high      numeric     NOT NULL,
    low       numeric     NOT NULL,
    close     numeric     NOT NULL,
    volume    numeric     NOT NULL,
    PRIMARY KEY (exchange, symbol, timeframe, ts)
);

-- Closed UTC days whose candles were all fetched: re-runs skip them without a request.
-- A day is only recorded after its candles were committed.
CREATE TABLE IF NOT EXISTS ohlcv_complete_days (
    exchange     text        NOT NULL,
    symbol       text        NOT NULL,
    timeframe    text        NOT NULL,
    day          date        NOT NULL,
    candles      integer     NOT NULL,
    completed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol, timeframe, day)
);
