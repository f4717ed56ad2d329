"""`titan`: the project's console script.

  titan demo   backfill the configured Binance symbols, XAU/USD and EUR/USD from the
               bundled Binance and Twelve Data emulators into .titan/demo.db through
               Dagster, then show what was stored (works offline)
  titan dev    `dagster dev` on 127.0.0.1 with a persistent local instance in .titan/dagster
  titan health JSON health of the warehouse; exit 0 ok, 1 stale data, 2 unreachable or
               not migrated
  titan serve  the read-only HTTP API (JSON) on 127.0.0.1:8000: /health, /signals,
               /candles, /performance, /openapi.json (off loopback, TITAN_API_TOKEN)
  titan report S  the latest backtest report of strategy S (an HTML file)
"""

import argparse
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from titan_dagster.dagster_env import with_bookkeeping_settings
from titan_dagster.shipped import shipped_path
from titan_dagster.state import state_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="titan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="offline end-to-end backfill against the emulator")
    demo.add_argument("--days", type=int, default=30, help="how many past days to backfill")
    commands.add_parser("health", help="warehouse reachable and data fresh? (JSON)")
    serve = commands.add_parser("serve", help="the read-only HTTP API")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on; anything but loopback needs TITAN_API_TOKEN")
    serve.add_argument("--port", type=int, default=8000)
    report = commands.add_parser("report", help="open a strategy's latest backtest report")
    report.add_argument("strategy", help="a name under strategies: in titan.yaml")
    commands.add_parser("dev", help="dagster dev with a persistent local instance; other "
                        "options go to dagster dev (e.g. -p 3001)")
    args, dagster_args = parser.parse_known_args(argv)
    if dagster_args and args.command != "dev":
        parser.error(f"unrecognized arguments: {' '.join(dagster_args)}")
    if args.command == "health":
        from titan_dagster.health import main as health

        return health()
    if args.command == "serve":
        from titan_dagster.api.serve import serve

        return serve(args.host, args.port)
    if args.command == "report":
        return open_report(args.strategy)
    if args.command == "demo":
        return run_demo(args.days)
    return run_dev(dagster_args)


# The local instance keeps Dagster's default SQLite storage but queues runs like the shipped
# dagster.yaml, one per lane, so the exchange budget holds on one machine too.
def _local_instance() -> str:
    shipped = yaml.safe_load(shipped_path("dagster.yaml").read_text())
    return yaml.safe_dump({key: shipped[key] for key in ("run_coordinator", "telemetry")})


def dev_command(dagster_args: list[str]) -> list[str]:
    """The webserver has no login: it listens on this machine only (README: exposing it)."""
    return ["dagster", "dev", "-h", "127.0.0.1", *dagster_args]


def run_dev(dagster_args: list[str]) -> int:
    env = with_bookkeeping_settings()
    if "DAGSTER_HOME" not in env:
        home = state_dir("dagster")
        if not (home / "dagster.yaml").exists():
            (home / "dagster.yaml").write_text(_local_instance())
        env["DAGSTER_HOME"] = str(home)
    command = dev_command(dagster_args)
    print(f"DAGSTER_HOME={env['DAGSTER_HOME']} {' '.join(command)}", flush=True)
    return subprocess.call(command, env=env)


def open_report(strategy_name: str) -> int:
    """The report index of the strategy's current version, printed and opened in a browser
    where there is one."""
    import webbrowser

    from titan_dagster.config import config_path, load_config
    from titan_dagster.signals.report import report_path

    config = load_config(config_path())
    strategies = {strategy.name: strategy for strategy in config.strategies}
    if strategy_name not in strategies:
        print(f"titan report: no strategy {strategy_name!r} in {config.path} (configured: "
              f"{', '.join(strategies) or 'none'})", file=sys.stderr)
        return 2
    strategy = strategies[strategy_name]
    index = report_path(state_dir(), strategy.name, strategy.version, "index").parent \
        / "index.html"
    if not index.exists():
        print(f"titan report: no report yet for {strategy.name} version {strategy.version}; "
              f"materialize backtests/{strategy.name} first", file=sys.stderr)
        return 1
    print(index)
    webbrowser.open(index.as_uri())
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
