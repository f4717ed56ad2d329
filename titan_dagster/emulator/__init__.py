"""A Binance-compatible exchange emulator the project owns, for tests, benchmarks and demos."""

from titan_dagster.emulator.server import (
    ALL_FAULTS,
    DEFAULT_LISTINGS,
    BinanceEmulator,
    Fault,
    RequestRecord,
)

__all__ = ["ALL_FAULTS", "DEFAULT_LISTINGS", "BinanceEmulator", "Fault", "RequestRecord"]
