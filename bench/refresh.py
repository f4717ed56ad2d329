"""The minute refresh's cost and the event log it grows.

    uv run python bench/refresh.py [--symbols 20 100] [--runs 5]

For each symbol count: the real refresh code path (Dagster run of today's partition with the
in-process executor, ccxt against the project's emulator on 127.0.0.1, validation,
PostgreSQL warehouse) timed as a subprocess like the daemon launches it, then the event-log
rows one refresh run adds to a PostgreSQL-backed Dagster instance (deploy/dagster.yaml),
extrapolated to a day of minute refreshes, and what housekeeping leaves after deleting them.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import psycopg
import yaml

from titan_dagster.defs.automation.housekeeping import delete_old_ephemeral_runs
from titan_dagster.emulator import BinanceEmulator

REPO = Path(__file__).resolve().parent.parent
PG = os.environ.get("TITAN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")


def event_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM event_logs").fetchone()[0]


def bench(symbols: int, runs: int) -> dict:
    names = [f"S{i:03d}/USDT" for i in range(symbols)]
    database = f"titan_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    url = f"{PG}/{database}"
    tmp = Path(tempfile.mkdtemp())
    try:
        with BinanceEmulator({name: "2020-01-01" for name in names}) as emu:
            (tmp / "titan.yaml").write_text(yaml.safe_dump({
                "start": datetime.now(UTC).date().isoformat(),
                "exchanges": {"binance": {"symbols": names, "timeframes": ["1d", "1h"],
                                          "api_url": emu.base_url}}}))
            home = tmp / "home"
            home.mkdir()
            shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
            env = {**os.environ, "TITAN_CONFIG": str(tmp / "titan.yaml"),
                   "TITAN_DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://"),
                   "DAGSTER_HOME": str(home),
                   "DAGSTER_PG_URL": url.replace("postgresql://", "postgresql+psycopg2://")}
            command = [sys.executable, "-m", "dagster", "job", "execute", "-m",
                       "titan_dagster.definitions", "-j", "ohlcv_refresh_binance",
                       "--tags", '{"dagster/partition": "' + datetime.now(UTC).date().isoformat()
                       + '"}']
            walls, cpus, rows = [], [], []
            for _ in range(runs):
                before_rows = event_rows(url) if rows or walls else 0
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
                walls.append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                rows.append(event_rows(url) - before_rows)
            requests = emu.count("/api/v3/klines") / runs
            os.environ.update(DAGSTER_PG_URL=env["DAGSTER_PG_URL"])
            with dg.DagsterInstance.from_config(str(home)) as instance:
                deleted = delete_old_ephemeral_runs(instance, datetime.now(UTC))
            left = event_rows(url)
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)
    steady = sorted(rows[1:]) or rows
    return {"symbols": symbols, "wall_s": min(walls[1:] or walls), "cpu_s": min(cpus[1:] or cpus),
            "klines_per_run": requests, "event_rows_per_run": steady[len(steady) // 2],
            "deleted_runs": deleted, "event_rows_left": left}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    print(f"{'symbols':>7} {'wall s':>7} {'cpu s':>6} {'klines/run':>10} {'events/run':>10} "
          f"{'events/day':>10} {'deleted':>7} {'left':>5}")
    for symbols in args.symbols:
        r = bench(symbols, args.runs)
        print(f"{r['symbols']:>7} {r['wall_s']:>7.1f} {r['cpu_s']:>6.1f} "
              f"{r['klines_per_run']:>10.0f} {r['event_rows_per_run']:>10} "
              f"{r['event_rows_per_run'] * 1440:>10} {r['deleted_runs']:>7} "
              f"{r['event_rows_left']:>5}")


if __name__ == "__main__":
    main()
