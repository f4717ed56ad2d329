"""The documented Dagster commands, run as a user runs them: subprocesses against the emulator."""

import os
import shlex
import shutil
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import yaml

from tests.conftest import stored_rows, truth_rows
from titan_dagster.cli.dagster_tools import CODE_LOCATION, dg_command
from titan_dagster.defs.ohlcv.assets import ohlcv_asset_key
from titan_dagster.timeframes import DAY_MS, day_start_ms
from titan_dagster.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def user_env(tmp_path, emulator, database_url, symbols, timeframes, start="2024-01-01",
             dagster_home=None) -> dict:
    config = tmp_path / "titan.yaml"
    config.write_text(yaml.safe_dump({"start": start, "exchanges": {"binance": {
        "symbols": symbols, "timeframes": timeframes, "api_url": emulator.base_url}}}))
    home = dagster_home or tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "TITAN_CONFIG": str(config), "TITAN_DATABASE_URL": database_url,
            "DAGSTER_HOME": str(home)}


def materialize_command(select: str, partition_range: str) -> list[str]:
    return dg_command("launch", "--assets", select, "--partition-range", partition_range,
                      *CODE_LOCATION)


def readme_dg_block(after: str) -> list[list[str]]:
    """The commands of the README's first bash block after the text `after`, as written, with
    `uv run dg` as this environment's dg (the tests already run inside `uv run`)."""
    readme = (REPO / "README.md").read_text()
    block = readme.split(after, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    lines = block.replace("\\\n", " ").splitlines()  # the shell's line continuations
    commands = [shlex.split(line.split("#", 1)[0]) for line in lines]
    assert all(command[:3] == ["uv", "run", "dg"] for command in commands), commands
    return [dg_command(*command[3:]) for command in commands]


def readme_backfill_command() -> list[str]:
    [command] = readme_dg_block("From the CLI, e.g. two symbols for 2024:")
    return command


def test_the_documented_partition_range_command_backfills_a_year(tmp_path, emulator, pg_url):
    env = user_env(tmp_path, emulator, pg_url, ["BTC/USDT", "ETH/USDT"], ["1d", "1h"])
    command = readme_backfill_command()
    assert "--partition-range" in command and "2024-01-01...2024-12-31" in command
    # From the repo root, as the README says: dg finds the project by its pyproject.toml.
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    store = Warehouse(pg_url)
    start, end = day_start_ms(date(2024, 1, 1)), day_start_ms(date(2025, 1, 1))
    for symbol in ("BTC/USDT", "ETH/USDT"):
        assert stored_rows(store, symbol, "1h") == truth_rows(emulator, symbol, "1h", start, end)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1  # a year of two assets is one run
        partitions = instance.get_materialized_partitions(ohlcv_asset_key("binance", "BTC/USDT"))
        assert len(partitions) == 366


@pytest.mark.slow
def test_the_readme_dg_commands_work_from_the_repo_root_with_nothing_set_up(tmp_path,
                                                                            emulator, pg_url):
    """As a newcomer types them: no DAGSTER_HOME, no DAGSTER_PG_URL. Dagster then reads the
    repository's dagster.yaml and keeps runs in a temporary directory while a command runs."""
    env = user_env(tmp_path, emulator, pg_url, ["BTC/USDT"], ["1d"])
    for name in ("DAGSTER_HOME", "DAGSTER_PG_URL"):
        env.pop(name, None)
    commands = {command[1]: command for command in readme_dg_block("### The `dg` CLI")}
    assert set(commands) == {"dev", "launch", "list", "check"}
    for name in ("launch", "list", "check"):
        done = subprocess.run(commands[name], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, (name, done.stderr[-3000:])
        assert "Telemetry" not in done.stdout + done.stderr, name
        if name == "list":
            assert "ohlcv/binance/BTC_USDT" in done.stdout
    start, end = day_start_ms(date(2024, 1, 1)), day_start_ms(date(2024, 2, 1))
    assert stored_rows(Warehouse(pg_url), "BTC/USDT", "1d") == \
        truth_rows(emulator, "BTC/USDT", "1d", start, end)


def test_deploy_dagster_yaml_is_the_root_settings_plus_postgresql_storage():
    root = yaml.safe_load((REPO / "dagster.yaml").read_text())
    deploy = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    assert "storage" not in root  # the repository root needs no server
    assert deploy == {"storage": {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}},
                      **root}


def test_the_deploy_dagster_yaml_runs_on_postgresql(tmp_path, emulator, pg_url):
    """deploy/dagster.yaml, with run and event storage in PostgreSQL."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = user_env(tmp_path, emulator, pg_url, ["BTC/USDT"], ["1h"], dagster_home=home)
    env["DAGSTER_PG_URL"] = pg_url.replace("postgresql+psycopg://", "postgresql+psycopg2://")
    done = subprocess.run(materialize_command("ohlcv/binance/BTC_USDT", "2024-01-01...2024-01-07"),
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    store = Warehouse(pg_url)
    with store.engine.connect() as conn:
        materialized = conn.exec_driver_sql(
            "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
        ).scalar()
    assert materialized == 7


def test_a_run_killed_halfway_then_rerun_ends_like_an_unbroken_run(tmp_path, emulator, pg_url):
    symbols, first, last = ["BTC/USDT", "ETH/USDT", "LTC/USDT"], date(2024, 1, 1), date(2024, 2, 29)
    emulator.add_symbol("LTC/USDT", "2017-12-13")
    env = user_env(tmp_path, emulator, pg_url, symbols, ["1m"])
    command = materialize_command("group:binance", f"{first}...{last}")
    store = Warehouse(pg_url)
    store.migrate()
    total_days = 3 * ((last - first).days + 1)

    run = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while complete_days(store) < total_days // 3 and run.poll() is None:
        assert time.monotonic() < deadline, "the backfill made no progress"
        time.sleep(0.2)  # polling the warehouse for progress, not waiting for a result
    assert run.poll() is None, "the run finished before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    halfway = complete_days(store)
    assert 0 < halfway < total_days
    emulator.clear_requests()

    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    start, end = day_start_ms(first), day_start_ms(last) + DAY_MS
    for symbol in symbols:
        assert stored_rows(store, symbol, "1m") == truth_rows(emulator, symbol, "1m", start, end)
    assert complete_days(store) == total_days
    # Only the days the killed run had not finished were fetched again.
    unbroken = 3 * -(-(end - start) // 60_000 // 1000)
    assert emulator.count("/api/v3/klines") < unbroken


def complete_days(store: Warehouse) -> int:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM ohlcv_complete_days").scalar()
