"""Exchange emulators the project owns, one per exchange kind, for tests, benchmarks and demos:
each serves that exchange's public REST endpoints as its real ccxt class calls them."""

from titan_dagster.emulator.binance import DEFAULT_LISTINGS, BinanceEmulator
from titan_dagster.emulator.binance_archive import ArchiveSettings
from titan_dagster.emulator.bybit import BybitEmulator
from titan_dagster.emulator.coinbase import CoinbaseEmulator
from titan_dagster.emulator.kraken import KrakenEmulator
from titan_dagster.emulator.okx import OkxEmulator
from titan_dagster.emulator.twelvedata import TwelveDataEmulator
from titan_dagster.emulator.venue import ALL_FAULTS, Fault, RequestRecord, Venue

# By ccxt exchange id.
EMULATORS: dict[str, type[Venue]] = {
    "binance": BinanceEmulator,
    "okx": OkxEmulator,
    "bybit": BybitEmulator,
    "coinbase": CoinbaseEmulator,
    "kraken": KrakenEmulator,
    "twelvedata": TwelveDataEmulator,
}

__all__ = ["ALL_FAULTS", "DEFAULT_LISTINGS", "EMULATORS", "ArchiveSettings", "BinanceEmulator",
           "BybitEmulator", "CoinbaseEmulator", "Fault", "KrakenEmulator", "OkxEmulator",
           "RequestRecord", "TwelveDataEmulator", "Venue"]
