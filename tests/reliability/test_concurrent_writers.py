"""Item 4: overlapping backfills running at once, in separate processes, store every candle
once, without deadlocks or lost writes."""

import subprocess
from datetime import date

from tests.reliability.backfill_process import command
from tests.reliability.conftest import (
    END,
    FIRST,
    LAST,
    START,
    SYMBOLS,
    TIMEFRAME,
    exchange,
    unfinished_days,
)
from titan_dagster.warehouse import Warehouse

# Two runs of the same year write the same pages at the same moments; a third, of the
# second half only, meets them half-way through.
RANGES = [(FIRST, LAST), (FIRST, LAST), (date(2024, 7, 1), LAST)]


def test_overlapping_backfills_at_once_store_each_candle_once(warehouse_url, figures,
                                                              tmp_path):
    warehouse = Warehouse(warehouse_url)
    warehouse.migrate()  # as the Dagster resource does before any run starts
    with exchange() as emu:
        logs = [tmp_path / f"run{i}.err" for i in range(len(RANGES))]
        runs = [subprocess.Popen(command(warehouse_url, emu.base_url, first, last, TIMEFRAME,
                                         SYMBOLS), stderr=log.open("w"))
                for (first, last), log in zip(RANGES, logs, strict=True)]
        codes = [run.wait(timeout=300) for run in runs]

        errors = "\n".join(log.read_text() for log in logs)
        assert codes == [0] * len(RANGES), errors[-3000:]
        assert "deadlock" not in errors.lower()
        figures.take_requests(emu)
        figures.compare(warehouse, emu, SYMBOLS, TIMEFRAME, START, END)
    assert figures.candles_compared == 3 * 366 * 288
    assert (figures.mismatches, figures.duplicates) == (0, 0)
    assert all(unfinished_days(warehouse, s, TIMEFRAME, FIRST, LAST) == [] for s in SYMBOLS)
    warehouse.dispose()
