-- Days stored from Binance's kline archive (data.binance.vision), with the file that gave
-- them and its SHA-256 (checked against the file's CHECKSUM), written in the transaction
-- that records the day complete. A sample of them is re-fetched over REST and compared
-- candle by candle (the archive_matches_rest check); rest_* stay NULL until then.
CREATE TABLE IF NOT EXISTS ohlcv_archive_days (
    exchange         text        NOT NULL,
    symbol           text        NOT NULL,
    timeframe        text        NOT NULL,
    day              date        NOT NULL,
    file             text        NOT NULL,
    sha256           text        NOT NULL,
    stored_at        timestamptz NOT NULL DEFAULT now(),
    rest_checked_at  timestamptz,
    rest_candles     integer,  -- candles REST served for the day when compared
    rest_differences integer,  -- candles that differed (each is in ohlcv_archive_differences)
    PRIMARY KEY (exchange, symbol, timeframe, day)
);

-- Each candle on which the archive and REST disagreed; REST's values are what ohlcv holds.
-- A side that had no candle for the slot is NULL.
CREATE TABLE IF NOT EXISTS ohlcv_archive_differences (
    exchange      text        NOT NULL,
    symbol        text        NOT NULL,
    timeframe     text        NOT NULL,
    ts            timestamptz NOT NULL,
    archive_open  numeric, archive_high numeric, archive_low numeric, archive_close numeric,
    archive_volume numeric,
    rest_open     numeric, rest_high numeric, rest_low numeric, rest_close numeric,
    rest_volume   numeric,
    found_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol, timeframe, ts)
);
