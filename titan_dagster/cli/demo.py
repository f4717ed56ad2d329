"""`titan demo`: the whole product offline. The bundled Binance and Twelve Data emulators
serve the candles; one `dg launch` run backfills them and the strategies' signals, outcomes
and backtests over them into .titan/demo.db; the terminal shows a few lines, a progress bar
per phase and the summary, and Dagster's own log goes to .titan/demo.log."""

import shlex
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from titan_dagster.cli.dagster_tools import CODE_LOCATION, dg_command
from titan_dagster.cli.demo_progress import DemoPlan, watch
from titan_dagster.cli.demo_summary import show_summary
from titan_dagster.cli.demo_world import DemoFiles, demo_world
from titan_dagster.cli.run_failure import failure_line
from titan_dagster.config import ConfigError, config_path, load_config
from titan_dagster.state import state_dir

SELECTION = "key:ohlcv/* or key:signals/* or key:outcomes/* or key:backtests/*"


def run_demo(days: int) -> int:
    try:
        return _run_demo(days)
    except ConfigError as error:  # the user's titan.yaml, or the demo's copy of it
        print(f"titan demo: {error}", file=sys.stderr)
        return 2


def _run_demo(days: int) -> int:
    config = load_config(config_path())
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    files, log = DemoFiles.here(), state_dir() / "demo.log"
    # The partitions begin with the demo's first day: the UI then shows the demo's days, all
    # of them materialized, not years of empty partitions before them.
    with demo_world(config, first, files):
        plan = DemoPlan.of(load_config(files.config), first, last)
        command = dg_command("launch", "--assets", SELECTION,
                             "--partition-range", f"{first}...{last}", *CODE_LOCATION)
        _introduce(plan, first, last, files.database, log)
        started = datetime.now(UTC)
        with log.open("w") as output:
            output.write(f"$ {shlex.join(command)}\n")
            output.flush()
            run = subprocess.Popen(command, env=files.environment(), stdout=output,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            code = watch(run, plan, files.database, started)
    if code:
        print(f"titan demo: {failure_line(files.home, log)}\n  (Dagster's log: {log})",
              file=sys.stderr)
        return 1
    show_summary(plan, files.database)
    return 0


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
