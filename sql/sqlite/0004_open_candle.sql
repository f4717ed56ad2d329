-- See sql/postgresql/0004_open_candle.sql. 1 = closed, 0 = still open.
ALTER TABLE ohlcv ADD COLUMN closed INTEGER NOT NULL DEFAULT 1;
