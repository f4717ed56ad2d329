-- Forex and metal candles have no volume (Twelve Data serves none for them): NULL, never a
-- made-up 0. Which series may lack it is the candle schema's business (validation).
ALTER TABLE ohlcv ALTER COLUMN volume DROP NOT NULL;

-- Credits a metered source (Twelve Data) charged per UTC day. Every run reserves its
-- requests here before sending them, so separate processes share one daily allowance.
CREATE TABLE IF NOT EXISTS source_credits (
    source text    NOT NULL,
    day    date    NOT NULL,
    used   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (source, day)
);
