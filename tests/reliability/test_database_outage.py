"""Item 3: PostgreSQL restarted during a backfill. A short outage is ridden out (reconnect
with backoff); a long one fails the run cleanly, naming the warehouse, and the next run
completes. A day is never recorded complete without its candles."""

import logging
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PG_SERVER, run_backfill
from tests.reliability.conftest import (
    END,
    FIRST,
    LAST,
    START,
    SYMBOLS,
    TIMEFRAME,
    assert_next_run_converges,
    exchange,
)
from titan_dagster.emulator import BinanceEmulator
from titan_dagster.warehouse import Warehouse, WarehouseUnavailable

CLUSTERS = sorted(Path("/etc/postgresql").glob("*/main"))

pytestmark = pytest.mark.skipif(not CLUSTERS or "127.0.0.1:5432" not in PG_SERVER,
                                reason="restarts the local PostgreSQL cluster (pg_ctlcluster)")


def pg_ctl(action: str) -> None:
    version = CLUSTERS[-1].parent.name
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                   check=True, capture_output=True)


def server_started_at() -> float:
    with psycopg.connect(f"{PG_SERVER}/postgres") as conn:
        return conn.execute("SELECT extract(epoch FROM pg_postmaster_start_time())").fetchone()[0]


@pytest.fixture
def cluster():
    """Leaves PostgreSQL running whatever the test did to it."""
    yield
    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        pg_ctl("start")


def after_requests(emu: BinanceEmulator, requests: int, action) -> threading.Thread:
    def wait_then_act():
        while emu.count() < requests:
            time.sleep(0.005)
        action()

    thread = threading.Thread(target=wait_then_act)
    thread.start()
    return thread


def test_a_restart_mid_run_is_ridden_out(pg_url, cluster, figures, caplog):
    warehouse = Warehouse(pg_url)
    warehouse.migrate()
    before = server_started_at()
    with exchange() as emu, \
            caplog.at_level(logging.WARNING, logger="titan_dagster.warehouse"):
        restart = after_requests(emu, 60, lambda: pg_ctl("restart"))
        outcomes = run_backfill(emu, warehouse, SYMBOLS, [TIMEFRAME], FIRST, LAST)
        restart.join()

        assert server_started_at() > before
        assert "retrying" in caplog.text  # the outage was met, not missed
        assert {s: o.error for s, o in outcomes.items()} == dict.fromkeys(SYMBOLS)
        figures.take_requests(emu)
        figures.compare(warehouse, emu, SYMBOLS, TIMEFRAME, START, END)
    assert figures.candles_compared == 3 * 366 * 288
    assert (figures.mismatches, figures.duplicates) == (0, 0)
    warehouse.dispose()


def test_a_long_outage_fails_cleanly_and_the_next_run_completes(pg_url, cluster, figures):
    warehouse = Warehouse(pg_url, reconnect_timeout_s=2)
    warehouse.migrate()
    with exchange() as emu:
        stop = after_requests(emu, 60, lambda: pg_ctl("stop"))
        with pytest.raises(WarehouseUnavailable) as failure:
            run_backfill(emu, warehouse, SYMBOLS, [TIMEFRAME], FIRST, LAST)
        stop.join()
        message = str(failure.value)
        figures.notes.append(f"long outage: {message}")
        assert message.startswith(f"warehouse {warehouse.display_url} unavailable for 2 s")
        assert "Connection refused" in message or "connection" in message.lower()

        pg_ctl("start")

        def next_run():
            outcomes = run_backfill(emu, warehouse, SYMBOLS, [TIMEFRAME], FIRST, LAST)
            assert {s: o.error for s, o in outcomes.items()} == dict.fromkeys(SYMBOLS)

        assert_next_run_converges(figures, warehouse, emu, SYMBOLS, TIMEFRAME, FIRST, LAST,
                                  next_run)
    warehouse.dispose()
