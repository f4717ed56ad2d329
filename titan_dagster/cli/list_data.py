"""`titan list-data`: what the warehouse holds, as a table, JSON or CSV."""

import argparse
import csv
import json
import sys
from datetime import UTC, datetime

DESCRIPTION = """\
One row per exchange (source), symbol and timeframe stored in the warehouse
(TITAN_DATABASE_URL, default sqlite:///.titan/titan.db), like freqtrade's
`list-data --show-timerange`. Times are UTC.

  first, last    open time of the oldest and the newest closed candle
  candles        closed candles stored
  open           the still-open candle the minute refresh stores (closed = false): 1 while
                 there is one. It is counted here only, never in candles, first or last
  complete days  days recorded complete (ohlcv_complete_days), days before the listing
                 included
  missing        healable holes: candles the market's calendar expects between first and
                 last that are not stored, not quarantined, not confirmed absent and not
                 beyond the exchange's reach (ohlcv_unserved); re-fetching their days
                 (the heal sensor does) stores or confirms them
  exchange gaps  candles between first and last the exchange confirmed it does not have
                 (ohlcv_gaps)
  quarantined    rows that broke the candle schema (ohlcv_rejects)
  last update    the series' newest recorded write time. ohlcv keeps none, so this is the
                 newest of: a day recorded complete, a gap confirmed, a row quarantined, a
                 slot recorded as not served. Candles the minute refresh writes today show
                 here once their day is recorded complete, shortly after midnight UTC

Exit 0 (an empty warehouse says so); 2 when the warehouse cannot be read or is not
migrated, or --exchange or --symbol names one not stored.
"""

FORMATS = ("table", "json", "csv")

# (key in JSON and CSV, table header, SeriesOverview attribute)
_COLUMNS = [
    ("exchange", "exchange", "exchange"),
    ("symbol", "symbol", "symbol"),
    ("timeframe", "tf", "timeframe"),
    ("first_candle", "first", "first_ms"),
    ("last_candle", "last", "last_ms"),
    ("candles", "candles", "candles"),
    ("open_candles", "open", "open_candles"),
    ("complete_days", "complete days", "complete_days"),
    ("missing", "missing", "missing"),
    ("exchange_gaps", "exchange gaps", "exchange_gaps"),
    ("quarantined", "quarantined", "quarantined"),
    ("last_update", "last update", "updated_ms"),
]
_TEXT = {"exchange", "symbol", "timeframe"}
_TIMES = {"first_ms", "last_ms", "updated_ms"}
_NAMES_SHOWN = 10


def add_parser(commands) -> None:
    parser = commands.add_parser("list-data", help="what the warehouse holds, per series",
                                 description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (default), json (a list of objects) or csv")
    parser.add_argument("--exchange", help="only this exchange (source), e.g. binance")
    parser.add_argument("--symbol", help="only this symbol, e.g. BTC/USDT")


def list_data(output_format: str, exchange: str | None, symbol: str | None) -> int:
    import sqlalchemy as sa

    from titan_dagster.warehouse import default_database_url
    from titan_dagster.warehouse.database import DatabaseUrlError
    from titan_dagster.warehouse.migrations import applied_versions
    from titan_dagster.warehouse.overview import series_overview, stored_names
    from titan_dagster.warehouse.read_only import read_only_warehouse

    try:
        warehouse = read_only_warehouse(default_database_url())
    except DatabaseUrlError as error:
        return _fail(str(error))
    try:
        if not applied_versions(warehouse.engine):
            return _fail(f"the warehouse {warehouse.display_url} is not migrated yet "
                         "(a Dagster run migrates it)")
        rows = series_overview(warehouse, exchange, symbol)
        if not rows and (exchange or symbol):
            return _fail(_not_stored(stored_names(warehouse), exchange, symbol))
    except sa.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return _fail(f"cannot read the warehouse {warehouse.display_url}: {reason}")
    finally:
        warehouse.dispose()
    if not rows:
        empty = f"the warehouse {warehouse.display_url} holds no series yet"
        print(empty, file=sys.stdout if output_format == "table" else sys.stderr)
        if output_format == "table":
            return 0
    records = [_record(row) for row in rows]
    if output_format == "json":
        print(json.dumps(records, indent=2))
    elif output_format == "csv":
        writer = csv.DictWriter(sys.stdout, [key for key, _, _ in _COLUMNS],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        print(table(records))
    return 0


def table(records: list[dict]) -> str:
    """Aligned columns under a header: text to the left, counts to the right, '-' where a
    series has no value."""
    cells = [[header for _, header, _ in _COLUMNS]]
    cells += [["-" if record[key] is None else
               str(record[key]).replace("T", " ").removesuffix("Z")
               if attribute in _TIMES else str(record[key])
               for key, _, attribute in _COLUMNS] for record in records]
    widths = [max(len(row[i]) for row in cells) for i in range(len(_COLUMNS))]
    numeric = [attribute not in _TEXT | _TIMES for _, _, attribute in _COLUMNS]
    lines = ["  ".join(cell.rjust(width) if right else cell.ljust(width)
                       for cell, width, right in zip(row, widths, numeric, strict=True)
                       ).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _record(row) -> dict:
    return {key: _iso(getattr(row, attribute)) if attribute in _TIMES
            else getattr(row, attribute) for key, _, attribute in _COLUMNS}


def _iso(ms: int | None) -> str | None:
    return None if ms is None else \
        datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _not_stored(names: dict[str, set[str]], exchange: str | None, symbol: str | None) -> str:
    if exchange is not None and exchange not in names:
        return f"no exchange {exchange!r} in the warehouse (stored: {_some(names)})"
    if exchange is not None:
        return f"no symbol {symbol!r} on {exchange} in the warehouse " \
               f"(stored there: {_some(names[exchange])})"
    return f"no symbol {symbol!r} in the warehouse " \
           f"(stored: {_some(set().union(*names.values()))})"


def _some(names) -> str:
    """The names, sorted; a long list cut short, saying how many more there are."""
    names = sorted(names)
    shown = ", ".join(names[:_NAMES_SHOWN]) or "none"
    return shown if len(names) <= _NAMES_SHOWN else \
        f"{shown} and {len(names) - _NAMES_SHOWN} more"


def _fail(message: str) -> int:
    print(f"titan list-data: {message}", file=sys.stderr)
    return 2
