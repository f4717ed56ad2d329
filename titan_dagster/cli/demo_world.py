"""The demo's world, shared by `titan demo` and `titan dev --demo`: the bundled Binance and
Twelve Data emulators serving on 127.0.0.1, `.titan/demo.yaml` pointing at them, and the
environment of the Dagster processes that work in it (the demo's warehouse and instance)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from titan_dagster.cli.dagster_tools import local_instance
from titan_dagster.config import ConfigError, TitanConfig
from titan_dagster.dagster_env import with_bookkeeping_settings
from titan_dagster.state import state_dir

DEMO_TWELVEDATA = ("XAU/USD", "EUR/USD")
DEMO_TWELVEDATA_TIMEFRAMES = ("1h", "1d")
DEMO_KEY_ENV = "TITAN_DEMO_TWELVEDATA_KEY"
GOLD = "XAU/USD"


class NoDemo(Exception):
    """`titan dev --demo` before any `titan demo`."""


@dataclass(frozen=True)
class DemoFiles:
    config: Path
    database: Path
    home: Path  # the demo's Dagster instance

    @classmethod
    def here(cls) -> "DemoFiles":
        return cls(state_dir() / "demo.yaml", state_dir() / "demo.db",
                   state_dir() / "demo-dagster")

    def environment(self) -> dict[str, str]:
        """Of the Dagster processes working in the demo (its instance made if new)."""
        return {**with_bookkeeping_settings(), "TITAN_CONFIG": str(self.config),
                "TITAN_DATABASE_URL": f"sqlite:///{self.database}",
                "TITAN_STATE_DIR": str(state_dir()),
                "DAGSTER_HOME": str(local_instance(self.home)),
                # The emulator takes any key; a real one is never needed offline.
                DEMO_KEY_ENV: "demo"}

    def start(self) -> date:
        """The first day of the demo that made these files."""
        if not self.database.exists() or not self.config.exists():
            raise NoDemo(f"no demo in {self.config.parent}: run `titan demo` first")
        return date.fromisoformat(str(yaml.safe_load(self.config.read_text())["start"]))


@contextmanager
def demo_world(config: TitanConfig, start: date, files: DemoFiles) -> Iterator[None]:
    """The emulators serving the configured Binance symbols and the demo's Twelve Data
    symbols, and files.config written for them: partitions from `start`, the config's
    Binance strategies and the first of them again on gold."""
    from titan_dagster.emulator import DEFAULT_LISTINGS, BinanceEmulator, TwelveDataEmulator

    if not any(exchange.name == "binance" for exchange in config.exchanges):
        raise ConfigError(config.path, "exchanges.binance",
                          "the demo backfills the Binance symbols configured there; add some")
    binance = config.exchange("binance")
    strategies = demo_strategies(yaml.safe_load(config.path.read_text()).get("strategies"))
    listings = {symbol: DEFAULT_LISTINGS.get(symbol, "2019-01-01") for symbol in binance.symbols}
    with BinanceEmulator(listings) as emulator, TwelveDataEmulator(
            dict.fromkeys(DEMO_TWELVEDATA, "2015-01-02")) as twelvedata:
        files.config.write_text(yaml.safe_dump({
            "start": start.isoformat(),
            "exchanges": {
                "binance": {"symbols": list(binance.symbols),
                            "timeframes": list(binance.timeframes),
                            "api_url": emulator.base_url},
                "twelvedata": {"symbols": list(DEMO_TWELVEDATA),
                               "timeframes": list(DEMO_TWELVEDATA_TIMEFRAMES),
                               "api_key_env": DEMO_KEY_ENV, "credits_per_minute": 600,
                               "credits_per_day": 100_000, "api_url": twelvedata.base_url}},
            **({"strategies": strategies} if strategies else {}),
        }, sort_keys=False))
        yield


def demo_strategies(raw: dict | None) -> dict:
    """The config's Binance strategies, and the first of them again on gold from Twelve
    Data, so the demo shows signals on a market with market hours too."""
    crypto = {name: spec for name, spec in (raw or {}).items()
              if isinstance(spec, dict) and spec.get("source") == "binance"}
    if not crypto:
        return {}
    name, spec = next(iter(crypto.items()))
    gold = {**spec, "source": "twelvedata", "symbols": [GOLD]}
    return {**crypto, f"gold_{spec.get('kind', name)}": gold}
