"""`titan demo`: an offline end-to-end backfill against the bundled emulators."""

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from titan_dagster.dagster_env import with_bookkeeping_settings
from titan_dagster.state import state_dir


def run_demo(days: int) -> int:
    from titan_dagster.config import config_path, load_config
    from titan_dagster.emulator import DEFAULT_LISTINGS, BinanceEmulator, TwelveDataEmulator

    config = load_config(config_path())
    binance = config.exchange("binance")
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    listings = {symbol: DEFAULT_LISTINGS.get(symbol, "2019-01-01") for symbol in binance.symbols}
    database = (state_dir() / "demo.db").resolve()
    with BinanceEmulator(listings) as emulator, TwelveDataEmulator(
            dict.fromkeys(DEMO_TWELVEDATA, "2015-01-02")) as twelvedata:
        demo_config = state_dir() / "demo.yaml"
        demo_config.write_text(yaml.safe_dump({
            "start": min(first, config.start).isoformat(),
            "exchanges": {
                "binance": {"symbols": list(binance.symbols),
                            "timeframes": list(binance.timeframes),
                            "api_url": emulator.base_url},
                "twelvedata": {"symbols": list(DEMO_TWELVEDATA), "timeframes": ["1h", "1d"],
                               "api_key_env": DEMO_KEY_ENV, "credits_per_minute": 600,
                               "credits_per_day": 100_000, "api_url": twelvedata.base_url}},
        }, sort_keys=False))
        env = {**with_bookkeeping_settings(), "TITAN_CONFIG": str(demo_config.resolve()),
               "TITAN_DATABASE_URL": f"sqlite:///{database}",
               "DAGSTER_HOME": str(state_dir("demo-dagster")),
               # The emulator takes any key; a real one is never needed offline.
               DEMO_KEY_ENV: "demo"}
        command = ["dagster", "asset", "materialize", "-m", "titan_dagster.definitions",
                   "--select", "key:ohlcv/*", "--partition-range", f"{first}...{last}"]
        print(f"Binance emulator on {emulator.base_url}, Twelve Data emulator on "
              f"{twelvedata.base_url}; running:\n  {' '.join(command)}", flush=True)
        code = subprocess.call(command, env=env)
    if code:
        return code
    _show_demo(database, first, last, [("binance", binance.symbols, binance.timeframes),
                                       ("twelvedata", DEMO_TWELVEDATA, ("1h", "1d"))])
    return 0


DEMO_TWELVEDATA = ("XAU/USD", "EUR/USD")
DEMO_KEY_ENV = "TITAN_DEMO_TWELVEDATA_KEY"


def _show_demo(database: Path, first, last, sources) -> None:
    from titan_dagster.warehouse import Warehouse

    store = Warehouse(f"sqlite:///{database}")
    print(f"\nStored in {database} ({first} to {last}):")
    for source, symbols, timeframes in sources:
        for symbol in symbols:
            counts = {tf: len(store.read_candles(source, symbol, tf)) for tf in timeframes}
            print(f"  {source:<10} {symbol:<11} "
                  + "  ".join(f"{tf}: {n:>5}" for tf, n in counts.items()))
    for source, symbols, timeframes in sources:
        print(f"\n{source} {symbols[0]} {timeframes[0]}, last candles:")
        print(store.read_candles(source, symbols[0], timeframes[0]).tail(3).to_string(index=False))
    print(f"\nQuery it: sqlite3 {database} \"SELECT * FROM ohlcv LIMIT 5\"")
