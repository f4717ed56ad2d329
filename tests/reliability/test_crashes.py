"""Item 2: a backfill SIGKILLed at random points, again and again, then run once more,
converges to the exchange's truth with no duplicates, fetching only the unfinished days."""

import os
import random
import signal
import subprocess
import time

from tests.reliability.backfill_process import command
from tests.reliability.conftest import (
    FIRST,
    LAST,
    SYMBOLS,
    TIMEFRAME,
    assert_complete_days_hold_their_candles,
    assert_next_run_converges,
    exchange,
)
from titan_dagster.warehouse import Warehouse

KILLS = 5


def test_sigkill_at_random_points_then_rerun_converges(warehouse_url, figures, tmp_path):
    pick = random.Random(2026)
    warehouse = Warehouse(warehouse_url)
    warehouse.migrate()
    with exchange() as emu:
        argv = command(warehouse_url, emu.base_url, FIRST, LAST, TIMEFRAME, SYMBOLS)
        for kill in range(KILLS):
            # A point somewhere in the next stretch of work: fetching, validating or writing.
            kill_at = emu.count() + pick.randint(5, 50)
            child = subprocess.Popen(argv, stderr=(tmp_path / f"run{kill}.err").open("w"))
            while emu.count() < kill_at and child.poll() is None:
                time.sleep(0.002)
            assert child.poll() is None, "the run finished before it could be killed"
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            assert_complete_days_hold_their_candles(figures, warehouse, emu, SYMBOLS,
                                                    TIMEFRAME, FIRST, LAST)

        def next_run():
            final = subprocess.run(argv, capture_output=True, text=True, timeout=300)
            assert final.returncode == 0, final.stderr[-2000:]

        unfinished = assert_next_run_converges(figures, warehouse, emu, SYMBOLS, TIMEFRAME,
                                               FIRST, LAST, next_run)
    figures.notes.append(f"{KILLS} SIGKILLs; the re-run fetched "
                         f"{sum(map(len, unfinished.values()))} unfinished symbol-days")
    warehouse.dispose()
