"""titan.yaml errors fail at load and name the file, the field and the bad value."""

import os
import subprocess
from pathlib import Path

import pytest

from titan_dagster.cli.dagster_tools import dg_command
from titan_dagster.config import ConfigError, load_config

REPO = Path(__file__).resolve().parent.parent

VALID = """
start: 2020-01-01
exchanges:
  binance:
    symbols: [BTC/USDT, ETH/USDT]
    timeframes: [1d, 1h]
    api_url: http://127.0.0.1:18080
"""


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "titan.yaml"
    path.write_text(text)
    return path


def config_error(tmp_path, valid: str, old: str, new: str, field: str, value: str) -> str:
    """The error of `valid` with `old` replaced by `new`, checked to start with the file and
    the field and to name the value; returned for further checks."""
    assert old in valid
    path = write(tmp_path, valid.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {field}: "), message
    assert value in message, message
    return message


def test_the_shipped_titan_yaml_is_valid_and_has_20_usdt_pairs():
    config = load_config(REPO / "titan.yaml")
    binance = config.exchange("binance")
    assert len(binance.symbols) == 20
    assert all(symbol.endswith("/USDT") for symbol in binance.symbols)
    assert binance.timeframes == ("1d", "1h")


def test_a_valid_config_loads(tmp_path):
    config = load_config(write(tmp_path, VALID))
    assert config.start.isoformat() == "2020-01-01"
    assert config.exchange("binance").api_url == "http://127.0.0.1:18080"


@pytest.mark.parametrize(("old", "new", "field", "value"), [
    ("binance:", "binanze:", "exchanges", "binanze"),
    ("[1d, 1h]", "[1d, 7x]", "exchanges.binance.timeframes[1]", "7x"),
    ("[1d, 1h]", "[1d, 1w]", "exchanges.binance.timeframes[1]", "1w"),
    ("[1d, 1h]", "[1d, 7m]", "exchanges.binance.timeframes[1]", "7m"),
    ("BTC/USDT,", "btc-usdt,", "exchanges.binance.symbols[0]", "btc-usdt"),
    ("[BTC/USDT, ETH/USDT]", "[BTC/USDT, BTC/USDT]", "exchanges.binance.symbols", "BTC/USDT"),
    ("2020-01-01", "2020-13-01", "start", "2020-13-01"),
    ("2020-01-01", "3020-01-01", "start", "3020-01-01"),
    ("start: 2020-01-01", "begin: 2020-01-01", "(top level)", "begin"),
    ("    timeframes: [1d, 1h]\n", "", "exchanges.binance.timeframes", "missing"),
    ("http://127.0.0.1:18080", "ftp://mirror", "exchanges.binance.api_url", "ftp://mirror"),
    ("    symbols:", "    symbolz:", "exchanges.binance", "symbolz"),
    ("start: 2020-01-01", "start: 2020-01-01\nquality: {max_price_jump: -1}",
     "quality.max_price_jump", "-1"),
    ("start: 2020-01-01", "start: 2020-01-01\nquality: {jump: 1}", "quality", "jump"),
])
def test_config_errors_name_file_field_and_value(tmp_path, old, new, field, value):
    config_error(tmp_path, VALID, old, new, field, value)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, VALID.replace("[1d, 1h]", "[1d, 1h"))
    with pytest.raises(ConfigError, match=r"titan.yaml: line \d+, column \d+: invalid YAML"):
        load_config(path)


def test_missing_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(ConfigError, match="TITAN_CONFIG"):
        load_config(tmp_path / "absent.yaml")


def test_definitions_fail_to_load_with_the_config_error(tmp_path):
    path = write(tmp_path, VALID.replace("[1d, 1h]", "[1d, 2x]"))
    env = {**os.environ, "TITAN_CONFIG": str(path), "DAGSTER_HOME": str(tmp_path)}
    done = subprocess.run(
        dg_command("check", "defs"),
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert f"{path}: exchanges.binance.timeframes[1]: '2x'" in done.stdout + done.stderr
