"""Item 3: PostgreSQL restarted during a backfill. A short outage is ridden out (reconnect
with backoff); a long one fails the run cleanly, naming the warehouse, and the next run
completes. A day is never recorded complete without its candles."""

import logging
import threading
import time

import psycopg
import pytest

from tests.conftest import run_backfill
from tests.private_pg import PrivateCluster
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

# The warehouse lives in a cluster of the test's own (private_pg): the shared server stays up
# for the tests running beside this one.


def server_started_at(cluster: PrivateCluster) -> float:
    with psycopg.connect(f"{cluster.server}/postgres") as conn:
        return conn.execute("SELECT extract(epoch FROM pg_postmaster_start_time())").fetchone()[0]


def after_requests(emu: BinanceEmulator, requests: int, action) -> threading.Thread:
    def wait_then_act():
        while emu.count() < requests:
            time.sleep(0.005)
        action()

    thread = threading.Thread(target=wait_then_act)
    thread.start()
    return thread


def test_a_restart_mid_run_is_ridden_out(private_pg, figures, caplog):
    warehouse = Warehouse(private_pg.url)
    warehouse.migrate()
    before = server_started_at(private_pg)
    with exchange() as emu, \
            caplog.at_level(logging.WARNING, logger="titan_dagster.warehouse"):
        restart = after_requests(emu, 60, private_pg.restart)
        outcomes = run_backfill(emu, warehouse, SYMBOLS, [TIMEFRAME], FIRST, LAST)
        restart.join()

        assert server_started_at(private_pg) > before
        assert "retrying" in caplog.text  # the outage was met, not missed
        assert {s: o.error for s, o in outcomes.items()} == dict.fromkeys(SYMBOLS)
        figures.take_requests(emu)
        figures.compare(warehouse, emu, SYMBOLS, TIMEFRAME, START, END)
    assert figures.candles_compared == 3 * 366 * 288
    assert (figures.mismatches, figures.duplicates) == (0, 0)
    warehouse.dispose()


def test_a_long_outage_fails_cleanly_and_the_next_run_completes(private_pg, figures):
    warehouse = Warehouse(private_pg.url, reconnect_timeout_s=2)
    warehouse.migrate()
    with exchange() as emu:
        stop = after_requests(emu, 60, private_pg.stop)
        with pytest.raises(WarehouseUnavailable) as failure:
            run_backfill(emu, warehouse, SYMBOLS, [TIMEFRAME], FIRST, LAST)
        stop.join()
        message = str(failure.value)
        figures.notes.append(f"long outage: {message}")
        assert message.startswith(f"warehouse {warehouse.display_url} unavailable for 2 s")
        assert "Connection refused" in message or "connection" in message.lower()

        private_pg.start()

        def next_run():
            outcomes = run_backfill(emu, warehouse, SYMBOLS, [TIMEFRAME], FIRST, LAST)
            assert {s: o.error for s, o in outcomes.items()} == dict.fromkeys(SYMBOLS)

        assert_next_run_converges(figures, warehouse, emu, SYMBOLS, TIMEFRAME, FIRST, LAST,
                                  next_run)
    warehouse.dispose()
