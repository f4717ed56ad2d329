"""Reading and exporting one symbol's 1m candles from PostgreSQL (issue 16): the last year
read by Warehouse.read_candles with exact Decimal values and with float64 (bench/run.py's
read scenario: best and worst of 3, target < 1 s), then `titan export` to Parquet over 1
and 3 years: wall time, candles per second and peak RSS, which must stay flat as the range
grows (the export streams).

    uv run python bench/export.py             # 3 years stored, exports of 1 and 3 years
    uv run python bench/export.py --float     # the same with float64 columns
    uv run python bench/export.py --reuse     # the database the last run stored
"""

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import fresh_database, run_measured  # noqa: E402
from bench.scenarios import read_year  # noqa: E402
from titan_dagster.emulator.candles import klines  # noqa: E402
from titan_dagster.quality.validation import check_rows  # noqa: E402
from titan_dagster.timeframes import DAY_MS, day_start_ms  # noqa: E402
from titan_dagster.warehouse import Warehouse  # noqa: E402
from titan_dagster.warehouse.batch import Batch  # noqa: E402

FIRST, YEARS = date(2021, 1, 1), 3
MINUTE = 60_000
CHUNK_DAYS = 30


def stock(url: str) -> int:
    """YEARS of BTC/USDT 1m candles from FIRST, written as a backfill writes them."""
    store = Warehouse(url)
    store.migrate()
    start = day_start_ms(FIRST)
    end = day_start_ms(date(FIRST.year + YEARS, 1, 1))
    written = 0
    for lo in range(start, end, CHUNK_DAYS * DAY_MS):
        hi = min(lo + CHUNK_DAYS * DAY_MS, end)
        rows = check_rows(klines("BTC/USDT", "1m", range(lo, hi, MINUTE), hi), MINUTE, lo, hi,
                          hi).valid
        store.write("binance", "BTC/USDT", "1m", Batch(rows))
        written += len(rows)
    store.dispose()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--float", action="store_true", dest="as_float")
    parser.add_argument("--reuse", action="store_true",
                        help="export the database an earlier run of this bench stored")
    args = parser.parse_args()
    if args.reuse:
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/titan_bench_read_export"
    else:
        url = fresh_database("titan_bench_read_export")
        print(f"stored {stock(url):,} candles of BTC/USDT 1m from {FIRST}")
    print("| read (Warehouse.read_candles) | target | measured | met |\n|---|---|---|---|")
    for row in read_year(url):  # the last stored year: 2023
        print(f"| {row.scenario} | {row.target} | {row.measured} | {'yes' if row.met else 'no'} |")
    env = {**os.environ, "TITAN_DATABASE_URL": url}
    print("| export | candles | wall s | candles/s | peak RSS MB | file MB |")
    print("|---|---|---|---|---|---|")
    for years in (1, YEARS):
        with tempfile.TemporaryDirectory() as out:
            last = date(FIRST.year + years, 1, 1).toordinal() - 1
            command = [sys.executable, "-m", "titan_dagster.cli", "export", out,
                       "--timeframe", "1m", "--start", FIRST.isoformat(),
                       "--end", date.fromordinal(last).isoformat(),
                       *(["--float"] if args.as_float else [])]
            run = run_measured(command, env)
            path = Path(out) / "binance" / "BTC_USDT" / "1m.parquet"
            candles = (date.fromordinal(last + 1) - FIRST).days * 1440
            print(f"| {years} y of 1m to Parquet, {'float64' if args.as_float else 'decimal128'}"
                  f" | {candles:,} | {run.wall_s:.2f} | {candles / run.wall_s:,.0f} | "
                  f"{run.peak_rss_mb:.0f} | {path.stat().st_size / 2**20:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
