"""The acceptance run, as a user runs it: one `dg launch` of every supported
exchange's assets (three symbols x {1h, 1d} over 400 days each) against each exchange's
emulator, on the PostgreSQL-backed deploy/dagster.yaml, then the same run again."""

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.exchanges import (
    Scenario,
    assert_truthful,
    candle_requests,
    outage_recorded,
    prelisting_days_empty_and_complete,
)
from tests.test_dagster_cli import materialize_command
from titan_dagster.exchange.paging import PAGING
from titan_dagster.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_one_materialize_run_of_every_exchange_stores_what_each_serves(tmp_path, pg_url):
    scenarios = [Scenario(exchange) for exchange in sorted(PAGING)]
    with contextlib.ExitStack() as stack:
        emulators = [stack.enter_context(scenario.emulator()) for scenario in scenarios]
        config = tmp_path / "titan.yaml"
        config.write_text(yaml.safe_dump({
            "start": scenarios[0].first.isoformat(),
            "exchanges": {s.exchange: {"symbols": list(s.symbols), "timeframes": ["1h", "1d"],
                                       "api_url": emu.base_url}
                          for s, emu in zip(scenarios, emulators, strict=True)}}))
        home = tmp_path / "home"
        home.mkdir()
        shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
        env = {**os.environ, "TITAN_CONFIG": str(config), "TITAN_DATABASE_URL": pg_url,
               "DAGSTER_HOME": str(home),
               "DAGSTER_PG_URL": pg_url.replace("postgresql+psycopg://", "postgresql+psycopg2://"),
               # The bookkeeping settings the README gives for large runs.
               "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
               "DAGSTER_EVENT_BATCH_SIZE": "1000"}
        command = materialize_command("key:ohlcv/*",
                                      f"{scenarios[0].first}...{scenarios[0].last}")
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        store = Warehouse(pg_url)
        for scenario, emu in zip(scenarios, emulators, strict=True):
            assert_truthful(emu, store, scenario)
            assert prelisting_days_empty_and_complete(store, scenario), scenario.exchange
            if scenario.exchange != "kraken":  # its outage day lies beyond its 1h reach
                assert outage_recorded(store, scenario), scenario.exchange
        assert "not served by kraken: only the last 720 candles" in done.stderr

        for emu in emulators:
            emu.clear_requests()
        again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                               timeout=900)
        assert again.returncode == 0, again.stderr[-3000:]
        assert [candle_requests(emu) for emu in emulators] == [0] * len(emulators)
        store.dispose()
