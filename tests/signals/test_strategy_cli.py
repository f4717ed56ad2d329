"""The acceptance command as a user runs it: candles backfilled from the emulator, then one
`dagster asset materialize` of a strategy's three assets fills the four signal tables."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import run_backfill
from tests.test_dagster_cli import REPO, materialize_command

pytestmark = pytest.mark.slow


def test_materializing_a_strategy_fills_the_four_tables(tmp_path, emulator, warehouse,
                                                        state_dir):
    run_backfill(emulator, warehouse, ["BTC/USDT", "ETH/USDT"], ["1h"], date(2024, 1, 1),
                 date(2024, 1, 31))
    config = tmp_path / "titan.yaml"
    config.write_text(yaml.safe_dump({
        "start": "2024-01-01",
        "exchanges": {"binance": {"symbols": ["BTC/USDT", "ETH/USDT"], "timeframes": ["1h"],
                                  "api_url": emulator.base_url}},
        "strategies": {"btc_sma_cross": {
            "kind": "sma_cross", "params": {"fast": 20, "slow": 50}, "source": "binance",
            "symbols": ["BTC/USDT", "ETH/USDT"], "timeframe": "1h",
            "risk": {"stop": {"pct": 0.02}, "take_profit_1": {"r": 1.0},
                     "take_profit_2": {"r": 2.0}, "fee_bps": 10, "slippage_bps": 2}}}}))
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "TITAN_CONFIG": str(config), "DAGSTER_HOME": str(home),
           "TITAN_DATABASE_URL": warehouse.url.render_as_string(hide_password=False)}
    done = subprocess.run(materialize_command(
        "signals/btc_sma_cross,outcomes/btc_sma_cross,backtests/btc_sma_cross",
        "2024-01-01...2024-01-31"), cwd=REPO, env=env, capture_output=True, text=True,
        timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    with warehouse.engine.connect() as conn:
        counts = {table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                  for table in ("strategies", "signals", "outcomes", "backtest_results")}
    assert counts["strategies"] == 1 and counts["backtest_results"] == 2
    assert counts["signals"] == counts["outcomes"] > 10
    assert "no_lookahead" in done.stderr
    # `titan report` finds the backtest's report where the run wrote it.
    shown = subprocess.run([sys.executable, "-m", "titan_dagster.cli", "report",
                            "btc_sma_cross"], cwd=REPO, env={**env, "BROWSER": "true"},
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    index = Path(shown.stdout.strip())
    assert index.is_relative_to(state_dir) and "BTC_USDT.html" in index.read_text()
