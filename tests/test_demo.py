"""`titan demo` as a newcomer runs it: the environment's own console script with nothing on
PATH, from the repo root; what it prints, and that the summary tells what the warehouse
holds."""

import csv
import io
import json
import os
import re
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import polars as pl
import pytest
import sqlalchemy as sa
import yaml

from tests.private_pg import free_port
from titan_dagster.cli import main
from titan_dagster.cli.run_failure import failure_line
from titan_dagster.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
DAYS = 3


TITAN = Path(sysconfig.get_path("scripts")) / "titan"


def newcomer_env(state: Path) -> dict[str, str]:
    """No PATH beyond the system's: titan must find dg beside its own interpreter."""
    return {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", str(state)),
            "TITAN_STATE_DIR": str(state)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    done = subprocess.run([str(TITAN), "demo", "--days", str(DAYS)], cwd=REPO,
                          env=newcomer_env(state), capture_output=True, text=True, timeout=600)
    return done, state


@pytest.mark.slow
def test_the_demo_prints_a_few_lines_and_ends_with_the_summary(demo):
    done, state = demo
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) <= 40, done.stdout
    assert lines[-4:-1] == ["Next:", "  the demo in the Dagster UI   titan dev --demo",
                            f"  what it stored               TITAN_DATABASE_URL=sqlite:///"
                            f"{state / 'demo.db'} titan list-data"], lines[-4:]
    assert "Telemetry" not in done.stdout + done.stderr
    assert "DEBUG" not in done.stdout  # Dagster's events went to the log file
    log = state / "demo.log"
    assert f"Dagster log {log}" in done.stdout
    assert "RUN_SUCCESS" in log.read_text()


@pytest.mark.slow
def test_the_summary_counts_what_the_warehouse_holds(demo):
    done, state = demo
    engine = sa.create_engine(f"sqlite:///{state / 'demo.db'}")
    with engine.connect() as conn:
        stored = dict(((e, tf), n) for e, tf, n in conn.exec_driver_sql(
            "SELECT exchange, timeframe, count(*) FROM ohlcv WHERE closed "
            "GROUP BY exchange, timeframe"))
        backtests = conn.exec_driver_sql(
            "SELECT strategy, symbol, trades FROM backtest_results ORDER BY strategy, symbol"
        ).all()
    for (exchange, timeframe), candles in stored.items():
        row = re.search(rf"^  {exchange}\s+{timeframe}\s+\d+\s+([\d,]+)\s", done.stdout,
                        re.MULTILINE)
        assert row and int(row[1].replace(",", "")) == candles, (exchange, timeframe)
    assert {exchange for exchange, _ in stored} == {"binance", "twelvedata"}
    # The shipped strategy on its two symbols, and its twin on gold.
    assert [(s, sym) for s, sym, _ in backtests] == [
        ("btc_sma_cross", "BTC/USDT"), ("btc_sma_cross", "ETH/USDT"),
        ("gold_sma_cross", "XAU/USD")]
    for strategy, symbol, trades in backtests:
        assert re.search(rf"^  {strategy}\s+{re.escape(symbol)}\s+{trades}\s", done.stdout,
                         re.MULTILINE), (strategy, symbol)
    reports = re.findall(r"report (\S+): (\S+index\.html)$", done.stdout, re.MULTILINE)
    assert [name for name, _ in reports] == ["btc_sma_cross", "gold_sma_cross"]
    assert all(Path(path).is_file() for _, path in reports)


def titan(database: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "titan_dagster.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TITAN_DATABASE_URL": f"sqlite:///{database}"})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_list_data_on_the_demo_warehouse_counts_what_sql_counts(demo):
    _, state = demo
    database = state / "demo.db"
    with sa.create_engine(f"sqlite:///{database}").connect() as conn:
        candles = {(e, s, tf): n for e, s, tf, n in conn.exec_driver_sql(
            "SELECT exchange, symbol, timeframe, count(*) FROM ohlcv WHERE closed "
            "GROUP BY exchange, symbol, timeframe")}
        days = {(e, s, tf): n for e, s, tf, n in conn.exec_driver_sql(
            "SELECT exchange, symbol, timeframe, count(*) FROM ohlcv_complete_days "
            "GROUP BY exchange, symbol, timeframe")}
    assert len(candles) == 2 * 20 + 2 * 2  # 20 pairs and 2 Twelve Data symbols, 2 timeframes
    rows = {(r["exchange"], r["symbol"], r["timeframe"]): r
            for r in json.loads(titan(database, "list-data", "--format", "json"))}
    assert {key: row["candles"] for key, row in rows.items()} == candles
    assert {key: row["complete_days"] for key, row in rows.items()} == days
    assert all(row["missing"] == 0 and row["quarantined"] == 0 for row in rows.values())
    listed = csv.DictReader(io.StringIO(titan(database, "list-data", "--format", "csv")))
    assert {(r["exchange"], r["symbol"], r["timeframe"]): int(r["candles"])
            for r in listed} == candles
    table = titan(database, "list-data").splitlines()[2:]  # header, rule
    assert {tuple(line.split()[:3]) for line in table} == set(candles)


@pytest.mark.slow
def test_the_demo_warehouse_exports_to_parquet_that_reads_back_exactly(demo, tmp_path):
    _, state = demo
    database = state / "demo.db"
    titan(database, "export", str(tmp_path), "--symbol", "BTC/USDT", "--symbol", "XAU/USD")
    store = Warehouse(f"sqlite:///{database}")
    for exchange, symbol, tf in (("binance", "BTC/USDT", "1h"), ("twelvedata", "XAU/USD", "1h")):
        path = tmp_path / exchange / symbol.replace("/", "_") / f"{tf}.parquet"
        expected = store.read_candles(exchange, symbol, tf)
        assert len(expected) > 0
        assert pd.read_parquet(path)["close"].tolist() == expected["close"].tolist()
        assert pl.read_parquet(path)["open"].to_list() == expected["open"].tolist()
        ducked = duckdb.sql(f"SELECT ts, high FROM '{path}' ORDER BY ts").fetchall()
        assert [high for _, high in ducked] == expected["high"].tolist()
        assert [ts for ts, _ in ducked] == [t.to_pydatetime() for t in expected["ts"]]
    store.dispose()


def test_a_failed_run_ends_with_the_error_of_its_step(tmp_path):
    @dg.asset
    def broken():
        raise ValueError("exchange answered 451 for BTC/USDT")

    log = tmp_path / "run.log"
    log.write_text("the last line of the log\n")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        result = dg.materialize([broken], instance=instance, raise_on_error=False)
    assert not result.success
    assert failure_line(tmp_path, log) == "ValueError: exchange answered 451 for BTC/USDT"


def test_a_command_that_failed_before_any_run_ends_with_its_last_log_line(tmp_path):
    log = tmp_path / "run.log"
    log.write_text("Traceback (most recent call last):\n  File 'x'\n"
                   "titan_dagster.config.loader.ConfigError: titan.yaml: start: bad\n\n")
    assert failure_line(tmp_path, log) == \
        "titan_dagster.config.loader.ConfigError: titan.yaml: start: bad"


def test_a_config_without_binance_is_one_line_naming_the_field(tmp_path, monkeypatch, capsys):
    config = tmp_path / "titan.yaml"
    config.write_text("start: 2024-01-01\nexchanges:\n  okx:\n    symbols: [BTC/USDT]\n"
                      "    timeframes: [1h]\n")
    monkeypatch.setenv("TITAN_CONFIG", str(config))
    monkeypatch.setenv("TITAN_STATE_DIR", str(tmp_path / "state"))
    assert main(["demo", "--days", "2"]) == 2
    assert capsys.readouterr().err == \
        f"titan demo: {config}: exchanges.binance: the demo backfills the Binance symbols " \
        "configured there; add some\n"


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(f"{base}/graphql", json.dumps({"query": query}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


@pytest.mark.slow
def test_dev_demo_shows_the_demo_in_the_ui_with_its_emulators_serving_again(demo, tmp_path):
    _, state = demo
    base = f"http://127.0.0.1:{free_port()}"
    printed = tmp_path / "stdout"
    with printed.open("w") as stdout:
        dev = subprocess.Popen([str(TITAN), "dev", "--demo", "-p", base.rsplit(":", 1)[1]],
                               cwd=REPO, env=newcomer_env(state), stdout=stdout,
                               stderr=subprocess.PIPE, text=True)
    try:
        give_up = time.monotonic() + 180
        while "Dagster UI on" not in printed.read_text():
            assert dev.poll() is None, dev.communicate()
            assert time.monotonic() < give_up, printed.read_text()
            time.sleep(0.2)
        runs = graphql(base, "{ runsOrError { ... on Runs { results { status } } } }")
        # The demo's own run, from the demo's instance.
        assert "SUCCESS" in {run["status"] for run in runs["runsOrError"]["results"]}
        config = yaml.safe_load((state / "demo.yaml").read_text())
        binance = config["exchanges"]["binance"]["api_url"]
        with urllib.request.urlopen(f"{binance}/api/v3/ping", timeout=5) as ping:
            assert ping.status == 200  # the schedules' refresh has an exchange to ask
    finally:
        dev.terminate()  # as a supervisor stops it
        _, err = dev.communicate(timeout=120)
    assert dev.returncode == 0, err
    assert printed.read_text().splitlines() == [
        f"titan dev: Dagster webserver and daemon, instance {state / 'demo-dagster'}, "
        f"the demo's: {state / 'demo.db'}", f"  Dagster log {state / 'dev.log'}",
        f"Dagster UI on {base} (Ctrl-C stops it)", "titan dev: stopped"]
    # dg dev took its webserver and daemon down with it.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base}/server_info", timeout=2)


def test_dev_demo_before_any_demo_says_to_run_it_first(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TITAN_CONFIG", str(REPO / "titan.yaml"))
    monkeypatch.setenv("TITAN_STATE_DIR", str(tmp_path))
    assert main(["dev", "--demo"]) == 2
    assert capsys.readouterr().err == \
        f"titan dev: no demo in {tmp_path}: run `titan demo` first\n"
    assert not (tmp_path / "demo-dagster").exists()  # nothing made for a demo that is not
