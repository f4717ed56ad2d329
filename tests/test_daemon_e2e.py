"""The real Dagster daemon on a PostgreSQL instance (the shipped dagster.yaml), against the
emulator, with the shipped schedules and sensors on and nobody touching anything."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from titan_dagster.emulator import BinanceEmulator
from titan_dagster.timeframes import day_start_ms, now_ms
from titan_dagster.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
BUDGET = 8  # requests per second, for titan and the emulator alike
HISTORY_DAYS = 60
MINUTE = 60_000


def poll(condition, timeout_s: float, what: str, every_s: float = 1.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every_s)


def test_the_daemon_backfills_refreshes_and_heals_within_the_budget(tmp_path, pg_url):
    today = datetime.now(UTC).date()
    start = today - timedelta(days=HISTORY_DAYS)
    with BinanceEmulator({s: "2019-01-01" for s in SYMBOLS},
                         max_requests_per_second=BUDGET) as emulator:
        config = tmp_path / "titan.yaml"
        config.write_text(yaml.safe_dump({"start": start.isoformat(), "exchanges": {"binance": {
            "symbols": SYMBOLS, "timeframes": ["1m", "1h"], "api_url": emulator.base_url,
            "requests_per_second": BUDGET}}}))
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        env = {**os.environ, "DAGSTER_HOME": str(home), "TITAN_CONFIG": str(config),
               "TITAN_DATABASE_URL": pg_url,
               "DAGSTER_PG_URL": pg_url.replace("+psycopg", "+psycopg2")}
        store = Warehouse(pg_url)
        store.migrate()
        log = (tmp_path / "daemon.log").open("w")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "dagster._daemon", "run", "-w", "workspace.yaml"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            check_the_deployment(emulator, store, start, today)
        except AssertionError:
            (tmp_path / "requests.txt").write_text("\n".join(map(str, emulator.requests)))
            raise
        finally:
            stop_group(daemon, log)


def stop_group(process: subprocess.Popen, log) -> None:
    """SIGTERM to the process group, then SIGKILL to whatever is left of it: the daemon's
    code server outlives SIGTERM (orphaned, it idled on for hours)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    log.close()


def refresh_runs(store: Warehouse) -> str:
    """The last refresh runs as Dagster recorded them, to tell a slow run from a skipped tick
    or a failure when the lag is exceeded."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT status, create_timestamp, start_time, end_time FROM runs "
            "WHERE pipeline_name LIKE 'ohlcv_refresh_%%' ORDER BY create_timestamp DESC LIMIT 8"
        ).all()
    return "refresh runs, newest first (created; started, ended after creation):\n" + "\n".join(
        f"  {status} {created:%H:%M:%S}; "
        f"{'-' if start is None else f'{start - created.replace(tzinfo=UTC).timestamp():.1f}'} s, "
        f"{'-' if end is None else f'{end - created.replace(tzinfo=UTC).timestamp():.1f}'} s"
        for status, created, start, end in rows)


def check_the_deployment(emulator, store, start, today):
    history = len(SYMBOLS) * 2 * HISTORY_DAYS

    def complete_days() -> int:
        with store.engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT count(*) FROM ohlcv_complete_days WHERE day < %s", (today,)).scalar()

    def newest_closed_1m() -> int | None:
        return store.last_candle_ms("binance", "BTC/USDT", "1m")

    def lag() -> int:
        return now_ms() - ((newest_closed_1m() or 0) + MINUTE)

    # The refresh stores today's candles while the history backfill is still running. Its
    # first run is over when it has caught up with now: after 16:40 UTC today's 1m candles
    # take two pages, and a candle from the first is no sign of a refresh done.
    poll(lambda: lag() < 120_000, 240, "the first refresh")
    lags_during_backfill = []
    while complete_days() < history:
        lags_during_backfill.append(lag())
        assert len(lags_during_backfill) < 400, "the backfill did not finish"
        time.sleep(1)
    assert lags_during_backfill, "the backfill was over before the refresh began"
    assert max(lags_during_backfill) < 120_000  # freshness holds beside the backfill

    # History is complete and equal to what the exchange serves.
    for symbol in SYMBOLS:
        served = emulator.candles(symbol, "1h", day_start_ms(start), day_start_ms(today))
        assert len(store.read_candles("binance", symbol, "1h", end=datetime(
            today.year, today.month, today.day, tzinfo=UTC))) == len(served)

    # New candles within 90 s of closing, and the open candle moving.
    lags, open_values = [], set()
    for _ in range(100):
        lags.append(lag())
        frame = store.read_candles("binance", "BTC/USDT", "1h", include_open=True)
        open_row = frame[~frame["closed"]].iloc[-1]
        open_values.add((open_row["ts"], open_row["close"], open_row["volume"]))
        time.sleep(1)
    assert max(lags) <= 90_000, refresh_runs(store)
    assert len(open_values) > 1

    # A correction of a recent closed candle reaches the warehouse.
    corrected_at = (newest_closed_1m() // MINUTE - 3) * MINUTE
    row = emulator.candles("BTC/USDT", "1m", corrected_at, corrected_at + MINUTE)[0]
    emulator.set_candle("BTC/USDT", "1m", corrected_at, close=row[2])  # close at the high

    def corrected() -> bool:
        frame = store.read_candles("binance", "BTC/USDT", "1m",
                                   datetime.fromtimestamp(corrected_at / 1000, UTC),
                                   datetime.fromtimestamp((corrected_at + MINUTE) / 1000, UTC))
        return len(frame) == 1 and frame["close"].iloc[0] == Decimal(row[2])

    poll(corrected, 150, "the correction")

    # The budget held: nothing refused, never more than BUDGET requests in one second.
    records = emulator.requests
    assert not [r for r in records if r.fault == "rate_limit"]
    times = sorted(r.time_ms for r in records)
    assert len(times) > 2 * BUDGET
    assert all(later - earlier >= 1000 for earlier, later in zip(times, times[BUDGET:],
                                                                   strict=False))
