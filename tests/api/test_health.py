"""GET /health: the JSON of `titan health`, 200 when fresh, 503 otherwise, answered at once
with the database down, without writing anything."""

import sqlite3
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from tests.api.conftest import get, prepare, serving
from titan_dagster.warehouse.migrations import migrations_dir

SERIES = ["binance BTC/USDT 1h", "binance BTC/USDT 1d", "binance ETH/USDT 1h",
          "binance ETH/USDT 1d", "kraken BTC/USD 1h"]


def test_fresh_is_200_with_every_series_and_the_current_versions_newest_signal(api, seeded):
    response = get(api, "/health")
    assert response.status_code == 200, response.text
    report = response.json()
    assert {k: report[k] for k in ("status", "database", "schema")} == {
        "status": "ok", "database": "connected", "schema": "current"}
    assert "stale" not in report and "database_url" not in report
    ages = report["latest_candle_age_s"]
    assert sorted(f"{e} {s} {tf}" for e in ages for s in ages[e] for tf in ages[e][s]) == \
        sorted(SERIES)
    assert 0 < ages["binance"]["BTC/USDT"]["1h"] <= 2 * 3600
    # The old version's signal is newer; the current version's newest is the one judged.
    newest = max(row.signal_ts for _, key, row, _ in seeded.signals
                 if key.version != "0ld0ld0ld0ld0ld0")
    assert set(report["latest_signal_age_s"]) == {"btc_sma_cross"}  # eth_rsi is inactive
    age = report["latest_signal_age_s"]["btc_sma_cross"]
    # Seconds between the newest signal and the request, to 0.1 s.
    assert (seeded.now - newest) / 1000 - 0.05 <= age <= time.time() - newest / 1000 + 0.05


def test_no_candles_is_503_stale(warehouse, api_config, warehouse_url):
    with serving(api_config, warehouse_url) as base:
        response = get(base, "/health")
    assert response.status_code == 503
    report = response.json()
    assert (report["status"], report["database"]) == ("stale", "connected")
    assert sorted(report["stale"]) == sorted(SERIES)
    assert report["latest_signal_age_s"] == {"btc_sma_cross": None}


def tables(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_warehouse_never_migrated_is_503_and_stays_unmigrated(api_config, warehouse_url):
    backend = "sqlite" if warehouse_url.startswith("sqlite") else "postgresql"
    if backend == "sqlite":
        # An empty SQLite file as the warehouse makes it: in WAL mode.
        sqlite3.connect(warehouse_url.removeprefix("sqlite:///")).execute(
            "PRAGMA journal_mode=WAL").close()
    with serving(api_config, warehouse_url) as base:
        health = get(base, "/health")
        signals = get(base, "/signals")
    assert health.status_code == 503
    shipped = sorted(f.stem for f in migrations_dir(backend).glob("*.sql"))
    assert health.json() == {"status": "error", "database": "connected", "schema": "missing",
                             "pending_migrations": shipped}
    assert signals.status_code == 503
    assert "not migrated" in signals.json()["detail"]
    assert tables(warehouse_url) == []


def test_a_warehouse_behind_on_migrations_is_503_outdated(warehouse, api_config,
                                                          warehouse_url):
    newest = max(f.stem for f in migrations_dir(warehouse.backend).glob("*.sql"))
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM titan_schema_migrations WHERE version = :v"),
                     {"v": newest})
    with serving(api_config, warehouse_url) as base:
        report = get(base, "/health").json()
    assert (report["status"], report["schema"], report["pending_migrations"]) == (
        "error", "outdated", [newest])


def test_a_missing_sqlite_file_is_unreachable_and_not_created(api_config, tmp_path):
    path = tmp_path / "nowhere.db"
    with serving(api_config, f"sqlite:///{path}") as base:
        health = get(base, "/health")
        candles = get(base, "/candles", exchange="binance", symbol="BTC/USDT", timeframe="1h")
    assert health.status_code == 503
    assert health.json() == {"status": "error", "database": "unreachable",
                             "error": "OperationalError"}
    assert candles.status_code == 503
    assert candles.json() == {"detail": "the warehouse database is unreachable"}
    assert not Path(path).exists()


def test_503_within_a_second_while_postgresql_is_down_then_200_again(private_pg,
                                                                     api_config):
    prepare(private_pg.url, api_config)
    with serving(api_config, private_pg.url) as base:
        assert get(base, "/health").status_code == 200

        private_pg.stop()
        started = time.monotonic()
        down = requests.get(f"{base}/health", timeout=5)
        took = time.monotonic() - started
        assert down.status_code == 503
        assert down.json()["database"] == "unreachable"
        assert took < 1.0, f"{took:.3f} s"
        signals = get(base, "/signals")
        assert (signals.status_code, signals.json()) == (
            503, {"detail": "the warehouse database is unreachable"})

        private_pg.start()
        back = get(base, "/health")
        assert back.status_code == 200, back.text
    print(f"\n/health with PostgreSQL stopped: 503 in {took * 1000:.0f} ms")
