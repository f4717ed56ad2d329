"""What the scenarios share: the project's exchange emulator on 127.0.0.1, fresh PostgreSQL
databases, a titan.yaml and a Dagster instance per run, and child processes measured the way
a user would feel them (wall time, CPU time and peak RSS of the process and its children).
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import yaml

from titan_dagster.cli.dagster_tools import CODE_LOCATION, dg_command
from titan_dagster.dagster_env import BOOKKEEPING_ENV
from titan_dagster.defs.ohlcv.assets import BOOKKEEPING_LOG
from titan_dagster.emulator import DEFAULT_LISTINGS, ArchiveSettings, BinanceEmulator
from titan_dagster.emulator.binance import KLINES
from titan_dagster.shipped import shipped_path

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PAGE = 1000  # candles per Binance klines request
# ccxt's binance throttle: one token per rateLimit (50 ms), a klines request of 1000 costs
# 0.4 (Binance's weight 2 of 6000 a minute): 50 requests/s, one process's ceiling.
CEILING_REQUESTS_PER_S = 50


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    output: str


def run_measured(command: list[str], env: dict[str, str], cwd: Path | None = None) -> Measured:
    """Runs a command to completion through bench/measure.py; CPU and peak RSS include the
    children it waited for (a Dagster run's step process)."""
    launcher = [sys.executable, str(Path(__file__).with_name("measure.py")), "--"]
    done = subprocess.run([*launcher, *command], env=env, cwd=cwd, capture_output=True,
                          text=True)
    *lines, report = done.stderr.rstrip().splitlines()
    figures = json.loads(report)
    output = done.stdout + "\n".join(lines)
    if figures["exit"]:
        raise RuntimeError(f"{' '.join(command)} exited {figures['exit']}:\n{output[-3000:]}")
    return Measured(figures["wall_s"], figures["cpu_s"], figures["peak_rss_mb"], output)


def fresh_database(name: str) -> str:
    """An empty PostgreSQL database; returns its SQLAlchemy URL."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return conn.execute(sql, params).fetchall()


class Emulator:
    """The emulator, serving every listing the default config names."""

    def __init__(self, archive: ArchiveSettings | None = None):
        self.server = BinanceEmulator(DEFAULT_LISTINGS, archive=archive)

    def __enter__(self) -> "Emulator":
        self.server.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.base_url

    def klines_requests(self) -> list:
        return [r for r in self.server.requests if r.path == KLINES]

    def clear(self) -> None:
        self.server.clear_requests()


@dataclass
class Project:
    """A titan.yaml, a warehouse database and a Dagster instance for one scenario."""

    workdir: Path
    warehouse_url: str
    env: dict[str, str]

    def materialize(self, select: str, first: date, last: date) -> Measured:
        """The README's backfill command as it is, no run config: the code location's own
        defaults (in-process executor, bookkeeping settings) apply."""
        return run_measured(dg_command("launch", "--assets", select, "--partition-range",
                                  f"{first}...{last}", *CODE_LOCATION),
                            self.env, cwd=self.workdir)


@dataclass(frozen=True)
class InstanceSetting:
    on_postgres: bool  # deploy/dagster.yaml (dagster-postgres), else Dagster's SQLite
    env: dict[str, str]


INSTANCE_SETTINGS = {
    # Dagster's default: a SQLite file per run plus an index database, one connection per event.
    "sqlite": InstanceSetting(False, {}),
    "postgres": InstanceSetting(True, {}),
    # dagster-postgres with titan_dagster's bookkeeping settings (titan_dagster/dagster_env.py).
    "postgres-batched": InstanceSetting(True, BOOKKEEPING_ENV),
}


def make_project(workdir: Path, name: str, emulator: Emulator, symbols: list[str],
                 timeframes: list[str], start: date, instance: str,
                 archives: bool = False) -> Project:
    """`archives`: closed days from the emulator's archive files (titan.yaml's default for
    Binance); REST only otherwise, as the REST scenarios measure."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "titan.yaml").write_text(yaml.safe_dump({
        "start": start.isoformat(),
        "exchanges": {"binance": {"symbols": symbols, "timeframes": timeframes,
                                  "api_url": emulator.url, "archives": archives}},
    }, sort_keys=False))
    home = workdir / "dagster_home"
    home.mkdir(exist_ok=True)
    setting = INSTANCE_SETTINGS[instance]
    inherited = {k: v for k, v in os.environ.items() if k not in BOOKKEEPING_ENV}
    env = {**inherited, **setting.env, "DAGSTER_HOME": str(home),
           "TITAN_CONFIG": str(workdir / "titan.yaml"),
           "TITAN_DATABASE_URL": fresh_database(f"titan_bench_{name}")}
    if setting.on_postgres:
        (home / "dagster.yaml").write_text(shipped_path("deploy/dagster.yaml").read_text())
        dagster_db = fresh_database(f"titan_bench_{name}_dagster")
        env["DAGSTER_PG_URL"] = dagster_db.replace("+psycopg", "+psycopg2")
    else:
        (home / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False}}))
    return Project(workdir, env["TITAN_DATABASE_URL"], env)


_BOOKKEEPING = re.compile(re.escape(BOOKKEEPING_LOG) + r" (\d+) asset-partitions in ([0-9.]+) s")


def bookkeeping(output: str) -> tuple[int, float]:
    """Asset-partitions and seconds spent writing their events, from the run's own log."""
    found = [(int(n), float(s)) for n, s in _BOOKKEEPING.findall(output)]
    return sum(n for n, _ in found), sum(s for _, s in found)


def run_creation_s(env: dict[str, str]) -> float:
    """Seconds the latest run spent writing its planned events when it was created (before
    any work), from the timestamps in the instance's event log."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    os.environ["DAGSTER_PG_URL"] = env.get("DAGSTER_PG_URL", "")
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.get_records_for_run(run.run_id, limit=1_000_000).records
    planned = {"ASSET_MATERIALIZATION_PLANNED", "ASSET_CHECK_EVALUATION_PLANNED"}
    stamps = [(r.event_log_entry.timestamp, r.event_log_entry.dagster_event_type.value)
              for r in records if r.event_log_entry.is_dagster_event]
    first = next(t for t, kind in stamps if kind in planned)
    after = next(t for t, kind in stamps if t >= first and kind not in planned)
    return after - first
