"""Item 6: credentials come only from environment variables, and sentinel values given to a
real Dagster run (one symbol stored, one failing) are found nowhere it leaves a trace."""

import asyncio
import shutil
import subprocess
import traceback
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from tests.conftest import binance_settings
from tests.test_dagster_cli import REPO, materialize_command, user_env
from tests.twelvedata import API_KEY as TWELVEDATA_KEY
from tests.twelvedata import KEY_ENV as TWELVEDATA_KEY_ENV
from tests.twelvedata import emulator as twelvedata_emulator
from tests.twelvedata import last_weekday
from tests.twelvedata import run as run_twelvedata
from tests.twelvedata import settings as twelvedata_settings
from titan_dagster.emulator import Fault
from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.exchange.errors import ExchangeAccessError
from titan_dagster.warehouse import Warehouse, WarehouseUnavailable

API_KEY, SECRET = "s3ntinel-apikey-7f3a9c", "s3ntinel-secret-41d2e8"
DB_PASSWORD = "s3ntinel-pw-9b71"
SENTINELS = (API_KEY, SECRET, DB_PASSWORD)
CREDENTIALS = {"api_key_env": "TITAN_TEST_API_KEY", "secret_env": "TITAN_TEST_SECRET"}


def with_password(url: str) -> str:
    # Trust authentication ignores the password, so the run works and can only leak it.
    return url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)


def test_sentinel_secrets_are_nowhere_in_what_a_run_leaves(tmp_path, emulator, pg_url, figures):
    url = with_password(pg_url)
    home = tmp_path / "dagster_home"
    home.mkdir()
    # Run storage in PostgreSQL too.
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = user_env(tmp_path, emulator, url, ["BTC/USDT", "ETH/USDT"], ["1h"], dagster_home=home)
    config = Path(env["TITAN_CONFIG"])
    settings = yaml.safe_load(config.read_text())
    settings["exchanges"]["binance"].update(CREDENTIALS)
    config.write_text(yaml.safe_dump(settings))
    env.update(TITAN_TEST_API_KEY=API_KEY, TITAN_TEST_SECRET=SECRET,
               DAGSTER_PG_URL=url.replace("+psycopg:", "+psycopg2:"))
    emulator.inject(Fault("status", 503), count=10_000, symbol="ETH/USDT")  # an error path

    run = subprocess.run(materialize_command("ohlcv/binance/BTC_USDT,ohlcv/binance/ETH_USDT",
                                             "2024-01-01...2024-01-07"),
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    figures.take_requests(emulator)

    database = subprocess.run(["pg_dump", "--data-only", pg_url.replace("+psycopg", "")],
                              capture_output=True, text=True, check=True).stdout
    files = "\n".join(path.read_text(errors="replace") for path in home.rglob("*")
                      if path.is_file())
    traces = {"CLI output": run.stdout + run.stderr, "database (warehouse, runs, events)":
              database, "DAGSTER_HOME files (compute logs)": files}
    # The run did what it should, so there is something to search: BTC stored, ETH's
    # failure recorded with its exception, the warehouse URL shown masked.
    assert run.returncode != 0, run.stderr[-3000:]
    assert "ETH/USDT" in database and "failed after" in database
    assert "ASSET_MATERIALIZATION" in database and "ohlcv/binance/BTC_USDT" in run.stderr
    assert "postgres:***@127.0.0.1" in traces["CLI output"] + database
    for where, text in traces.items():
        for sentinel in SENTINELS:
            assert sentinel not in text, f"a secret appears in the {where}"
    figures.notes.append(f"3 sentinels searched in {sum(map(len, traces.values())):,} "
                         "characters of CLI output, database dump and DAGSTER_HOME files")


def test_the_credentials_reach_ccxt_from_the_environment_only(emulator, monkeypatch):
    settings = replace(binance_settings(emulator, ["BTC/USDT"]), **CREDENTIALS)

    async def keys():
        async with ExchangeClient(settings) as client:
            return client._exchange.apiKey, client._exchange.secret

    with pytest.raises(ExchangeAccessError, match="TITAN_TEST_API_KEY .* is not set") as error:
        asyncio.run(keys())
    assert API_KEY not in str(error.value)
    monkeypatch.setenv("TITAN_TEST_API_KEY", API_KEY)
    monkeypatch.setenv("TITAN_TEST_SECRET", SECRET)
    assert asyncio.run(keys()) == (API_KEY, SECRET)


def test_database_errors_never_carry_the_password():
    url = f"postgresql+psycopg://titan:{DB_PASSWORD}@127.0.0.1:1/titan"  # nobody listens
    warehouse = Warehouse(url, reconnect_timeout_s=0.3)
    assert warehouse.display_url == "postgresql+psycopg://titan:***@127.0.0.1:1/titan"
    with pytest.raises(WarehouseUnavailable) as error:
        warehouse.migrate()
    text = "".join(traceback.format_exception(error.value))
    assert "titan:***@127.0.0.1:1" in text and "Connection refused" in text
    assert DB_PASSWORD not in text


def test_the_twelvedata_key_goes_in_the_header_from_the_environment_only(sqlite_url,
                                                                         monkeypatch):
    """The emulator refuses any other key, so a stored candle proves the header carried it;
    the end-to-end search for it is tests/test_twelvedata_cli.py."""
    store = Warehouse(sqlite_url)
    store.migrate()
    monkeypatch.setenv(TWELVEDATA_KEY_ENV, TWELVEDATA_KEY)
    day = last_weekday()  # a weekend day holds no forex candle to prove the key by
    with twelvedata_emulator() as emu:
        outcomes, _ = run_twelvedata(twelvedata_settings(emu, ["EUR/USD"], ["1h"]), store,
                                     day, day)
        assert outcomes["EUR/USD"].error is None
        assert len(store.read_candles("twelvedata", "EUR/USD", "1h")) > 0
        for record in emu.requests:
            assert TWELVEDATA_KEY not in repr(record)  # not in a URL
    store.dispose()
