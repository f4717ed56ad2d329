"""Nothing the API is asked changes the warehouse: GET routes only, and connections the
database itself keeps from writing."""

import pytest
import requests
import sqlalchemy as sa

from tests.api.conftest import get, walk
from titan_dagster.warehouse.read_only import read_only_warehouse

TABLES = ("ohlcv", "strategies", "signals", "outcomes", "strategy_performance",
          "titan_schema_migrations")


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                    for t in TABLES}
    finally:
        engine.dispose()


def test_hammering_every_endpoint_changes_no_row(api, seeded, warehouse_url):
    before = counts(warehouse_url)
    signal_id = seeded.signals[0][0]
    for _ in range(10):
        for path, params in (("/health", {}), ("/signals", {"limit": 2}),
                             (f"/signals/{signal_id}", {}), ("/signals/12345678", {}),
                             ("/performance", {"start": "2026-01-01", "limit": 1}),
                             ("/openapi.json", {}), ("/signals", {"strategy": "nope"})):
            assert get(api, path, **params).status_code in (200, 404, 422)
        pages = walk(api, "/candles", "candles", exchange="binance", symbol="ETH/USDT",
                     timeframe="1h", limit=10, include_open="true")
        assert sum(map(len, pages)) == 30
    assert counts(warehouse_url) == before
    assert before["signals"] == len(seeded.signals)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_only_get_is_routed(api, seeded, method):
    for path in ("/signals", f"/signals/{seeded.signals[0][0]}", "/candles", "/performance",
                 "/health"):
        assert requests.request(method, f"{api}{path}", json={}, timeout=10).status_code == 405


def test_the_apis_connections_cannot_write(warehouse, warehouse_url):
    reader = read_only_warehouse(warehouse_url)
    try:
        with reader.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM ohlcv")).scalar() == 0
            with pytest.raises(sa.exc.DBAPIError, match="read-?only"):
                conn.execute(sa.text("DELETE FROM titan_schema_migrations"))
    finally:
        reader.dispose()
    assert counts(warehouse_url)["titan_schema_migrations"] > 0
