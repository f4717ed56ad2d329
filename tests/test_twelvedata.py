"""Twelve Data beside crypto: the real client against the Twelve Data emulator, stored in
PostgreSQL and SQLite. Closed market hours are no holes; what the source serves is stored."""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.twelvedata import (
    API_KEY,
    KEY_ENV,
    SYMBOLS,
    TIMEFRAMES,
    canonical,
    emulator,
    fewest_requests,
    run,
    served,
    settings,
    stored,
    two_years,
)
from titan_dagster.emulator import Fault
from titan_dagster.emulator.twelvedata import TIME_SERIES
from titan_dagster.emulator.venue import to_ms
from titan_dagster.exchange.errors import SymbolNotAvailable
from titan_dagster.exchange.retry import RetryPolicy
from titan_dagster.quality.assessments import invalid_rows, missing_candles
from titan_dagster.sources.twelvedata.answers import CreditsExhausted
from titan_dagster.sources.twelvedata.intervals import TWELVEDATA
from titan_dagster.timeframes import DAY_MS, day_start_ms, now_ms
from titan_dagster.warehouse import Warehouse

HOUR_MS = 3_600_000
PATIENT = RetryPolicy(max_attempts=10, base_delay_s=0.05, max_delay_s=0.2)  # 7 faults in a row


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, API_KEY)


def test_two_years_of_gold_forex_and_a_stock_are_stored_as_served_in_the_fewest_requests(
        warehouse):
    first, last = two_years()
    with emulator(credits_per_minute=6000, error_style="mixed") as emu:
        outcomes, client = run(settings(emu), warehouse, first, last)
        assert all(o.error is None for o in outcomes.values()), outcomes
        for symbol in SYMBOLS:
            for timeframe in TIMEFRAMES:
                rows = served(emu, symbol, timeframe, first, last)
                assert len(rows) > 400, (symbol, timeframe)
                assert stored(warehouse, symbol, timeframe) == canonical(rows), (symbol,
                                                                                  timeframe)
                assert outcomes[symbol].timeframes[timeframe].requests == \
                    fewest_requests(len(rows)), (symbol, timeframe)
                days = warehouse.complete_days(TWELVEDATA, symbol, timeframe, first, last)
                assert len(days) == 730, (symbol, timeframe)
            gaps = missing_candles(warehouse, TWELVEDATA, symbol, TIMEFRAMES,
                                   day_start_ms(first), day_start_ms(last) + DAY_MS, now_ms())
            assert gaps.passed, (symbol, gaps.summary)
        assert emu.minute_limit_hits == emu.day_limit_hits == 0
        # One run asks each series' first bar once.
        assert emu.count(TIME_SERIES) == client.calls["time_series"] == 14
        assert client.calls["earliest_timestamp"] == 8

        emu.clear_requests()
        again, _ = run(settings(emu), warehouse, first, last)
        assert all(o.requests == 0 and o.error is None for o in again.values())
        assert emu.requests == []


def test_forex_and_metals_have_no_volume_stored_as_null_stocks_have_theirs(warehouse):
    first = two_years()[1] - timedelta(days=6)
    with emulator() as emu:
        run(settings(emu, timeframes=["1h"]), warehouse, first, first + timedelta(days=6))
    with warehouse.engine.connect() as conn:
        rows = dict(conn.execute(sa.text(
            "SELECT symbol, count(volume) * 1.0 / count(*) FROM ohlcv GROUP BY symbol")).all())
    assert rows == {"XAU/USD": 0, "EUR/USD": 0, "GBP/USD": 0, "AAPL": 1}
    assert all(candle is None for candle in warehouse.read_candles(
        TWELVEDATA, "EUR/USD", "1h")["volume"])


def test_weekends_holidays_and_the_gold_break_are_no_gaps_a_real_hole_is_asked_once(warehouse):
    # A winter fortnight with Christmas in it, and a two-hour hole on a Tuesday afternoon.
    first, last = to_date("2025-12-15"), to_date("2025-12-28")
    hole = to_ms("2025-12-16T14:00:00Z")
    with emulator() as emu:
        emu.add_hole("EUR/USD", hole, hole + 2 * HOUR_MS)
        outcomes, _ = run(settings(emu, symbols=["EUR/USD", "XAU/USD", "AAPL"],
                                   timeframes=["1h", "1d"]), warehouse, first, last)
        asked = [r for r in emu.requests if r.path == TIME_SERIES and r.symbol == "EUR/USD"
                 and r.interval == "1h"]
    # The window, then the hole once.
    assert [r.params["start_date"] for r in asked] == ["2025-12-15 00:00:00",
                                                       "2025-12-16 14:00:00"]
    eur = outcomes["EUR/USD"].timeframes["1h"]
    assert eur.exchange_gap_candles == 2
    start, end = day_start_ms(first), day_start_ms(last) + DAY_MS
    for symbol in ("XAU/USD", "AAPL"):
        found = missing_candles(warehouse, TWELVEDATA, symbol, ("1h", "1d"), start, end,
                                now_ms())
        assert found.passed, (symbol, found.summary)
    found = missing_candles(warehouse, TWELVEDATA, "EUR/USD", ("1h", "1d"), start, end,
                            now_ms())
    assert (found.numbers["healable_missing_count"], found.numbers["exchange_gap_count"]) == (0, 2)
    assert found.warn_only and [(r["from"], r["kind"]) for r in found.sample] == [
        ("2025-12-16T14:00:00+00:00", "exchange gap")]
    assert warehouse.missing_ranges(TWELVEDATA, "EUR/USD", "1h", start, end) == [
        (hole, hole + 2 * HOUR_MS)]
    # Every day is settled: nothing for the heal sensor, weekends and Christmas included.
    for symbol in ("EUR/USD", "XAU/USD", "AAPL"):
        assert len(warehouse.complete_days(TWELVEDATA, symbol, "1h", first, last)) == 14


def test_a_stray_saturday_bar_is_stored_not_rejected_and_its_absence_is_no_gap(warehouse):
    first, last = to_date("2026-11-02"), to_date("2026-11-15")
    saturday = to_ms("2026-11-07T00:00:00Z")
    with emulator() as emu:
        emu.add_stray("EUR/USD", "1day", saturday)
        run(settings(emu, symbols=["EUR/USD"], timeframes=["1d"]), warehouse, first, last)
        assert stored(warehouse, "EUR/USD", "1d") == canonical(
            served(emu, "EUR/USD", "1d", first, last))
    days = [row[0] for row in stored(warehouse, "EUR/USD", "1d")]
    assert saturday in days and len(days) == 11  # ten weekdays and the stray Saturday
    assert invalid_rows(warehouse, TWELVEDATA, "EUR/USD", first, last).passed
    start, end = day_start_ms(first), day_start_ms(last) + DAY_MS
    assert missing_candles(warehouse, TWELVEDATA, "EUR/USD", ("1d",), start, end,
                           now_ms()).passed


@pytest.mark.parametrize("style", ["body", "http"])
def test_an_unknown_symbol_fails_at_once_named_and_the_others_are_stored(warehouse, style):
    first = two_years()[1] - timedelta(days=3)
    with emulator(error_style=style) as emu:
        outcomes, client = run(settings(emu, symbols=["EUR/USD", "XAG/EUR"],
                                        timeframes=["1h"]),
                               warehouse, first, first + timedelta(days=3))
        assert isinstance(outcomes["XAG/EUR"].error, SymbolNotAvailable)
        assert "twelvedata has no symbol 'XAG/EUR'" in str(outcomes["XAG/EUR"].error)
        assert [r.params["symbol"] for r in emu.requests].count("XAG/EUR") == 1  # not retried
        assert outcomes["EUR/USD"].error is None
        assert stored(warehouse, "EUR/USD", "1h") == canonical(
            served(emu, "EUR/USD", "1h", first, first + timedelta(days=3)))


def test_faults_of_every_kind_are_retried_and_the_result_is_what_is_served(sqlite_url, caplog):
    store = Warehouse(sqlite_url)
    store.migrate()
    first = two_years()[1] - timedelta(days=20)
    last = first + timedelta(days=20)
    with emulator() as emu:
        # The minute limit's 429 (as HTTP 429 and in a 200) waits for the next minute: one
        # of them is enough here, the other test below.
        faults = [fault for fault in emu.all_faults()
                  if fault.kind != "delay" and 429 not in (fault.status, fault.code)]
        faults.append(Fault("status", 200, code=429))
        for fault in faults:
            emu.inject(fault, path=TIME_SERIES)
        with caplog.at_level(logging.WARNING):
            outcomes, _ = run(settings(emu, symbols=["EUR/USD", "AAPL"], timeframes=["1h"]),
                              store, first, last, retry=PATIENT)
        assert all(o.error is None for o in outcomes.values()), outcomes
        assert emu.faults_injected == len(faults) == 6
        for symbol in ("EUR/USD", "AAPL"):
            assert stored(store, symbol, "1h") == canonical(served(emu, symbol, "1h", first,
                                                                   last))
        # The 429 paused every request until the next minute, so none was answered 429 twice.
        assert emu.minute_limit_hits == 0
    assert "MinuteLimit" in caplog.text and "Transient" in caplog.text
    assert API_KEY not in caplog.text
    store.dispose()


def test_a_wrong_key_is_refused_with_the_variable_named_never_the_key(warehouse, monkeypatch,
                                                                      caplog):
    monkeypatch.setenv(KEY_ENV, "wrong-" + API_KEY)
    first = two_years()[1]
    with emulator() as emu, caplog.at_level(logging.DEBUG):
        outcomes, _ = run(settings(emu, symbols=["EUR/USD"], timeframes=["1h"]), warehouse,
                          first, first)
    error = str(outcomes["EUR/USD"].error)
    assert "refused the API key" in error and "api_key_env" in error
    assert API_KEY not in error + caplog.text


def test_the_key_variable_unset_is_named(warehouse, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    with emulator() as emu, pytest.raises(Exception, match=f"{KEY_ENV} .*is not set"):
        run(settings(emu), warehouse, *two_years())


def test_a_run_stops_at_its_share_of_the_days_credits_and_the_next_run_goes_on(warehouse):
    first, last = two_years()
    with emulator(credits_per_day=10) as emu:
        source = settings(emu, symbols=["EUR/USD"], timeframes=["1h", "1d"], per_day=10)
        outcomes, client = run(source, warehouse, first, last)
        assert isinstance(outcomes["EUR/USD"].error, CreditsExhausted)
        assert sum(client.calls.values()) == 5  # half of the day's 10
        again, client = run(source, warehouse, first, last)
        assert sum(client.calls.values()) == 2  # half of the 5 left
        assert emu.day_limit_hits == 0
    assert warehouse.credits_used(TWELVEDATA, datetime.now(UTC).date()) == 7


def to_date(text: str) -> date:
    return date.fromisoformat(text)


def test_twelvedata_assets_materialize_with_their_checks_in_dagster(sqlite_url):
    import dagster as dg

    from titan_dagster.defs.ohlcv.assets import build_ohlcv_assets, ohlcv_asset_key
    from titan_dagster.defs.ohlcv.partitions import daily_partitions
    from titan_dagster.defs.resources import ExchangeResource, WarehouseResource

    today = datetime.now(UTC).date()
    first = today - timedelta(days=6)
    with emulator() as emu, dg.instance_for_test() as instance:
        source = settings(emu, symbols=["XAU/USD", "AAPL"], timeframes=["1h", "1d"])
        assets = build_ohlcv_assets(source, daily_partitions(first), "sqlite")
        result = dg.materialize(
            [assets], instance=instance, raise_on_error=False,
            tags={"dagster/asset_partition_range_start": first.isoformat(),
                  "dagster/asset_partition_range_end": today.isoformat()},
            resources={"warehouse": WarehouseResource(database_url=sqlite_url),
                       "exchanges": ExchangeResource(max_attempts=2)})
        assert result.success
        gold, apple = ohlcv_asset_key(TWELVEDATA, "XAU/USD"), ohlcv_asset_key(TWELVEDATA, "AAPL")
        assert gold.path == ["ohlcv", "twelvedata", "XAU_USD"]
        spec = {s.key: s for s in assets.specs}
        assert spec[gold].group_name == "twelvedata" and "twelvedata" in spec[gold].kinds
        volume = {c.name: c for c in spec[gold].metadata["dagster/column_schema"].columns}
        assert volume["volume"].constraints.nullable
        assert not {c.name: c for c in spec[apple].metadata["dagster/column_schema"].columns
                    }["volume"].constraints.nullable
        checks = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
        assert len(checks) == 8
        # Prices move while a market is closed: a weekend gap may warn (no_price_jumps), the
        # closed hours themselves fail nothing.
        failed = {key: e.description for key, e in checks.items()
                  if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR}
        assert not failed, failed
        assert all(checks[(key, name)].passed for key in (gold, apple)
                   for name in ("valid_candles", "no_gaps", "fresh"))
        assert len(instance.get_materialized_partitions(gold)) == 7
