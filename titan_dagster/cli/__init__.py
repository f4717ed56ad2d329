"""`titan`: the project's console script.

  titan demo   backfill the configured Binance symbols, XAU/USD and EUR/USD from the
               bundled Binance and Twelve Data emulators into .titan/demo.db through
               Dagster, with the strategies' signals, outcomes and backtests, then show
               what was stored (works offline)
  titan dev    `dg dev` on 127.0.0.1 with a persistent local instance in .titan/dagster;
               --demo: on the demo's warehouse and runs, its emulators serving again
  titan health JSON health of the warehouse; exit 0 ok, 1 stale data, 2 unreachable or
               not migrated
  titan serve  the read-only HTTP API (JSON) on 127.0.0.1:8000: /health, /signals,
               /candles, /performance, /openapi.json (off loopback, TITAN_API_TOKEN)
  titan report S  the latest backtest report of strategy S (an HTML file)
  titan list-data  what the warehouse holds per exchange, symbol and timeframe (table,
               JSON or CSV)
  titan export DIR  candles to Parquet, Feather or CSV files, exact decimals or --float
"""

import argparse

from titan_dagster.cli import export, list_data


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
    list_data.add_parser(commands)
    export.add_parser(commands)
    dev = commands.add_parser("dev", help="dg dev with a persistent local instance; other "
                              "options go to dg dev (e.g. -p 3001)")
    dev.add_argument("--demo", action="store_true",
                     help="on the demo's warehouse and Dagster instance (after `titan demo`), "
                     "its emulators serving again")
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
        from titan_dagster.cli.report import open_report

        return open_report(args.strategy)
    if args.command == "export":
        return export.export(args)
    if args.command == "list-data":
        return list_data.list_data(args.format, args.exchange, args.symbol)
    if args.command == "demo":
        from titan_dagster.cli.demo import run_demo

        return run_demo(args.days)
    from titan_dagster.cli.dev import run_dev

    return run_dev(dagster_args, args.demo)
