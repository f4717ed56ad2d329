"""`titan demo`: the whole product offline. The bundled Binance and Twelve Data emulators
serve the candles; one `dg launch` run backfills them and the strategies' signals, outcomes
and backtests over them into .titan/demo.db; the terminal shows a few lines, a progress bar
per phase and the summary, and Dagster's own log goes to .titan/demo.log."""

import shlex
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from titan_dagster.cli.dagster_tools import CODE_LOCATION, dg_command, local_instance
from titan_dagster.cli.demo_progress import DemoPlan, watch
from titan_dagster.cli.demo_summary import show_summary
from titan_dagster.cli.run_failure import failure_line
from titan_dagster.config import ConfigError, config_path, load_config
from titan_dagster.dagster_env import with_bookkeeping_settings
from titan_dagster.state import state_dir

DEMO_TWELVEDATA = ("XAU/USD", "EUR/USD")
DEMO_TWELVEDATA_TIMEFRAMES = ("1h", "1d")
DEMO_KEY_ENV = "TITAN_DEMO_TWELVEDATA_KEY"
GOLD = "XAU/USD"
SELECTION = "key:ohlcv/* or key:signals/* or key:outcomes/* or key:backtests/*"


def run_demo(days: int) -> int:
    try:
        return _run_demo(days)
    except ConfigError as error:  # the user's titan.yaml, or the demo's copy of it
        print(f"titan demo: {error}", file=sys.stderr)
        return 2


def _run_demo(days: int) -> int:
    from titan_dagster.emulator import DEFAULT_LISTINGS, BinanceEmulator, TwelveDataEmulator

    config = load_config(config_path())
    if not any(exchange.name == "binance" for exchange in config.exchanges):
        raise ConfigError(config.path, "exchanges.binance",
                          "the demo backfills the Binance symbols configured there; add some")
    binance = config.exchange("binance")
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    strategies = demo_strategies(yaml.safe_load(config.path.read_text()).get("strategies"))
    database, log = state_dir() / "demo.db", state_dir() / "demo.log"
    listings = {symbol: DEFAULT_LISTINGS.get(symbol, "2019-01-01") for symbol in binance.symbols}
    with BinanceEmulator(listings) as emulator, TwelveDataEmulator(
            dict.fromkeys(DEMO_TWELVEDATA, "2015-01-02")) as twelvedata:
        demo_config = state_dir() / "demo.yaml"
        demo_config.write_text(yaml.safe_dump({
            "start": min(first, config.start).isoformat(),
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
        plan = DemoPlan.of(load_config(demo_config), first, last)
        home = local_instance(state_dir("demo-dagster"))
        env = {**with_bookkeeping_settings(), "TITAN_CONFIG": str(demo_config),
               "TITAN_DATABASE_URL": f"sqlite:///{database}", "TITAN_STATE_DIR": str(state_dir()),
               "DAGSTER_HOME": str(home),
               # The emulator takes any key; a real one is never needed offline.
               DEMO_KEY_ENV: "demo"}
        command = dg_command("launch", "--assets", SELECTION,
                             "--partition-range", f"{first}...{last}", *CODE_LOCATION)
        _introduce(plan, first, last, database, log)
        started = datetime.now(UTC)
        with log.open("w") as output:
            output.write(f"$ {shlex.join(command)}\n")
            output.flush()
            run = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
            code = watch(run, plan, database, started)
    if code:
        print(f"titan demo: {failure_line(home, log)}\n  (Dagster's log: {log})", file=sys.stderr)
        return 1
    show_summary(plan, database)
    return 0


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


def _introduce(plan: DemoPlan, first: date, last: date, database: Path, log: Path) -> None:
    print(f"titan demo: {plan.days} days ({first} to {last}) from the bundled emulators, "
          "offline")
    for source in plan.sources:
        print(f"  candles     {source.name}: {len(source.symbols)} symbols "
              f"({', '.join(source.timeframes)})")
    for strategy in plan.strategies:
        print(f"  strategy    {strategy.name}: {strategy.kind} on {strategy.source} "
              f"{', '.join(strategy.symbols)} {strategy.timeframe}: signals, outcomes, backtest")
    print(f"  warehouse   {database}\n  Dagster log {log}", flush=True)
