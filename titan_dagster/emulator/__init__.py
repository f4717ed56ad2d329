"""Exchange emulators the project owns, one per exchange kind, for tests, benchmarks and demos:
each serves that exchange's public REST endpoints as its real ccxt class calls them."""

from titan_dagster.emulator.binance import DEFAULT_LISTINGS, BinanceEmulator
from titan_dagster.emulator.venue import ALL_FAULTS, Fault, RequestRecord, Venue

__all__ = ["ALL_FAULTS", "DEFAULT_LISTINGS", "BinanceEmulator", "Fault", "RequestRecord", "Venue"]
