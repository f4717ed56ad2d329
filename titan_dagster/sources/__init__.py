"""Candle sources that are not ccxt exchanges (those live in titan_dagster/exchange)."""
