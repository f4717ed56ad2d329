"""Closed markets are not stale: `fresh`, `titan health` and the refresh schedule judged at
injected moments, on forex, a stock and crypto."""

from datetime import UTC, datetime

import dagster as dg
import pytest
import yaml

from titan_dagster.config import load_config
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.defs.automation.refresh import build_refresh_schedule, closed_at, refresh_job
from titan_dagster.defs.ohlcv.assets import ohlcv_asset_key
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.emulator.venue import to_ms
from titan_dagster.health import health_report
from titan_dagster.quality.assessments import staleness
from titan_dagster.warehouse.batch import Batch

HOUR = 3_600_000
FRIDAY_EUR = [to_ms(f"2026-11-27T{h:02}:00:00Z") for h in range(22)]  # closes 22:00 UTC
FRIDAY_AAPL = [to_ms(f"2026-11-27T{h:02}:30:00Z") for h in range(14, 18)]  # early close 18:00
SATURDAY = to_ms("2026-11-28T12:00:00Z")
TWELVEDATA = ExchangeSettings(name="twelvedata", symbols=("EUR/USD", "AAPL"),
                              timeframes=("1h", "1d"), api_key_env="TD_KEY",
                              credits_per_minute=8, credits_per_day=800)


def store_candles(warehouse, exchange: str, symbol: str, times: list[int]) -> None:
    volume = "10" if symbol != "EUR/USD" else None
    warehouse.write(exchange, symbol, "1h", Batch(candles=[(ts, "1", "1", "1", "1", volume)
                                                           for ts in times]))


def test_on_saturday_forex_and_stocks_are_closed_not_stale(warehouse):
    store_candles(warehouse, "twelvedata", "EUR/USD", FRIDAY_EUR)
    store_candles(warehouse, "twelvedata", "AAPL", FRIDAY_AAPL)
    eur = staleness(warehouse, "twelvedata", "EUR/USD", ("1h",), SATURDAY)
    assert eur.passed and eur.summary == "market closed since 2026-11-27 22:00 UTC"
    assert eur.numbers["age_s_1h"] == (SATURDAY - FRIDAY_EUR[-1]) / 1000  # 15 hours: ages
    aapl = staleness(warehouse, "twelvedata", "AAPL", ("1h",), SATURDAY)
    assert aapl.passed and aapl.summary == "market closed since 2026-11-27 18:00 UTC"
    # Crypto trades on Saturdays: the same candles there are stale.
    store_candles(warehouse, "binance", "BTC/USDT", FRIDAY_EUR)
    btc = staleness(warehouse, "binance", "BTC/USDT", ("1h",), SATURDAY)
    assert not btc.passed and btc.summary == "1h: newest opened 2026-11-27 21:00"


@pytest.mark.parametrize(("newest", "now", "stale"), [
    ("2026-11-24T13:00:00Z", "2026-11-24T15:05:00Z", True),  # the 14:00 candle is missing
    ("2026-11-24T13:00:00Z", "2026-11-24T15:00:59Z", False),  # ... but only just closed
    ("2026-11-24T14:00:00Z", "2026-11-24T15:05:00Z", False),
    # Closed since Friday, yet the last hours before the close are missing: stale.
    ("2026-11-27T18:00:00Z", "2026-11-28T12:00:00Z", True),
])
def test_on_a_tuesday_a_candle_two_hours_old_is_stale(warehouse, newest, now, stale):
    store_candles(warehouse, "twelvedata", "EUR/USD", [to_ms(newest)])
    verdict = staleness(warehouse, "twelvedata", "EUR/USD", ("1h",), to_ms(now))
    assert verdict.passed is not stale
    assert verdict.summary.startswith("1h: newest opened") is stale


def test_titan_health_on_saturday_says_closed_and_on_tuesday_stale(tmp_path, warehouse):
    path = tmp_path / "titan.yaml"
    path.write_text(yaml.safe_dump({"start": "2026-11-01", "exchanges": {"twelvedata": {
        "symbols": ["EUR/USD", "AAPL"], "timeframes": ["1h"], "api_key_env": "TD_KEY"}}}))
    config = load_config(path)
    tuesday = to_ms("2026-11-24T15:05:00Z")
    store_candles(warehouse, "twelvedata", "EUR/USD", [tuesday - 2 * HOUR - 5 * 60_000])
    store_candles(warehouse, "twelvedata", "AAPL", [to_ms("2026-11-24T14:30:00Z")])
    report, code = health_report(config, warehouse, now=tuesday)
    assert (code, report["status"], report["stale"]) == (1, "stale", ["twelvedata EUR/USD 1h"])
    assert "market_closed_since" not in report

    store_candles(warehouse, "twelvedata", "EUR/USD", FRIDAY_EUR)
    store_candles(warehouse, "twelvedata", "AAPL", FRIDAY_AAPL)
    report, code = health_report(config, warehouse, now=SATURDAY)
    assert (code, report["status"]) == (0, "ok")
    assert report["market_closed_since"] == {"twelvedata": {
        "EUR/USD": "2026-11-27T22:00:00Z", "AAPL": "2026-11-27T18:00:00Z"}}
    assert report["latest_candle_age_s"]["twelvedata"]["EUR/USD"]["1h"] == 15 * 3600


@pytest.mark.parametrize(("tick", "due"), [
    ("2026-11-24T15:00:00Z", {"1h": ["EUR/USD"]}),  # AAPL's 14:30 candle has not closed
    ("2026-11-24T15:30:00Z", {"1h": ["AAPL"]}),
    ("2026-11-24T15:07:00Z", {}),
    ("2026-11-24T00:00:00Z", {"1h": ["EUR/USD"], "1d": ["EUR/USD", "AAPL"]}),  # Monday's
    ("2026-11-28T12:00:00Z", {}),  # Saturday
    ("2026-11-28T00:00:00Z", {"1d": ["EUR/USD", "AAPL"]}),  # Friday's daily; no hour closed
])
def test_the_twelvedata_refresh_runs_when_a_candle_closed(tick, due):
    assert closed_at(TWELVEDATA, to_ms(tick)) == due


def test_the_twelvedata_refresh_schedule_skips_closed_minutes_and_fetches_due_timeframes(
        sqlite_url):
    schedule = build_refresh_schedule(TWELVEDATA, refresh_job(TWELVEDATA))

    def tick(at: str):
        moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
        with dg.instance_for_test() as instance, dg.build_schedule_context(
                instance=instance, scheduled_execution_time=moment,
                resources={"warehouse": WarehouseResource(database_url=sqlite_url)}) as context:
            return schedule.evaluate_tick(context)

    saturday = tick("2026-11-28T12:00:00")
    assert not saturday.run_requests and "no twelvedata candle closed" in saturday.skip_message
    (request,) = tick("2026-11-24T15:00:00").run_requests
    assert request.run_config["ops"]["ohlcv_twelvedata"]["config"] == {
        "budget_share": 0.25, "timeframes": ["1h"]}
    eur = ohlcv_asset_key("twelvedata", "EUR/USD")
    assert request.asset_selection == [eur]  # AAPL has nothing new at 15:00
    assert request.asset_check_keys == [dg.AssetCheckKey(eur, "fresh")]
