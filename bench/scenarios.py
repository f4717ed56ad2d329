"""The scenarios of issue 5, each measured through the real code path: a Dagster run started
by the CLI, ccxt over HTTP to the emulator, validation, and the PostgreSQL warehouse."""

import json
import math
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from bench.harness import (
    CEILING_REQUESTS_PER_S,
    PAGE,
    Emulator,
    Measured,
    Project,
    bookkeeping,
    fresh_database,
    make_project,
    query,
    run_creation_s,
    run_measured,
)

CEILING = CEILING_REQUESTS_PER_S * PAGE  # candles/s
TEN_SYMBOLS = ["BTC/USDT", "ETH/USDT", "BNB/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT",
               "DOGE/USDT", "TRX/USDT", "AVAX/USDT", "LINK/USDT"]


@dataclass
class Row:
    scenario: str
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_rss_mb: float | None = None
    candles: int | None = None
    candles_per_s: float | None = None
    requests: int | None = None
    min_requests: int | None = None
    asset_partitions: int | None = None
    events_s: float | None = None  # run creation + materializations, as Dagster wrote them
    target: str = ""
    measured: str = ""
    met: bool | None = None


@dataclass
class Fetched:
    """What a run fetched and stored, from the emulator's log and the warehouse."""

    candles: int
    requests: int
    min_requests: int
    phase_s: float  # first klines request to the last day committed

    @property
    def candles_per_s(self) -> float:
        return self.candles / self.phase_s


def fetched(emulator: Emulator, warehouse_url: str) -> Fetched:
    requests = emulator.klines_requests()
    counts = query(warehouse_url, "SELECT symbol, timeframe, count(*) FROM ohlcv "
                                  "GROUP BY symbol, timeframe")
    last_commit = query(warehouse_url, "SELECT max(completed_at) FROM ohlcv_complete_days")[0][0]
    first_request = min(r.time_ms for r in requests) / 1000
    return Fetched(sum(n for _, _, n in counts), len(requests),
                   sum(math.ceil(n / PAGE) for _, _, n in counts),
                   last_commit.timestamp() - first_request)


def backfill_1m(emulator: Emulator, workdir: Path, days: int,
                instance: str) -> tuple[Row, Project]:
    first = date(2024, 1, 1)
    last = first + timedelta(days=days - 1)
    project = make_project(workdir / f"1m-{instance}", f"1m_{instance.replace('-', '_')}",
                           emulator, TEN_SYMBOLS, ["1m"], first, instance)
    emulator.clear()
    run = project.materialize("group:binance", first, last)
    got = fetched(emulator, project.warehouse_url)
    partitions, recording_s = bookkeeping(run.output)
    ratio = got.candles_per_s / CEILING
    row = _row(f"1m backfill, 10 symbols x {days} d, instance storage: {instance}", run, got,
               partitions, recording_s + run_creation_s(project.env))
    if instance == "postgres-batched":
        row.target = "fetch-and-store >= 90% of ceiling"
        row.measured = f"{ratio:.0%} ({got.requests / got.phase_s:.1f} req/s)"
        row.met = ratio >= 0.9
    else:
        row.measured = f"{ratio:.0%} of ceiling"
    return row, project


def freqtrade(emulator: Emulator, workdir: Path, days: int, executable: str,
              titan_wall_s: float | None) -> Row:
    first = date(2024, 1, 1)
    end = first + timedelta(days=days)
    home = workdir / "freqtrade"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    api = {key: f"{emulator.url}{path}" for key, path in
           (("public", "/api/v3"), ("private", "/api/v3"), ("v1", "/api/v1"),
            ("sapi", "/sapi/v1"), ("fapiPublic", "/fapi/v1"), ("dapiPublic", "/dapi/v1"))}
    ccxt = {"urls": {"api": api}, "options": {"fetchMarkets": {"types": ["spot"]}}}
    config = {"exchange": {"name": "binance", "key": "", "secret": "", "only_from_ccxt": True,
                           "ccxt_config": ccxt, "ccxt_async_config": ccxt,
                           "pair_whitelist": []},
              "stake_currency": "USDT", "dry_run": True, "trading_mode": "spot",
              "pairlists": [{"method": "StaticPairList"}]}
    (home / "config.json").write_text(json.dumps(config, indent=2))
    run_measured([executable, "create-userdir", "--userdir", str(home / "user_data")],
                 _plain_env())
    emulator.clear()
    run = run_measured([executable, "download-data", "--config", str(home / "config.json"),
                        "--userdir", str(home / "user_data"), "--datadir", str(home / "data"),
                        "--timeframes", "1m", "--pairs", *TEN_SYMBOLS,
                        "--timerange", f"{first:%Y%m%d}-{end:%Y%m%d}"], _plain_env())
    requests = len(emulator.klines_requests())
    # freqtrade logs "Downloaded data for BTC/USDT, 1m, spot with length 129600." per pair.
    candles = sum(map(int, re.findall(r"Downloaded data for .+ with length (\d+)", run.output)))
    row = Row("freqtrade download-data, same pairs and range (feather files)", run.wall_s,
              run.cpu_s, run.peak_rss_mb, candles, None, requests,
              len(TEN_SYMBOLS) * math.ceil(days * 1440 / PAGE))
    if titan_wall_s:
        ratio = titan_wall_s / run.wall_s
        row.target = "titan's whole CLI run < freqtrade's (goal 0.75x)"
        row.measured = f"titan {titan_wall_s:.1f} s = {ratio:.2f}x freqtrade"
        row.met = ratio < 1
    return row


def first_start(emulator: Emulator, workdir: Path) -> Row:
    """The default titan.yaml (its symbols, timeframes and start date) from an empty
    warehouse up to yesterday: what the heal sensor requests on first start, as one run."""
    from titan_dagster.config import load_config

    config = load_config(Path("titan.yaml"))
    binance = config.exchange("binance")
    last = datetime.now(UTC).date() - timedelta(days=1)
    project = make_project(workdir / "first-start", "first_start", emulator,
                           list(binance.symbols), list(binance.timeframes), config.start,
                           "postgres-batched")
    emulator.clear()
    run = project.materialize("group:binance", config.start, last)
    got = fetched(emulator, project.warehouse_url)
    partitions, recording_s = bookkeeping(run.output)
    creation_s = run_creation_s(project.env)
    row = _row(f"first start: default config, {len(binance.symbols)} symbols x "
               f"{binance.timeframes}, {config.start}..{last}", run, got, partitions,
               recording_s + creation_s)
    row.target = "< 10 min in total"
    row.measured = (f"{run.wall_s / 60:.1f} min: exchange work {got.phase_s:.0f} s, "
                    f"Dagster bookkeeping {creation_s + recording_s:.0f} s "
                    f"(run creation {creation_s:.0f} s)")
    row.met = run.wall_s < 600
    return row


def memory(emulator: Emulator, workdir: Path, years: int) -> tuple[Row, str]:
    first = date(2019, 1, 1)
    last = date(first.year + years, 1, 1) - timedelta(days=1)
    project = make_project(workdir / f"memory-{years}y", f"memory_{years}y", emulator,
                           ["BTC/USDT"], ["1m"], first, "postgres-batched")
    emulator.clear()
    run = project.materialize("group:binance", first, last)
    got = fetched(emulator, project.warehouse_url)
    partitions, recording_s = bookkeeping(run.output)
    row = _row(f"peak RSS: 1m backfill of 1 symbol over {years} y", run, got, partitions,
               recording_s + run_creation_s(project.env))
    row.target = "peak RSS < 400 MB, flat as the range grows"
    row.measured = f"{run.peak_rss_mb:.0f} MB"
    row.met = run.peak_rss_mb < 400
    return row, project.warehouse_url


def read_year(warehouse_url: str) -> list[Row]:
    """The last stored year of the memory scenario's symbol (it ends on 31 December)."""
    from titan_dagster.warehouse import Warehouse

    store = Warehouse(warehouse_url)
    last = datetime.fromtimestamp(store.last_candle_ms("binance", "BTC/USDT", "1m") / 1000, UTC)
    start = datetime(last.year, 1, 1, tzinfo=UTC)
    end = start.replace(year=start.year + 1)
    expected = (end - start).days * 1440
    rows = []
    for exact in (True, False):
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            frame = store.read_candles("binance", "BTC/USDT", "1m", start, end, exact=exact)
            timings.append(time.perf_counter() - started)
        best = min(timings)
        kind = "Decimal values (default)" if exact else "float64 values (exact=False)"
        rows.append(Row(f"read 1 symbol's year of 1m candles into pandas, {kind}",
                        wall_s=best, candles=len(frame), candles_per_s=len(frame) / best,
                        target="< 1 s on PostgreSQL",
                        measured=f"{best:.2f} s (best of 3; worst {max(timings):.2f} s)",
                        met=best < 1 and len(frame) == expected))
    store.dispose()
    return rows


def write_path(candles: int) -> list[Row]:
    """The warehouse's write path (a transaction per page batch, as a backfill writes)
    against one bare COPY of the same rows into an empty table of the same shape."""
    from titan_dagster.emulator.candles import klines
    from titan_dagster.quality.validation import check_rows
    from titan_dagster.warehouse import Warehouse
    from titan_dagster.warehouse.batch import Batch

    start = 1_704_067_200_000
    opens = range(start, start + candles * 60_000, 60_000)
    rows = check_rows(klines("BTC/USDT", "1m", opens, start + candles * 60_000), 60_000,
                      start, start + candles * 60_000, start + candles * 60_000).valid
    url = fresh_database("titan_bench_write")
    store = Warehouse(url)
    store.migrate()
    plain = url.replace("+psycopg", "")
    with psycopg.connect(plain) as conn:
        conn.execute("CREATE TABLE bare (LIKE ohlcv INCLUDING ALL)")
        conn.commit()
        text = "".join(f"binance\tBTC/USDT\t1m\t{datetime.fromtimestamp(ts / 1000, UTC)}\t"
                       f"{o}\t{h}\t{lo}\t{c}\t{v}\tt\n" for ts, o, h, lo, c, v in rows)
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bare FROM STDIN") as copy:
            copy.write(text)
        conn.commit()
        bare_rate = len(rows) / (time.perf_counter() - started)
    out = [Row("bare COPY of the same rows into an empty table shaped like ohlcv",
               candles=len(rows), candles_per_s=bare_rate)]
    for batch_size in (PAGE, 5 * PAGE):
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute("TRUNCATE ohlcv")
        started = time.perf_counter()
        for i in range(0, len(rows), batch_size):
            store.write("binance", "BTC/USDT", "1m", Batch(rows[i:i + batch_size]))
        rate = len(rows) / (time.perf_counter() - started)
        out.append(Row(f"warehouse write path, a transaction per {batch_size} candles",
                       candles=len(rows), candles_per_s=rate,
                       target=">= 50% of bare COPY", measured=f"{rate / bare_rate:.0%}",
                       met=rate >= 0.5 * bare_rate))
    store.dispose()
    return out


def startup(emulator: Emulator, project: Project) -> list[Row]:
    """What every run pays before any work: loading the code location, and a whole CLI run
    of one day that is already complete (no request)."""
    load = run_measured([sys.executable, "-c", "import titan_dagster.definitions"],
                        project.env, cwd=project.workdir)
    emulator.clear()
    day = date(2024, 1, 1)
    noop = project.materialize("group:binance", day, day)
    return [Row("start-up: import the code location (titan_dagster.definitions)",
                load.wall_s, load.cpu_s, load.peak_rss_mb),
            Row("start-up: a whole CLI run of 10 symbols x 1 day already stored", noop.wall_s,
                noop.cpu_s, noop.peak_rss_mb, requests=len(emulator.klines_requests()),
                min_requests=0)]


def _row(name: str, run: Measured, got: Fetched, partitions: int, events_s: float) -> Row:
    return Row(name, run.wall_s, run.cpu_s, run.peak_rss_mb, got.candles, got.candles_per_s,
               got.requests, got.min_requests, partitions, events_s)


def _plain_env() -> dict[str, str]:
    # freqtrade lives in its own environment: not this project's virtualenv.
    return {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
