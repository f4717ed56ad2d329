"""Twelve Data: forex, metals and US stocks, over its REST API (/time_series)."""
