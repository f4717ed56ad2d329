"""titan.yaml `strategies:` validated at load, naming file, field and value; versions."""

from dataclasses import replace

import pytest

from tests.test_config import config_error, write
from titan_dagster.config import load_config

VALID = """
start: 2024-01-01
exchanges:
  binance:
    symbols: [BTC/USDT, ETH/USDT]
    timeframes: [1h, 1d]
strategies:
  btc_sma_cross:
    kind: sma_cross
    params: {fast: 20, slow: 50}
    source: binance
    symbols: [BTC/USDT, ETH/USDT]
    timeframe: 1h
    risk:
      stop: {pct: 0.02}
      take_profit_1: {r: 1.0}
      take_profit_2: {r: 2.0}
      tp1_fraction: 0.5
      breakeven_after_tp1: true
      entry_valid_candles: 1
      max_hold_candles: 48
      fee_bps: 10
      slippage_bps: 2
    active: true
"""


def test_a_strategy_loads_with_its_risk(tmp_path):
    (strategy,) = load_config(write(tmp_path, VALID)).strategies
    assert (strategy.name, strategy.kind, strategy.source, strategy.timeframe) == (
        "btc_sma_cross", "sma_cross", "binance", "1h")
    assert strategy.symbols == ("BTC/USDT", "ETH/USDT")
    assert strategy.params == {"fast": 20, "slow": 50}
    risk = strategy.risk
    assert (risk.stop_pct, risk.stop_atr, risk.tp1_r, risk.tp2_r, risk.tp1_fraction) == (
        0.02, None, 1.0, 2.0, 0.5)
    assert (risk.max_hold_candles, risk.fee_bps, risk.slippage_bps) == (48, 10.0, 2.0)


def test_editing_params_or_risk_makes_a_new_version_adding_a_symbol_does_not(tmp_path):
    (base,) = load_config(write(tmp_path, VALID)).strategies
    (faster,) = load_config(write(tmp_path, VALID.replace("fast: 20", "fast: 10"))).strategies
    (wider,) = load_config(write(tmp_path, VALID.replace("pct: 0.02", "pct: 0.03"))).strategies
    assert len({base.version, faster.version, wider.version}) == 3
    assert replace(base, symbols=("BTC/USDT",)).version == base.version
    assert load_config(write(tmp_path, VALID)).strategies[0].version == base.version


def test_an_atr_stop_and_a_user_function(tmp_path):
    text = VALID.replace("stop: {pct: 0.02}", "stop: {atr: 2.0, period: 14}").replace(
        "kind: sma_cross", 'kind: "tests.signals.test_kinds:my_kind"').replace(
        "    params: {fast: 20, slow: 50}\n", "")
    (strategy,) = load_config(write(tmp_path, text)).strategies
    assert (strategy.risk.stop_atr, strategy.risk.atr_period) == (2.0, 14)
    assert strategy.kind == "tests.signals.test_kinds:my_kind"


@pytest.mark.parametrize(("old", "new", "field", "value"), [
    ("kind: sma_cross", "kind: macd", "strategies.btc_sma_cross.kind", "'macd'"),
    ("kind: sma_cross", "kind: nowhere.module:fn", "strategies.btc_sma_cross.kind", "nowhere"),
    ("fast: 20", "fast: 60", "strategies.btc_sma_cross.params", "fast"),
    ("fast: 20", "fats: 20", "strategies.btc_sma_cross.params", "fats"),
    ("source: binance", "source: kraken", "strategies.btc_sma_cross.source", "'kraken'"),
    ("symbols: [BTC/USDT, ETH/USDT]\n    timeframe: 1h", "symbols: [BTC/USDT, SOL/USDT]\n"
     "    timeframe: 1h", "strategies.btc_sma_cross.symbols[1]", "'SOL/USDT'"),
    ("timeframe: 1h", "timeframe: 4h", "strategies.btc_sma_cross.timeframe", "'4h'"),
    ("stop: {pct: 0.02}", "stop: {pct: 2}", "strategies.btc_sma_cross.risk.stop.pct", "2"),
    ("stop: {pct: 0.02}", "stop: {pct: 0.02, atr: 2}", "strategies.btc_sma_cross.risk.stop",
     "is not a stop"),
    ("take_profit_2: {r: 2.0}", "take_profit_2: {r: 0.5}",
     "strategies.btc_sma_cross.risk.take_profit_2", "nearer than take_profit_1"),
    ("tp1_fraction: 0.5", "tp1_fraction: 1.5", "strategies.btc_sma_cross.risk.tp1_fraction",
     "1.5"),
    ("max_hold_candles: 48", "max_hold_candles: 0",
     "strategies.btc_sma_cross.risk.max_hold_candles", "0"),
    ("fee_bps: 10", "fees: 10", "strategies.btc_sma_cross.risk", "'fees'"),
    ("active: true", "active: yes please", "strategies.btc_sma_cross.active", "yes please"),
    ("  btc_sma_cross:", "  BTC-cross:", "strategies", "'BTC-cross'"),
    ("    risk:\n", "    risky: 1\n    risk:\n", "strategies.btc_sma_cross", "'risky'"),
])
def test_bad_strategies_name_file_field_and_value(tmp_path, old, new, field, value):
    config_error(tmp_path, VALID, old, new, field, value)


def test_live_since_and_min_live_trades(tmp_path):
    (base,) = load_config(write(tmp_path, VALID)).strategies
    assert (base.live_since, base.min_live_trades) == (None, 20)
    text = VALID.replace("    active: true", "    active: true\n    live_since: 2026-11-01\n"
                                               "    min_live_trades: 30")
    (strategy,) = load_config(write(tmp_path, text)).strategies
    assert (strategy.live_since, strategy.min_live_trades) == (1_793_491_200_000, 30)
    at = VALID.replace("    active: true", '    active: true\n    live_since: '
                                           '"2026-11-01T12:30:00Z"')
    assert load_config(write(tmp_path, at)).strategies[0].live_since == 1_793_536_200_000
    # Neither changes what the results mean: the version stays.
    assert strategy.version == base.version


@pytest.mark.parametrize(("new", "field", "value"), [
    ("live_since: soon", "live_since", "'soon'"),
    ('live_since: "2026-11-01T12:00:00+02:00"', "live_since", "not UTC"),
    ("min_live_trades: 1", "min_live_trades", "1 is not a whole number from 2"),
    ("min_live_trades: many", "min_live_trades", "'many'"),
])
def test_bad_live_settings_are_named(tmp_path, new, field, value):
    config_error(tmp_path, VALID, "    active: true", f"    active: true\n    {new}",
                 f"strategies.btc_sma_cross.{field}", value)
