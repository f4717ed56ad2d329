"""The acceptance run per supported exchange, as a user runs it: `dagster asset materialize`
of three symbols x {1h, 1d} over 400 days against that exchange's emulator."""

import os
import subprocess
import sys
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
from titan_dagster.emulator import EMULATORS
from titan_dagster.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("exchange", sorted(EMULATORS))
def test_one_materialize_run_per_exchange_stores_what_it_serves(exchange, tmp_path, pg_url):
    scenario = Scenario(exchange)
    options = {"history_cap": 100} if exchange == "okx" else {}
    with scenario.emulator(**options) as emu:
        config = tmp_path / "titan.yaml"
        config.write_text(yaml.safe_dump({"start": scenario.first.isoformat(), "exchanges": {
            exchange: {"symbols": list(scenario.symbols), "timeframes": ["1h", "1d"],
                       "api_url": emu.base_url}}}))
        (tmp_path / "home").mkdir()
        env = {**os.environ, "TITAN_CONFIG": str(config), "TITAN_DATABASE_URL": pg_url,
               "DAGSTER_HOME": str(tmp_path / "home")}
        command = [sys.executable, "-m", "dagster", "asset", "materialize", "-m",
                   "titan_dagster.definitions", "--select", f"group:{exchange}",
                   "--partition-range", f"{scenario.first}...{scenario.last}"]
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        store = Warehouse(pg_url)
        assert_truthful(emu, store, scenario)
        if exchange == "kraken":
            assert "not served by kraken: only the last 720 candles" in done.stderr
        else:
            assert outage_recorded(store, scenario)
        assert prelisting_days_empty_and_complete(store, scenario)

        emu.clear_requests()
        again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                               timeout=600)
        assert again.returncode == 0, again.stderr[-3000:]
        assert candle_requests(emu) == 0
        store.dispose()
