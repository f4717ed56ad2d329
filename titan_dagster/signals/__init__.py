"""The trading-signal domain: strategies turn candles into signals, the engine tracks each
signal's outcome forward through later candles, metrics score a strategy. Plain Python and
numpy, no Dagster: the assets in defs/signals wire them to the warehouse."""
