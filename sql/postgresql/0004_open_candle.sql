-- The still-open candle of each timeframe is stored too, marked closed = false, so queries
-- can include or exclude it (WHERE closed). It is overwritten as final once it closes.
ALTER TABLE ohlcv ADD COLUMN IF NOT EXISTS closed boolean NOT NULL DEFAULT true;
