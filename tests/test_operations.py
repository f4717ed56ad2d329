"""Operations without a human: the minute refresh schedule, request pacing across runs,
housekeeping of old refresh runs, and `titan health`."""

import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import yaml

from tests.conftest import binance_settings, run_backfill
from tests.test_assets import materialize
from titan_dagster.defs.automation.housekeeping import delete_old_ephemeral_runs
from titan_dagster.defs.automation.lanes import EPHEMERAL_TAG
from titan_dagster.defs.automation.refresh import build_refresh_schedule, refresh_job
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.exchange.client import ExchangeClient

REPO = Path(__file__).resolve().parent.parent
TODAY = datetime.now(UTC).date()


def refresh_request(emulator, warehouse_url, at: datetime):
    settings = binance_settings(emulator, ["BTC/USDT"], ["1h"])
    schedule = build_refresh_schedule(settings, refresh_job(settings))
    with dg.instance_for_test() as instance, dg.build_schedule_context(
            instance=instance, scheduled_execution_time=at,
            resources={"warehouse": WarehouseResource(database_url=warehouse_url)}) as context:
        return schedule.evaluate_tick(context).run_requests


def test_the_refresh_asks_for_today_once_per_minute(emulator, sqlite_url):
    noon = datetime(TODAY.year, TODAY.month, TODAY.day, 12, 0, tzinfo=UTC)
    (request,) = refresh_request(emulator, sqlite_url, noon)
    assert request.run_key == f"refresh:binance:{TODAY}T12:00"
    assert request.tags["dagster/asset_partition_range_start"] == TODAY.isoformat()
    assert request.tags["dagster/asset_partition_range_end"] == TODAY.isoformat()
    assert request.run_config["ops"]["ohlcv_binance"]["config"]["budget_share"] == 0.25
    assert request.tags["titan/lane"] == "binance/refresh"


def test_after_midnight_the_refresh_finishes_yesterday(emulator, sqlite_url):
    just_after = datetime(TODAY.year, TODAY.month, TODAY.day, 0, 2, tzinfo=UTC)
    (request,) = refresh_request(emulator, sqlite_url, just_after)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert request.tags["dagster/asset_partition_range_start"] == yesterday


def test_a_budget_share_paces_requests(emulator):
    settings = replace(binance_settings(emulator, ["BTC/USDT"], ["1h"]), requests_per_second=10)

    async def go():
        async with ExchangeClient(settings, budget_share=0.5) as client:
            for i in range(6):
                await client.fetch_ohlcv("BTC/USDT", "1h", 1_704_067_200_000 + i * 3_600_000, 1,
                                         expect_rows=True)

    asyncio.run(go())
    times = [r.time_ms for r in emulator.requests if r.path == "/api/v3/klines"]
    assert len(times) == 6
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 190  # 5/s


def check_runs(instance) -> set[str]:
    """Runs with a recorded evaluation of BTC's fresh check."""
    key = dg.AssetCheckKey(dg.AssetKey(["ohlcv", "binance", "BTC_USDT"]), "fresh")
    return {record.run_id for record in
            instance.event_log_storage.get_asset_check_execution_history(key, limit=100)}


def test_housekeeping_deletes_old_refresh_runs_and_their_events(emulator, sqlite_url):
    with dg.instance_for_test() as instance:
        kept = materialize(emulator, sqlite_url, instance, ["BTC/USDT"])
        rows_before = len(instance.all_logs(kept.run_id))
        for _ in range(3):
            materialize(emulator, sqlite_url, instance, ["BTC/USDT"],
                        tags={EPHEMERAL_TAG: "true"})
        refresh_runs = instance.get_run_ids(dg.RunsFilter(tags={EPHEMERAL_TAG: "true"}))
        assert len(refresh_runs) == 3
        assert check_runs(instance) == {kept.run_id, *refresh_runs}

        assert delete_old_ephemeral_runs(instance, datetime.now(UTC) - timedelta(hours=1)) == 0
        assert delete_old_ephemeral_runs(instance, datetime.now(UTC) + timedelta(seconds=1)) == 3

        assert instance.get_run_ids(dg.RunsFilter(tags={EPHEMERAL_TAG: "true"})) == []
        assert all(not instance.all_logs(run_id) for run_id in refresh_runs)
        assert len(instance.all_logs(kept.run_id)) == rows_before
        assert check_runs(instance) == {kept.run_id}


def health(tmp_path, emulator, database_url) -> tuple[int, dict]:
    config = tmp_path / "titan.yaml"
    config.write_text(yaml.safe_dump({"start": str(TODAY), "exchanges": {"binance": {
        "symbols": ["BTC/USDT"], "timeframes": ["1h"], "api_url": emulator.base_url}}}))
    done = subprocess.run([sys.executable, "-m", "titan_dagster.cli", "health"], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "TITAN_CONFIG": str(config),
                               "TITAN_DATABASE_URL": database_url})
    return done.returncode, json.loads(done.stdout)


def test_health_reports_stale_then_ok_then_unreachable(tmp_path, emulator, warehouse):
    url = str(warehouse.url.render_as_string(hide_password=False))
    code, report = health(tmp_path, emulator, url)
    assert (code, report["status"], report["stale"]) == (1, "stale", ["binance BTC/USDT 1h"])

    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], TODAY, TODAY)
    code, report = health(tmp_path, emulator, url)
    assert (code, report["status"], report["database"]) == (0, "ok", "connected")
    assert 0 < report["latest_candle_age_s"]["binance"]["BTC/USDT"]["1h"] <= 2 * 3600 + 60

    code, report = health(tmp_path, emulator, "postgresql+psycopg://u:secret@127.0.0.1:1/x")
    assert (code, report["database"]) == (2, "unreachable")
    assert report["database_url"] == "postgresql+psycopg://u:***@127.0.0.1:1/x"
    assert "secret" not in json.dumps(report)


def test_health_with_a_broken_config_says_so_and_exits_2(tmp_path):
    config = tmp_path / "titan.yaml"
    config.write_text("start: 2020-13-01\nexchanges: {binance: {symbols: [BTC/USDT], "
                      "timeframes: [1h]}}\n")
    done = subprocess.run([sys.executable, "-m", "titan_dagster.cli", "health"], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "TITAN_CONFIG": str(config)})
    report = json.loads(done.stdout)
    assert (done.returncode, report["status"], report["error"]) == (2, "error", "ConfigError")
    assert "start" in report["message"]
