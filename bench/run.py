"""titan_dagster's performance benchmark (issue 5): every scenario through the real code
path against the project's Binance emulator on 127.0.0.1, PostgreSQL on 127.0.0.1:5432.

    uv run python bench/run.py                      # everything, full scale (~15 min)
    uv run python bench/run.py --days 10 --only backfill write read
    uv run python bench/run.py --freqtrade /path/to/freqtrade

Prints one markdown table (the one BENCHMARKS.md shows). The ceiling is ccxt's binance
throttle: 50 klines requests/s of 1000 candles = 50,000 candles/s for one process.
"""

import argparse
import platform
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scenarios  # noqa: E402
from bench.harness import INSTANCE_SETTINGS, Emulator  # noqa: E402

SCENARIOS = ("backfill", "freqtrade", "first-start", "write", "memory", "read", "startup")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=90, help="1m backfill range (days)")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=SCENARIOS)
    parser.add_argument("--instances", nargs="+", choices=list(INSTANCE_SETTINGS),
                        default=list(INSTANCE_SETTINGS),
                        help="Dagster instance storages to run the 1m backfill on")
    parser.add_argument("--memory-years", type=int, nargs="+", default=[1, 2, 5])
    parser.add_argument("--write-candles", type=int, default=500_000)
    parser.add_argument("--freqtrade", default=shutil.which("freqtrade"),
                        help="freqtrade executable (default: on PATH; skipped if none)")
    parser.add_argument("--workdir", type=Path, help="keep runs' files here (default: temp)")
    args = parser.parse_args()

    rows: list[scenarios.Row] = []
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        workdir = args.workdir or Path(tmp)
        titan_wall = project = None
        if "backfill" in args.only:
            for instance in args.instances:
                row, built = scenarios.backfill_1m(emulator, workdir, args.days, instance)
                rows.append(_show(row))
                if instance == "postgres-batched":
                    titan_wall, project = row.wall_s, built
        if "freqtrade" in args.only and args.freqtrade:
            rows.append(_show(scenarios.freqtrade(emulator, workdir, args.days, args.freqtrade,
                                                  titan_wall)))
        if "startup" in args.only and project is not None:
            rows.extend(map(_show, scenarios.startup(emulator, project)))
        if "first-start" in args.only:
            rows.append(_show(scenarios.first_start(emulator, workdir)))
        if "write" in args.only:
            rows.extend(map(_show, scenarios.write_path(args.write_candles)))
        if "memory" in args.only or "read" in args.only:
            years = args.memory_years if "memory" in args.only else [1]
            for n in years:
                row, warehouse_url = scenarios.memory(emulator, workdir, n)
                if "memory" in args.only:
                    rows.append(_show(row))
            if "read" in args.only:
                rows.extend(map(_show, scenarios.read_year(warehouse_url)))
    print(f"\n{platform.node()}: {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}\n")
    print(table(rows))
    return 0 if all(row.met is not False for row in rows) else 1


COLUMNS = ("scenario", "wall s", "CPU s", "peak RSS MB", "candles", "candles/s",
           "requests (min)", "asset-partitions", "event writes s", "target", "measured", "met")


def table(rows: list[scenarios.Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "| --- |" + " ---: |" * 8 + " --- | --- | --- |"]
    for r in rows:
        requests = "" if r.requests is None else f"{r.requests:,} ({r.min_requests:,})"
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        cells = (r.scenario, _num(r.wall_s, 1), _num(r.cpu_s, 1), _num(r.peak_rss_mb, 0),
                 _num(r.candles, 0), _num(r.candles_per_s, 0), requests,
                 _num(r.asset_partitions, 0), _num(r.events_s, 1), r.target, r.measured, met)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _num(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _show(row: scenarios.Row) -> scenarios.Row:
    print(table([row]).splitlines()[-1], flush=True)
    return row


if __name__ == "__main__":
    sys.exit(main())
