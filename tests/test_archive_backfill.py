"""Archive-first backfill: closed days from the emulator's archive tree (monthly files, then
daily ones), REST for today and for whatever the archive could not give, every archived day
checked like a REST page, a sample compared with REST; killed and re-run, it converges."""

import asyncio
import logging
import os
import signal
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import backfill_outcomes, binance_settings, stored_rows, truth_rows
from tests.reliability.backfill_process import command
from titan_dagster.defs.automation.refresh import refresh_run_config
from titan_dagster.defs.ohlcv.assets import build_ohlcv_assets, ohlcv_asset_key
from titan_dagster.defs.ohlcv.partitions import daily_partitions
from titan_dagster.defs.resources import ExchangeResource, WarehouseResource
from titan_dagster.emulator import ArchiveSettings, BinanceEmulator
from titan_dagster.emulator.binance import KLINES
from titan_dagster.ingest.backfill import SETTLE_MS
from titan_dagster.quality.assessments import archive_agreement
from titan_dagster.sources.binance_archive import ArchiveFile
from titan_dagster.timeframes import (
    DAY_MS,
    day_of_ms,
    day_start_ms,
    floor_ms,
    now_ms,
    timeframe_ms,
    to_datetime,
)
from titan_dagster.warehouse import Warehouse

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
TIMEFRAMES = ["1m", "1h"]
# A month's file appears 10 days after it ends (within the 14 days the backfill waits for one
# before it takes the month as never coming): whatever today's date, the days since the last
# published month, at least 10, come from daily files.
MONTHLY_DELAY = 10 * DAY_MS


def archive_emulator(symbols=SYMBOLS) -> BinanceEmulator:
    return BinanceEmulator({symbol: "2019-09-08" for symbol in symbols},
                           archive=ArchiveSettings(monthly_delay_ms=MONTHLY_DELAY))


def months_back(today: date, months: int) -> date:
    """The first day of the month `months` before today's."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, 1)


def daily(symbol: str, timeframe: str, day: date) -> ArchiveFile:
    return ArchiveFile(symbol.replace("/", ""), timeframe, day.year, day.month, day.day)


def rest_days(emu: BinanceEmulator) -> dict[tuple[str, str], set[date]]:
    """The UTC days each symbol's and timeframe's klines requests started on."""
    days: dict[tuple[str, str], set[date]] = {}
    for request in emu.requests:
        if request.path == KLINES:
            key = (request.symbol, request.interval)
            days.setdefault(key, set()).add(day_of_ms(int(request.params["startTime"])))
    return days


def closed_rows_equal_truth(emu, warehouse, symbol, timeframe, start, started_ms) -> None:
    """Everything stored is what REST serves, and nothing closed before the run is missing."""
    step = timeframe_ms(timeframe)
    stored = stored_rows(warehouse, symbol, timeframe)
    truth = truth_rows(emu, symbol, timeframe, start, floor_ms(now_ms(), step))
    closed = floor_ms(started_ms - SETTLE_MS, step)
    assert stored == truth[:len(stored)], (symbol, timeframe)
    assert len(stored) >= sum(1 for row in truth if row[0] < closed), (symbol, timeframe)


def test_fourteen_months_from_the_archive_equal_rest_with_rest_only_where_it_must(pg_url,
                                                                                    caplog):
    caplog.set_level(logging.WARNING)
    warehouse = Warehouse(pg_url)
    warehouse.migrate()
    today = datetime.now(UTC).date()
    first = months_back(today, 13)  # 14 months with the current one
    start = day_start_ms(first)
    hidden = daily("BTC/USDT", "1m", today - timedelta(days=3))  # never published
    damaged = daily("SOL/USDT", "1h", today - timedelta(days=5))  # corrupt on every download
    stale = ArchiveFile("ETHUSDT", "1m", first.year, first.month)  # a wrong CHECKSUM
    with archive_emulator() as emu:
        emu.archive.hide(hidden.path)
        emu.archive.corrupt(damaged.path, "zip")
        emu.archive.corrupt(stale.path, "checksum")
        started = now_ms()
        outcomes = asyncio.run(backfill_outcomes(
            binance_settings(emu, SYMBOLS, TIMEFRAMES, archive=True), warehouse, first, today,
            run_id="first"))

        assert {s: o.error for s, o in outcomes.items()} == dict.fromkeys(SYMBOLS)
        for symbol in SYMBOLS:
            for timeframe in TIMEFRAMES:
                closed_rows_equal_truth(emu, warehouse, symbol, timeframe, start, started)
        archived = warehouse.archive_days("binance", "BTC/USDT", first, today)
        compared = {(symbol, timeframe): {day for day in archived_days["day"][
            archived_days["rest_candles"].notna() & (archived_days["timeframe"] == timeframe)]}
            for symbol in SYMBOLS
            for archived_days in [warehouse.archive_days("binance", symbol, first, today)]
            for timeframe in TIMEFRAMES}
        # REST was asked for today, the file never published, the corrupt one, and the days
        # sampled for the comparison: nothing else.
        expected = {key: {today} | days for key, days in compared.items()}
        expected[("BTC/USDT", "1m")].add(today - timedelta(days=3))
        expected[("SOL/USDT", "1h")].add(today - timedelta(days=5))
        assert rest_days(emu) == expected
        assert all(len(days) == 2 for days in compared.values())
        # Every closed day but the two REST stood in for is recorded from its file.
        closed_days = (today - first).days
        assert len(archived[archived["timeframe"] == "1h"]) == closed_days
        assert len(archived[archived["timeframe"] == "1m"]) == closed_days - 1
        assert set(archived["file"]) >= {f"BTCUSDT-1h-{first:%Y-%m}.zip"}
        # The stale CHECKSUM: downloaded twice, then the month's daily files instead.
        assert sum(1 for r in emu.requests if r.path == stale.path) == 2
        eth = warehouse.archive_days("binance", "ETH/USDT", first, today)
        eth_files = set(eth[eth["timeframe"] == "1m"]["file"])
        assert {day.name for day in stale.days()} <= eth_files
        assert stale.name not in eth_files
        assert sum(1 for r in emu.requests if r.path == damaged.path) == 2
        warnings = caplog.text
        assert damaged.name in warnings and "taking its candles from elsewhere" in warnings
        assert stale.name in warnings and "downloading it again" in warnings
        assert not archive_agreement(warehouse, "binance", "BTC/USDT", first, today,
                                     to_datetime(start), to_datetime(now_ms())).sample

        emu.clear_requests()
        again = asyncio.run(backfill_outcomes(
            binance_settings(emu, SYMBOLS, TIMEFRAMES, archive=True), warehouse, first, today,
            run_id="second"))

        assert emu.count_archive() == 0
        assert set().union(*rest_days(emu).values()) <= {today}
        assert all(t.archive_checks == [] for o in again.values() for t in o.timeframes.values())
    warehouse.dispose()


def test_an_archive_unlike_rest_is_reported_and_rest_wins(warehouse_url):
    warehouse = Warehouse(warehouse_url)
    warehouse.migrate()
    today = datetime.now(UTC).date()
    first = months_back(today, 2)
    month = ArchiveFile("BTCUSDT", "1h", first.year, first.month)
    with archive_emulator(["BTC/USDT"]) as emu:
        emu.archive.corrupt(month.path, "values")
        outcomes = asyncio.run(backfill_outcomes(
            binance_settings(emu, ["BTC/USDT"], ["1h"], archive=True), warehouse, first,
            today, sample_days=1000))

        checks = outcomes["BTC/USDT"].timeframes["1h"].archive_checks
        assert len(checks) == (today - first).days  # every archived day compared
        differing = [check for check in checks if check.differences]
        assert len(differing) == 1
        ((ts, archived, rest),) = differing[0].differences
        truth = {row[0]: row for row in truth_rows(emu, "BTC/USDT", "1h", month.start_ms,
                                                    month.end_ms)}
        assert truth[ts][4] == Decimal(rest[3]) != Decimal(archived[3])
        assert stored_rows(warehouse, "BTC/USDT", "1h")[:len(truth)] == list(truth.values())
        found = archive_agreement(warehouse, "binance", "BTC/USDT", first, today,
                                  to_datetime(month.start_ms), to_datetime(now_ms()))
        assert not found.passed and found.warn_only
        assert found.numbers["differing_candles"] == 1
        assert Decimal(found.sample[0]["archive_close"]) == Decimal(archived[3])
        assert Decimal(found.sample[0]["rest_close"]) == Decimal(rest[3])
    warehouse.dispose()


def test_sigkill_mid_archive_then_rerun_ends_equal_fetching_only_unfinished_days(
        pg_url, tmp_path):
    # On PostgreSQL: a day and its candles share one transaction on both backends, which
    # tests/reliability/test_crashes.py kills on each; here it is what an archive run resumes.
    today = datetime.now(UTC).date()
    first = months_back(today, 2)
    warehouse = Warehouse(pg_url)
    warehouse.migrate()
    with archive_emulator(["BTC/USDT", "ETH/USDT"]) as emu:
        argv = command(pg_url, emu.base_url, first, today, "1m",
                       ["BTC/USDT", "ETH/USDT"], archive=True)
        child = subprocess.Popen(argv, stderr=(tmp_path / "killed.err").open("w"))
        # Killed once some days are stored and files are still to come.
        deadline = time.monotonic() + 120
        while child.poll() is None and time.monotonic() < deadline and not any(
                warehouse.complete_days("binance", s, "1m", first, today)
                for s in ("BTC/USDT", "ETH/USDT")):
            time.sleep(0.005)
        assert child.poll() is None, "the run finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        done = {s: warehouse.complete_days("binance", s, "1m", first, today)
                for s in ("BTC/USDT", "ETH/USDT")}
        assert 0 < sum(map(len, done.values())) < 2 * (today - first).days
        for symbol, days in done.items():
            stored = {row[0]: row for row in stored_rows(warehouse, symbol, "1m")}
            for day in days:  # a day recorded complete holds every candle of it
                truth = truth_rows(emu, symbol, "1m", day_start_ms(day),
                                   day_start_ms(day) + DAY_MS)
                assert [stored.get(row[0]) for row in truth] == truth
        emu.clear_requests()

        rerun = subprocess.run(argv, capture_output=True, text=True, timeout=300)

        assert rerun.returncode == 0, rerun.stderr[-2000:]
        for symbol in ("BTC/USDT", "ETH/USDT"):
            closed_rows_equal_truth(emu, warehouse, symbol, "1m", day_start_ms(first),
                                    now_ms() - 60_000)
            # No file was downloaded whose days were all complete before.
            market = symbol.replace("/", "")
            for request in emu.requests:
                parsed = ArchiveFile.from_path(request.path)
                if parsed is not None and parsed[0].market_id == market:
                    file = parsed[0]
                    days = {day_of_ms(ms) for ms in range(file.start_ms, file.end_ms, DAY_MS)}
                    assert not days <= done[symbol], file.name
    warehouse.dispose()


@pytest.mark.parametrize("name", ["okx", "kraken"])
def test_only_binance_has_an_archive_and_it_can_be_turned_off(tmp_path, name):
    from titan_dagster.config import ConfigError, load_config

    def config(exchange: str, extra: str) -> Path:
        path = tmp_path / f"{exchange}.yaml"
        path.write_text(f"start: 2024-01-01\nexchanges:\n  {exchange}:\n"
                        f"    symbols: [BTC/USDT]\n    timeframes: [1h]\n{extra}")
        return path

    assert load_config(config("binance", "")).exchange("binance").archive_url \
        == "https://data.binance.vision"
    mirrored = load_config(config("binance", "    api_url: http://127.0.0.1:9\n"))
    assert mirrored.exchange("binance").archive_url == "http://127.0.0.1:9"
    assert load_config(config("binance", "    archives: false\n")).exchange(
        "binance").archive_url is None
    with pytest.raises(ConfigError, match=f"exchanges.{name}.archives: {name} publishes no"):
        load_config(config(name, "    archives: true\n"))
    with pytest.raises(ConfigError, match="archive_url: set, but archives is false"):
        load_config(config("binance", "    archives: false\n    archive_url: http://x.test\n"))
    with pytest.raises(ConfigError, match="archives: 'yes' is not true or false"):
        load_config(config("binance", "    archives: 'yes'\n"))


def test_through_dagster_archived_days_and_the_comparison_show_and_the_refresh_skips_it(
        sqlite_url):
    today = datetime.now(UTC).date()
    first = months_back(today, 1)
    key = ohlcv_asset_key("binance", "BTC/USDT")
    with archive_emulator(["BTC/USDT"]) as emu, dg.instance_for_test() as instance:
        settings = binance_settings(emu, ["BTC/USDT"], ["1h"], archive=True)
        assets = build_ohlcv_assets(settings, daily_partitions(first), "sqlite")
        resources = {"warehouse": WarehouseResource(database_url=sqlite_url),
                     "exchanges": ExchangeResource(max_attempts=2)}

        def materialize(last: date, run_config: dict | None = None):
            return dg.materialize(
                [assets], instance=instance, resources=resources, run_config=run_config,
                tags={"dagster/asset_partition_range_start": first.isoformat(),
                      "dagster/asset_partition_range_end": last.isoformat()})

        # The refresh's run config asks REST only, whatever the days.
        assert materialize(first + timedelta(days=1), refresh_run_config(settings)).success
        assert emu.count_archive() == 0 and emu.count() > 0

        result = materialize(today)

        assert result.success
        days = (today - first).days - 2  # closed days the first run did not store
        assert emu.count_archive("BTC/USDT", "1h") > 0
        metadata = {name: value.value for name, value in instance.get_latest_materialization_event(
            key).asset_materialization.metadata.items()}
        assert metadata["days_from_archive"] == days
        assert metadata["archive_days_compared_with_rest"] == 2
        assert metadata["archive_candles_differing_from_rest"] == 0
        (check,) = [e for e in result.get_asset_check_evaluations()
                    if e.check_name == "archive_matches_rest"]
        assert check.passed
        assert check.metadata["archived_days"].value == days
        assert check.metadata["compared_candles"].value == 2 * 24
        assert f"{days} days from archive files (1h: {days}), 2 of them re-fetched" \
            in check.description


def test_months_before_a_listing_cost_one_rest_request_and_complete_empty(sqlite_url):
    warehouse = Warehouse(sqlite_url)
    warehouse.migrate()
    today = datetime.now(UTC).date()
    first = months_back(today, 5)
    listed = day_start_ms(months_back(today, 2)) + 10 * DAY_MS + 7 * 3_600_000
    with BinanceEmulator({"SOL/USDT": to_datetime(listed).isoformat()},
                         archive=ArchiveSettings(monthly_delay_ms=MONTHLY_DELAY)) as emu:
        started = now_ms()
        asyncio.run(backfill_outcomes(binance_settings(emu, ["SOL/USDT"], ["1h"], archive=True),
                                      warehouse, first, today))

        closed_rows_equal_truth(emu, warehouse, "SOL/USDT", "1h", day_start_ms(first), started)
        assert stored_rows(warehouse, "SOL/USDT", "1h")[0][0] == listed
        before = [r for r in emu.requests if r.path == KLINES
                  and int(r.params["startTime"]) < listed]
        assert len(before) == 1  # the months before the listing, confirmed at once
        assert warehouse.complete_days("binance", "SOL/USDT", "1h", first, today) \
            >= {first + timedelta(days=i) for i in range((today - first).days)}
    warehouse.dispose()
