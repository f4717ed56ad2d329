-- TimescaleDB, only where the server can load it; plain PostgreSQL is complete without it.
-- Chunks are compressed once they are 30 days old: exchanges correct recent candles, and
-- upserts into compressed chunks are slow (timescaledb #5801, #8400).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
       AND current_setting('shared_preload_libraries') LIKE '%timescaledb%' THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        PERFORM create_hypertable('ohlcv', by_range('ts', INTERVAL '7 days'),
                                  if_not_exists => TRUE, migrate_data => TRUE);
        EXECUTE 'ALTER TABLE ohlcv SET (timescaledb.compress, '
             || 'timescaledb.compress_segmentby = ''exchange, symbol, timeframe'', '
             || 'timescaledb.compress_orderby = ''ts DESC'')';
        PERFORM add_compression_policy('ohlcv', INTERVAL '30 days', if_not_exists => TRUE);
    END IF;
END
$$;
