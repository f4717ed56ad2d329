"""The OHLCV assets through Dagster: a partition range is one run, and every partition of
every selected asset is materialized with metadata."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from tests.conftest import binance_settings, stored_rows, truth_rows
from titan_dagster.config.model import ExchangeSettings, TitanConfig
from titan_dagster.defs.ohlcv.assets import build_ohlcv_assets, ohlcv_asset_key
from titan_dagster.defs.ohlcv.partitions import daily_partitions
from titan_dagster.defs.quality.gap_report import build_gap_report
from titan_dagster.defs.resources import ExchangeResource, WarehouseResource
from titan_dagster.emulator import Fault, KrakenEmulator
from titan_dagster.ingest.backfill import REACH_MARGIN
from titan_dagster.timeframes import DAY_MS, day_start_ms, floor_ms, now_ms
from titan_dagster.warehouse import Warehouse

HOUR = 3_600_000
RANGE = {"dagster/asset_partition_range_start": "2024-01-01",
         "dagster/asset_partition_range_end": "2024-01-31"}
BTC, ETH, SOL = (ohlcv_asset_key("binance", s) for s in ("BTC/USDT", "ETH/USDT", "SOL/USDT"))


def materialize(emulator, warehouse_url, instance, symbols, selection=None, run_config=None,
                tags=None):
    assets = build_ohlcv_assets(binance_settings(emulator, symbols),
                                daily_partitions(date(2024, 1, 1)), "sqlite")
    return dg.materialize(
        [assets], instance=instance, tags={**RANGE, **(tags or {})}, selection=selection,
        run_config=run_config,
        raise_on_error=False,
        resources={"warehouse": WarehouseResource(database_url=warehouse_url),
                   "exchanges": ExchangeResource(max_attempts=2)})


def latest_metadata(instance, key):
    event = instance.get_latest_materialization_event(key)
    return {name: value.value for name, value in
            event.asset_materialization.metadata.items()}


def test_a_range_run_materializes_every_partition_with_metadata(emulator, warehouse_url):
    emulator.add_symbol("SOL/USDT", "2024-03-01")  # listed after the range
    with dg.instance_for_test() as instance:
        result = materialize(emulator, warehouse_url, instance,
                             ["BTC/USDT", "ETH/USDT", "SOL/USDT"])

        assert result.success
        january = {f"2024-01-{day:02d}" for day in range(1, 32)}
        for key in (BTC, ETH, SOL):
            assert instance.get_materialized_partitions(key) == january
        btc = latest_metadata(instance, BTC)
        assert btc["dagster/row_count"] == 31 + 31 * 24
        assert (btc["candles_1d"], btc["candles_1h"]) == (31, 744)
        assert btc["requests"] == 2
        assert btc["first_candle"] == day_start_ms(date(2024, 1, 1)) / 1000
        sol = latest_metadata(instance, SOL)
        assert sol["dagster/row_count"] == 0
        assert "before the symbol's first candle (2024-03-01 00:00 UTC)" in sol["empty"]

    store = Warehouse(warehouse_url)
    start = day_start_ms(date(2024, 1, 1))
    assert stored_rows(store, "ETH/USDT", "1h") == truth_rows(emulator, "ETH/USDT", "1h", start,
                                                              start + 31 * DAY_MS)


def test_a_subset_and_some_timeframes_can_be_selected(emulator, warehouse_url):
    with dg.instance_for_test() as instance:
        result = materialize(emulator, warehouse_url, instance, ["BTC/USDT", "ETH/USDT"],
                             selection=[ETH],
                             run_config={"ops": {"ohlcv_binance": {"config": {
                                 "timeframes": ["1d"]}}}})
        assert result.success
        assert instance.get_materialized_partitions(BTC) == set()
        assert len(instance.get_materialized_partitions(ETH)) == 31
    store = Warehouse(warehouse_url)
    assert len(stored_rows(store, "ETH/USDT", "1d")) == 31
    assert stored_rows(store, "ETH/USDT", "1h") == []


def test_an_unknown_symbol_fails_the_run_by_name_and_the_others_are_materialized(
        emulator, warehouse_url):
    with dg.instance_for_test() as instance:
        result = materialize(emulator, warehouse_url, instance, ["BTC/USDT", "NOPE/USDT"])

        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        assert "NOPE/USDT" in failure.step_failure_data.error.message
        assert len(instance.get_materialized_partitions(BTC)) == 31
        assert instance.get_materialized_partitions(ohlcv_asset_key("binance", "NOPE/USDT")) \
            == set()


def test_an_unconfigured_timeframe_in_run_config_is_named(emulator, warehouse_url):
    with dg.instance_for_test() as instance:
        result = materialize(emulator, warehouse_url, instance, ["BTC/USDT"],
                             run_config={"ops": {"ohlcv_binance": {"config": {
                                 "timeframes": ["5m"]}}}})
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        assert "'5m' is not configured for binance" in failure.step_failure_data.error.message


def test_assets_carry_group_kinds_and_column_schema(emulator):
    assets = build_ohlcv_assets(binance_settings(emulator, ["BTC/USDT"]),
                                daily_partitions(date(2024, 1, 1)), "postgres")
    spec = next(iter(assets.specs))
    assert spec.group_name == "binance"
    assert spec.kinds == {"ccxt", "postgres"}
    columns = [c.name for c in spec.metadata["dagster/column_schema"].columns]
    assert columns == ["exchange", "symbol", "timeframe", "ts", "open", "high", "low", "close",
                       "volume"]
    assert assets.backfill_policy == dg.BackfillPolicy.single_run()


def test_retries_show_in_the_run_log(emulator, warehouse_url):
    emulator.inject(Fault("status", status=503), count=1)
    with dg.instance_for_test() as instance:
        result = materialize(emulator, warehouse_url, instance, ["BTC/USDT"])
        assert result.success
        messages = [e.message for e in instance.all_logs(result.run_id)]
        assert any("ExchangeNotAvailable" in (m or "") and "retry 1/" in (m or "")
                   for m in messages)


def test_what_kraken_no_longer_serves_is_said_in_metadata_checks_and_the_gap_report(
        warehouse_url):
    """Sixty days of 1h on Kraken: the older half lies beyond its last 720 candles."""
    first = datetime.now(UTC).date() - timedelta(days=60)
    last = datetime.now(UTC).date() - timedelta(days=1)
    started = now_ms()
    with KrakenEmulator(listings={"BTC/USD": "2013-10-06"}) as emu, \
            dg.instance_for_test() as instance:
        settings = ExchangeSettings(name="kraken", symbols=("BTC/USD",), timeframes=("1h",),
                                    api_url=emu.base_url)
        config = TitanConfig(Path("titan.yaml"), first, (settings,))
        result = dg.materialize(
            [build_ohlcv_assets(settings, daily_partitions(first), "sqlite")],
            instance=instance, raise_on_error=False,
            tags={"dagster/asset_partition_range_start": first.isoformat(),
                  "dagster/asset_partition_range_end": last.isoformat()},
            resources={"warehouse": WarehouseResource(database_url=warehouse_url),
                       "exchanges": ExchangeResource(max_attempts=2)})
        assert result.success
        key = ohlcv_asset_key("kraken", "BTC/USD")
        metadata = latest_metadata(instance, key)
        unserved = metadata["unserved_candles"]
        # Beyond reach: the slots older than the last 720 candles (less the margin) of the
        # hour the run fetched in (an hour may turn meanwhile).
        reach = [(floor_ms(moment, HOUR) - (720 - 1 - REACH_MARGIN) * HOUR
                  - day_start_ms(first)) // HOUR for moment in (started, now_ms())]
        assert reach[0] <= unserved <= reach[1]
        assert metadata["not_served"] == \
            f"1h: {unserved} candles not served by kraken: only the last 720 candles"
        no_gaps = {e.check_name: e for e in result.get_asset_check_evaluations()}["no_gaps"]
        assert not no_gaps.passed
        assert no_gaps.severity == dg.AssetCheckSeverity.WARN
        assert no_gaps.metadata["unserved_count"].value == unserved
        assert no_gaps.metadata["healable_missing_count"].value == 0
        assert "not served by kraken: only the last 720 candles" in no_gaps.description

        report = dg.materialize(
            [build_gap_report(config)], instance=instance,
            resources={"warehouse": WarehouseResource(database_url=warehouse_url)})
        assert report.success
        gap_metadata = latest_metadata(instance, dg.AssetKey("ohlcv_gap_report"))
        assert gap_metadata["unserved_count"] == unserved
        assert gap_metadata["healable_missing_count"] == 0
        rows = gap_metadata["missing_ranges"].records
        assert [(r.data["kind"], r.data["candles"]) for r in rows] == [("not served", unserved)]
