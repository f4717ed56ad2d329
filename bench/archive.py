"""Binance history from the kline archive (issue 15): the README's backfill command as a new
user runs it (`dg launch`, fresh DAGSTER_HOME, no run config, no extra
environment), into PostgreSQL, against the project's emulator serving REST and the archive
on 127.0.0.1.

    uv run python bench/archive.py                    # 10 symbols x 90 d, archive and REST
    uv run python bench/archive.py --memory-years 1 2 5 --first-start-years 1

The emulator builds each archive file from its candles on first request (about 0.4 s for a
month of 1m, in the benchmark's own process); the files a scenario needs are requested once
before it is timed, as a real archive serves files that already exist. Prints the markdown
table BENCHMARKS.md shows.
"""

import argparse
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    CEILING_REQUESTS_PER_S,
    PAGE,
    Emulator,
    Measured,
    bookkeeping,
    make_project,
    query,
    run_creation_s,
)
from bench.scenarios import TEN_SYMBOLS  # noqa: E402
from titan_dagster.emulator import DEFAULT_LISTINGS, ArchiveSettings  # noqa: E402
from titan_dagster.sources.binance_archive import plan  # noqa: E402
from titan_dagster.timeframes import DAY_MS, day_start_ms, now_ms  # noqa: E402

FIRST = date(2024, 1, 1)
LONG_FIRST = date(2019, 1, 1)  # the multi-year scenarios (ending before today)
INSTANCES = {"sqlite": "SQLite (Dagster's default)", "postgres": "PostgreSQL (dagster.yaml)"}
_SUMMARY = re.compile(r"(\d+) archive files \(([0-9.]+) MB\), downloads ([0-9.]+) s and "
                      r"decoding ([0-9.]+) s")
_WRITES = re.compile(r"warehouse writes took, summed over symbols, ([0-9.]+) s")


def warm(emulator: Emulator, symbols: list[str], first: date, last: date) -> float:
    """Requests every file the run will download once, so that the run is served files that
    exist already; returns the seconds the emulator took to build them."""
    started = time.perf_counter()
    for symbol in symbols:
        for file in plan(symbol.replace("/", ""), "1m", day_start_ms(first),
                         day_start_ms(last) + DAY_MS, now_ms()):
            for path in (file.path, file.checksum_path):
                try:
                    with urllib.request.urlopen(emulator.url + path) as answer:
                        answer.read()
                except urllib.error.HTTPError as error:
                    if error.code != 404:  # 404: before the symbol's listing
                        raise
    emulator.clear()
    return time.perf_counter() - started


def run(emulator: Emulator, workdir: Path, name: str, symbols: list[str], first: date,
        last: date, archives: bool, instance: str = "sqlite") -> tuple[Measured, dict]:
    """`instance`: Dagster's default SQLite storage (a fresh DAGSTER_HOME), or "postgres"
    (deploy/dagster.yaml)."""
    project = make_project(workdir / name, f"archive_{name}", emulator, symbols, ["1m"], first,
                           instance, archives=archives)
    emulator.clear()
    measured = project.materialize("group:binance", first, last)
    candles = query(project.warehouse_url, "SELECT count(*) FROM ohlcv")[0][0]
    partitions, recording_s = bookkeeping(measured.output)
    split = {"candles": candles, "rest_requests": len(emulator.klines_requests()),
             "bookkeeping_s": recording_s + run_creation_s(project.env),
             "writes_s": sum(map(float, _WRITES.findall(measured.output)))}
    summary = _SUMMARY.search(measured.output)
    if summary:
        split |= {"files": int(summary[1]), "mb": float(summary[2]),
                  "download_s": float(summary[3]), "decode_s": float(summary[4])}
    return measured, split


def row(scenario: str, measured: Measured, split: dict, target: str = "",
        result: str = "") -> str:
    files = f"{split['files']} ({split['mb']:.0f} MB)" if "files" in split else ""
    parts = [f"downloads {split['download_s']:.1f}", f"decoding {split['decode_s']:.1f}"] \
        if "files" in split else []
    parts += [f"writes {split['writes_s']:.1f}", f"Dagster bookkeeping "
              f"{split['bookkeeping_s']:.1f}"]
    return (f"| {scenario} | {measured.wall_s:.1f} | {measured.cpu_s:.1f} | "
            f"{measured.peak_rss_mb:.0f} | {split['candles']:,} | "
            f"{split['candles'] / measured.wall_s:,.0f} | {split['rest_requests']} | {files} | "
            f"{', '.join(parts)} | {target} | {result} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=90,
                        help="the 10-symbol archive and REST range (0: skip those)")
    parser.add_argument("--memory-years", type=int, nargs="*", default=[])
    parser.add_argument("--first-start-years", type=int, nargs="*", default=[])
    parser.add_argument("--skip-rest", action="store_true")
    args = parser.parse_args()
    last = FIRST + timedelta(days=args.days - 1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, \
            Emulator(ArchiveSettings(cached_files=100_000)) as emulator:
        workdir = Path(tmp)
        if args.days:
            built = warm(emulator, TEN_SYMBOLS, FIRST, last)
            print(f"emulator built the archive files in {built:.1f} s (not timed)", flush=True)
        for instance in ("sqlite", "postgres") if args.days else ():
            archive, split = run(emulator, workdir, f"archive_{instance}", TEN_SYMBOLS, FIRST,
                                 last, True, instance)
            rest_ideal = split["candles"] / (CEILING_REQUESTS_PER_S * PAGE)
            rows.append(row(f"archive: 10 symbols x {args.days} d of 1m, Dagster storage "
                            f"{INSTANCES[instance]}", archive, split,
                            "4x faster than REST at the ceiling",
                            f"{rest_ideal / archive.wall_s:.1f}x ({rest_ideal:.1f} s at the "
                            "ceiling)"))
            print(rows[-1], flush=True)
            if instance == "sqlite":
                default_wall = archive.wall_s
        if args.days and not args.skip_rest:
            rest, rest_split = run(emulator, workdir, "rest", TEN_SYMBOLS, FIRST, last, False)
            rows.append(row(f"REST (archives: false): 10 symbols x {args.days} d of 1m, "
                            f"Dagster storage {INSTANCES['sqlite']}", rest, rest_split,
                            ">= 90% of the ceiling, whole run",
                            f"{rest_ideal / rest.wall_s:.0%}; the archive run "
                            f"{rest.wall_s / default_wall:.1f}x faster"))
            print(rows[-1], flush=True)
        for years in args.memory_years:
            start = date(LONG_FIRST.year, 1, 1)
            end = date(start.year + years, 1, 1) - timedelta(days=1)
            warm(emulator, ["BTC/USDT"], start, end)
            measured, split = run(emulator, workdir, f"memory_{years}y", ["BTC/USDT"], start,
                                  end, True)
            rows.append(row(f"peak RSS: archive, 1 symbol x {years} y of 1m", measured, split,
                            "flat as the range grows", f"{measured.peak_rss_mb:.0f} MB"))
            print(rows[-1], flush=True)
        for years in args.first_start_years:
            end = date(LONG_FIRST.year + years, 1, 1) - timedelta(days=1)
            symbols = list(DEFAULT_LISTINGS)
            built = warm(emulator, symbols, LONG_FIRST, end)
            print(f"emulator built the archive files in {built:.1f} s (not timed)", flush=True)
            measured, split = run(emulator, workdir, f"first_{years}y", symbols, LONG_FIRST,
                                  end, True, "postgres")
            # Every symbol listed for all of 5 years, at this run's candles per second.
            five = len(symbols) * 5 * 365.25 * 1440 * measured.wall_s / split["candles"]
            rows.append(row(f"first start: {len(symbols)} symbols x {years} y of 1m, Dagster "
                            f"storage {INSTANCES['postgres']}", measured, split,
                            "5 years < 10 min", f"at this rate 5 years of {len(symbols)}: "
                            f"{five / 60:.0f} min"))
            print(rows[-1], flush=True)
    print("\n| scenario | wall s | CPU s | peak RSS MB | candles | candles/s | REST requests "
          "| archive files | split (s, summed over files and symbols) | target | measured |")
    print("| --- |" + " ---: |" * 7 + " --- | --- | --- |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
