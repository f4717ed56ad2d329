"""`titan export`: candles of a selection and range to Parquet, Feather or CSV files."""

import argparse
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

DESCRIPTION = """\
Closed candles from the warehouse (TITAN_DATABASE_URL, default sqlite:///.titan/titan.db)
to one file per series: OUT_DIR/<exchange>/<BASE>_<QUOTE>/<timeframe>.<format>, columns
ts (open time, UTC, ms), open, high, low, close, volume. Values are exact decimals
(Arrow decimal128 with the series' largest stored scale; CSV: the decimal text) unless
--float. pandas, polars and DuckDB read the Parquet and Feather files as they are.
Written in batches (memory stays flat) under a temporary name, renamed when complete."""


def add_parser(commands) -> None:
    from titan_dagster.warehouse.export import FORMATS

    parser = commands.add_parser("export", help="candles to Parquet, Feather or CSV files",
                                 description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--exchange", help="only this exchange (source), e.g. binance")
    parser.add_argument("--symbol", action="append", dest="symbols", metavar="SYMBOL",
                        help="only this symbol, e.g. BTC/USDT (repeatable)")
    parser.add_argument("--timeframe", action="append", dest="timeframes", metavar="TF",
                        help="only this timeframe, e.g. 1m (repeatable)")
    parser.add_argument("--start", type=_day, help="first day (UTC, YYYY-MM-DD), included")
    parser.add_argument("--end", type=_day, help="last day (UTC, YYYY-MM-DD), included")
    parser.add_argument("--format", choices=sorted(FORMATS), default="parquet")
    parser.add_argument("--float", action="store_true", dest="as_float",
                        help="float64 values instead of exact decimals")


def export(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from titan_dagster.warehouse import default_database_url
    from titan_dagster.warehouse.database import DatabaseUrlError
    from titan_dagster.warehouse.export import FORMATS, export_series, stored_series
    from titan_dagster.warehouse.read_only import read_only_warehouse

    if args.start and args.end and args.end < args.start:
        return _fail(f"--end {args.end} is before --start {args.start}")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        return _fail(f"OUT_DIR {args.out_dir} exists and is not a directory")
    try:
        store = read_only_warehouse(default_database_url())
    except DatabaseUrlError as error:
        return _fail(str(error))
    start = datetime.combine(args.start, time(), UTC) if args.start else None
    end = datetime.combine(args.end + timedelta(days=1), time(), UTC) if args.end else None
    total = 0
    try:
        stored = stored_series(store)
        chosen, unknown = _select(stored, args.exchange, args.symbols, args.timeframes)
        if unknown:
            return _fail(unknown)
        for series in chosen:
            folder = args.out_dir / series.exchange / series.symbol.replace("/", "_")
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{series.timeframe}{FORMATS[args.format]}"
            rows = export_series(store, series, path, args.format, exact=not args.as_float,
                                 start=start, end=end)
            total += rows
            print(f"{path}  {rows:,} candles")
    except sa.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return _fail(f"cannot read the warehouse {store.display_url}: {reason}")
    except OSError as error:
        return _fail(f"cannot write {error.filename}: {error.strerror}")
    finally:
        store.dispose()
    print(f"{len(chosen)} files, {total:,} candles")
    return 0


def _select(stored, exchange: str | None, symbols: list[str] | None,
            timeframes: list[str] | None):
    """The chosen series, or a message naming what the warehouse does not hold."""
    for name, wanted, have in (
            ("exchange", [exchange] if exchange else None, {s.exchange for s in stored}),
            ("symbol", symbols, {s.symbol for s in stored
                                 if exchange in (None, s.exchange)}),
            ("timeframe", timeframes, {s.timeframe for s in stored
                                       if exchange in (None, s.exchange)
                                       and (not symbols or s.symbol in symbols)})):
        missing = [value for value in wanted or () if value not in have]
        if missing:
            return [], (f"no {name} {', '.join(map(repr, missing))} in the warehouse "
                        f"(stored: {', '.join(sorted(have)) or 'none'})")
    chosen = [s for s in stored if exchange in (None, s.exchange)
              and (not symbols or s.symbol in symbols)
              and (not timeframes or s.timeframe in timeframes)]
    if not chosen:
        return [], "the warehouse holds no candles yet"
    return chosen, None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def _fail(message: str) -> int:
    print(f"titan export: {message}", file=sys.stderr)
    return 2
