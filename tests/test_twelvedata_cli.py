"""The Twelve Data acceptance run as a user runs it: one `dg launch` of two
years of XAU/USD, EUR/USD, GBP/USD and AAPL at {1h, 1d} against the Twelve Data emulator, on
the PostgreSQL-backed deploy/dagster.yaml, then the same run again; and a sentinel API key
searched for everywhere the runs leave a trace."""

import os
import shutil
import subprocess

import pytest
import yaml

from tests.test_dagster_cli import REPO, materialize_command
from tests.twelvedata import (
    API_KEY,
    KEY_ENV,
    SYMBOLS,
    TIMEFRAMES,
    canonical,
    emulator,
    fewest_requests,
    served,
    stored,
    two_years,
)
from titan_dagster.emulator.twelvedata import TIME_SERIES
from titan_dagster.warehouse import Warehouse

pytestmark = pytest.mark.slow
PER_MINUTE = 600  # the plan, in titan.yaml and in the emulator alike


def test_one_run_stores_two_years_as_served_in_the_fewest_requests_and_the_key_nowhere(
        tmp_path, pg_url):
    first, last = two_years()
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    with emulator(credits_per_minute=PER_MINUTE, credits_per_day=5000) as emu:
        config = tmp_path / "titan.yaml"
        config.write_text(yaml.safe_dump({"start": first.isoformat(), "exchanges": {
            "twelvedata": {"symbols": list(SYMBOLS), "timeframes": list(TIMEFRAMES),
                           "api_key_env": KEY_ENV, "credits_per_minute": PER_MINUTE,
                           "credits_per_day": 5000, "api_url": emu.base_url}}}))
        env = {**os.environ, "TITAN_CONFIG": str(config), "TITAN_DATABASE_URL": pg_url,
               "DAGSTER_HOME": str(home), KEY_ENV: API_KEY,
               "DAGSTER_PG_URL": pg_url.replace("+psycopg:", "+psycopg2:")}
        command = materialize_command("group:twelvedata", f"{first}...{last}")
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        store = Warehouse(pg_url)
        fewest = 0
        for symbol in SYMBOLS:
            for timeframe in TIMEFRAMES:
                rows = served(emu, symbol, timeframe, first, last)
                assert stored(store, symbol, timeframe) == canonical(rows), (symbol, timeframe)
                fewest += fewest_requests(len(rows))
        assert emu.count(TIME_SERIES) == fewest == 14
        assert emu.minute_limit_hits == emu.day_limit_hits == 0
        assert "ohlcv/twelvedata/XAU_USD" in done.stderr

        emu.clear_requests()
        again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                               timeout=900)
        assert again.returncode == 0, again.stderr[-3000:]
        assert emu.requests == []
        store.dispose()

    database = subprocess.run(["pg_dump", "--data-only", pg_url.replace("+psycopg", "")],
                              capture_output=True, text=True, check=True).stdout
    files = "\n".join(path.read_text(errors="replace") for path in home.rglob("*")
                      if path.is_file())
    traces = {"CLI output": done.stdout + done.stderr + again.stdout + again.stderr,
              "database (warehouse, runs, run config, event log, metadata)": database,
              "DAGSTER_HOME files (compute logs)": files}
    # There is something to search: the runs, their materializations with metadata.
    assert "ASSET_MATERIALIZATION" in database and "days_skipped_complete" in database
    for where, text in traces.items():
        assert API_KEY not in text, f"the API key appears in the {where}"
