"""The twelvedata entry of titan.yaml: its own symbols, intervals, key variable and plan."""

import pytest

from tests.test_config import config_error, write
from titan_dagster.config import load_config

VALID = """
start: 2024-01-01
exchanges:
  twelvedata:
    symbols: [XAU/USD, EUR/USD, GBP/USD, AAPL]
    timeframes: [1h, 1d]
    api_key_env: TWELVEDATA_API_KEY
    credits_per_minute: 8
    credits_per_day: 800
    api_url: http://127.0.0.1:18950
"""


def test_the_issue_example_loads(tmp_path):
    source = load_config(write(tmp_path, VALID)).exchange("twelvedata")
    assert source.symbols == ("XAU/USD", "EUR/USD", "GBP/USD", "AAPL")
    assert source.timeframes == ("1h", "1d")
    assert (source.api_key_env, source.credits_per_minute, source.credits_per_day) == (
        "TWELVEDATA_API_KEY", 8, 800)


def test_a_plan_left_out_is_the_free_one(tmp_path):
    text = VALID.replace("    credits_per_minute: 8\n    credits_per_day: 800\n", "")
    source = load_config(write(tmp_path, text)).exchange("twelvedata")
    assert (source.credits_per_minute, source.credits_per_day) == (8, 800)


def test_twelvedata_beside_a_ccxt_exchange(tmp_path):
    text = VALID + "  binance:\n    symbols: [BTC/USDT]\n    timeframes: [1h]\n"
    config = load_config(write(tmp_path, text))
    assert [e.name for e in config.exchanges] == ["twelvedata", "binance"]


@pytest.mark.parametrize(("old", "new", "field", "value"), [
    ("[1h, 1d]", "[1h, 3m]", "exchanges.twelvedata.timeframes[1]", "'3m' is not offered by "
     "twelvedata"),
    ("[1h, 1d]", "[1h, 2h]", "exchanges.twelvedata.timeframes[1]", "'2h' for AAPL"),
    ("AAPL]", "aapl]", "exchanges.twelvedata.symbols[3]", "'aapl' is not a Twelve Data symbol"),
    ("AAPL]", "AAPL INC]", "exchanges.twelvedata.symbols[3]", "'AAPL INC'"),
    ("    api_key_env: TWELVEDATA_API_KEY\n", "", "exchanges.twelvedata.api_key_env",
     "missing required field"),
    ("api_key_env: TWELVEDATA_API_KEY", "api_key_env: my key",
     "exchanges.twelvedata.api_key_env", "'my key' is not an environment variable"),
    ("api_key_env: TWELVEDATA_API_KEY", "api_key: abc123", "exchanges.twelvedata.api_key",
     "credentials do not go in the config file"),
    ("credits_per_minute: 8", "credits_per_minute: 0", "exchanges.twelvedata.credits_per_minute",
     "0 is not a whole number of credits"),
    ("credits_per_day: 800", "credits_per_day: 2.5", "exchanges.twelvedata.credits_per_day",
     "2.5"),
    ("credits_per_day: 800", "credits_per_day: 4", "exchanges.twelvedata.credits_per_minute",
     "more than credits_per_day"),
    ("credits_per_minute: 8", "requests_per_second: 8", "exchanges.twelvedata",
     "unknown field 'requests_per_second'"),
    ("http://127.0.0.1:18950", "127.0.0.1:18950", "exchanges.twelvedata.api_url",
     "is not an http(s) URL"),
])
def test_bad_twelvedata_entries_name_file_field_and_value(tmp_path, old, new, field, value):
    message = config_error(tmp_path, VALID, old, new, field, value)
    assert "abc123" not in message
