"""Item 1: a 2-year backfill through a faulty exchange ends equal to the exchange's truth,
and faults that never stop fail the run by name without marking anything complete that is
not."""

import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import TIMEOUT_MS, run_backfill
from tests.reliability.conftest import SYMBOLS, TIMEFRAME, assert_next_run_converges, exchange
from titan_dagster.emulator import ALL_FAULTS, BinanceEmulator, Fault
from titan_dagster.emulator.venue import ROW_FAULT_KINDS
from titan_dagster.exchange.retry import RetryPolicy
from titan_dagster.timeframes import DAY_MS, day_start_ms, days_between
from titan_dagster.warehouse import Warehouse

# Two years: 210,528 candles per symbol, 211 pages each.
FIRST, LAST = date(2023, 1, 1), date(2024, 12, 31)
START, END = day_start_ms(FIRST), day_start_ms(LAST) + DAY_MS
# Shorter than ALL_FAULTS' 3 s delay, so a slow response is a timeout, not just slow; only
# the runs with faults use it. A page normally takes milliseconds, but the emulator serves
# from the test's own process, and on a loaded machine a 1 s timeout cut a fault-free page
# short now and then, costing a retry the request counts below do not allow for.
FAULT_TIMEOUT_MS = 2_000


def wipe(warehouse: Warehouse) -> None:
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE ohlcv, ohlcv_complete_days, ohlcv_gaps, ohlcv_rejects"))


PRODUCTION_RETRY = RetryPolicy()


def timed_backfill(emu, warehouse, retry=PRODUCTION_RETRY, *,
                   faults: bool) -> tuple[dict, float]:
    began = time.monotonic()
    outcomes = run_backfill(emu, warehouse, SYMBOLS, [TIMEFRAME], FIRST, LAST, retry=retry,
                            timeout_ms=FAULT_TIMEOUT_MS if faults else TIMEOUT_MS)
    return outcomes, time.monotonic() - began


def test_ten_percent_faults_end_equal_to_the_truth(pg_url, figures):
    warehouse = Warehouse(pg_url)
    warehouse.migrate()
    with exchange() as emu:
        clean, clean_s = timed_backfill(emu, warehouse, faults=False)
        assert all(o.error is None for o in clean.values())
        minimum = len(emu.requests)
        wipe(warehouse)
        emu.clear_requests()

        emu.inject_at_rate(0.10, ALL_FAULTS, seed=6)
        faulty, faulty_s = timed_backfill(emu, warehouse, faults=True)

        figures.take_requests(emu)
        figures.compare(warehouse, emu, SYMBOLS, TIMEFRAME, START, END)
        kinds = {r.fault for r in emu.requests if r.fault}
    figures.notes.append(f"fault-free {clean_s:.1f} s ({minimum} requests), with 10% faults "
                         f"{faulty_s:.1f} s: {faulty_s / clean_s:.2f}x")
    assert {s: o.error for s, o in faulty.items()} == dict.fromkeys(SYMBOLS)
    assert figures.candles_compared == 3 * len(days_between(FIRST, LAST)) * 288  # 2024: 366 d
    assert (figures.mismatches, figures.duplicates) == (0, 0)
    # Every kind of fault was met, about one request in ten, and each cost one retry.
    assert kinds == {f.kind for f in ALL_FAULTS}
    assert 0.07 < figures.faults_injected / figures.requests < 0.13
    # A failed request costs one retry; a page that lost places to junk rows (repeats,
    # rows from before the window) costs one more request for the rest; a page merely out
    # of order costs nothing.
    served = [r.fault for r in emu.requests]
    junk = served.count("duplicate_rows") + served.count("outside_rows")
    retried = figures.faults_injected - junk - served.count("disordered_rows")
    assert minimum + retried <= figures.requests <= minimum + retried + junk
    for symbol in SYMBOLS:
        assert warehouse.complete_days("binance", symbol, TIMEFRAME, FIRST, LAST) == set(
            days_between(FIRST, LAST))
    warehouse.dispose()


def test_faults_that_never_stop_fail_by_name_and_complete_only_what_is_stored(pg_url, figures):
    warehouse = Warehouse(pg_url)
    warehouse.migrate()
    retry = RetryPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)
    with exchange() as emu:
        emu.inject_at_rate(0.10, ALL_FAULTS, seed=7)
        storm = threading.Thread(target=_storm_after, args=(emu, 150))
        storm.start()
        failed, _ = timed_backfill(emu, warehouse, retry, faults=True)
        storm.join()

        for symbol, outcome in failed.items():
            message = str(outcome.error)
            assert f"{symbol} {TIMEFRAME} candles from" in message
            assert "failed after 3 attempts" in message

        def next_run():
            emu.inject_at_rate(0)
            healed, _ = timed_backfill(emu, warehouse, faults=False)
            assert all(o.error is None for o in healed.values())

        assert_next_run_converges(figures, warehouse, emu, SYMBOLS, TIMEFRAME, FIRST, LAST,
                                  next_run)
    warehouse.dispose()


def _storm_after(emu: BinanceEmulator, requests: int) -> None:
    """From the `requests`th klines request on, every request fails."""
    while emu.count() < requests:
        time.sleep(0.005)
    emu.inject_at_rate(1.0, [Fault("status", 503), Fault("drop"), Fault("html", 502)])


@pytest.mark.parametrize("kind", sorted(ROW_FAULT_KINDS))
def test_junk_rows_in_a_page_never_pass_for_the_end_of_history(emulator, warehouse, kind,
                                                               figures):
    # The day's one page and then the targeted re-request of what it lacked both come back
    # damaged; a page filled up with junk rows must not be taken as "nothing more here".
    emulator.inject(Fault(kind), count=2)
    day = date(2024, 3, 1)
    outcomes = run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], day, day)

    assert outcomes["BTC/USDT"].error is None
    figures.take_requests(emulator)
    figures.compare(warehouse, emulator, ["BTC/USDT"], "1h", day_start_ms(day),
                    day_start_ms(day) + DAY_MS)
    assert figures.candles_compared == 24
    assert (figures.mismatches, figures.duplicates) == (0, 0)
    assert warehouse.exchange_gaps("binance", "BTC/USDT", "1h", day_start_ms(day),
                                   day_start_ms(day) + DAY_MS) == []
