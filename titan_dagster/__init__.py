"""titan_dagster: a self-hosted OHLCV market-data warehouse built on Dagster."""
