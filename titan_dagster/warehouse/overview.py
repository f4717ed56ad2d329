"""What the warehouse holds, one row per exchange, symbol and timeframe (`titan list-data`).

Each quantity is one query over every series at once, never a query per series, so the
listing costs a few scans however many series there are; only the series whose candles do
not fill first..last are paired to find their holes. The holes are the quality checks'
holes: the same gap SQL, the same market calendars, the same split into healable and
exchange-side (quality.holes).
"""

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from titan_dagster.calendars import calendar_of
from titan_dagster.quality.holes import quarantined_slots, split_missing
from titan_dagster.ranges import subtract, total
from titan_dagster.timeframes import timeframe_ms
from titan_dagster.warehouse.gap_sql import gaps_between_candles
from titan_dagster.warehouse.sqlite_time import stored_ms
from titan_dagster.warehouse.warehouse import Warehouse

Key = tuple[str, str, str]

# Where a series leaves a trace. A series may have no candle at all: only days complete
# before its listing, or only quarantined rows.
_TABLES = ("ohlcv", "ohlcv_complete_days", "ohlcv_rejects", "ohlcv_gaps", "ohlcv_unserved")


@dataclass(frozen=True)
class SeriesOverview:
    exchange: str
    symbol: str
    timeframe: str
    first_ms: int | None  # open time of the oldest closed candle
    last_ms: int | None  # open time of the newest closed candle
    candles: int  # closed candles
    open_candles: int  # stored with closed = false: the candle still forming
    complete_days: int  # rows in ohlcv_complete_days
    missing: int  # healable: expected between first and last, neither stored nor confirmed
    exchange_gaps: int  # missing between first and last, confirmed absent (ohlcv_gaps)
    quarantined: int  # rows in ohlcv_rejects
    # ohlcv keeps no write time: the newest of completed_at, confirmed_at, rejected_at and
    # recorded_at (ohlcv_unserved) of the series.
    updated_ms: int | None


def series_overview(warehouse: Warehouse, exchange: str | None = None,
                    symbol: str | None = None) -> list[SeriesOverview]:
    """Every series stored, or those of one exchange and/or symbol, ordered by exchange,
    symbol and timeframe length."""
    where, params = _filter(exchange, symbol)
    with warehouse.engine.connect() as conn:
        def rows(query: str) -> list:
            return conn.execute(sa.text(query), params).all()

        candles = {(e, s, tf): (int(n), int(n_open), stored_ms(a), stored_ms(b))
                   for e, s, tf, n, n_open, a, b in rows(
            "SELECT exchange, symbol, timeframe, "
            "sum(CASE WHEN closed = TRUE THEN 1 ELSE 0 END), "
            "sum(CASE WHEN closed = TRUE THEN 0 ELSE 1 END), "
            "min(CASE WHEN closed = TRUE THEN ts END), max(CASE WHEN closed = TRUE THEN ts END) "
            f"FROM ohlcv WHERE {where} GROUP BY exchange, symbol, timeframe")}
        days = {(e, s, tf): (int(n), stored_ms(at)) for e, s, tf, n, at in rows(
            "SELECT exchange, symbol, timeframe, count(*), max(completed_at) "
            f"FROM ohlcv_complete_days WHERE {where} GROUP BY exchange, symbol, timeframe")}
        rejects = rows("SELECT exchange, symbol, timeframe, ts_ms, rejected_at "
                       f"FROM ohlcv_rejects WHERE {where}")
        gaps = rows("SELECT exchange, symbol, timeframe, start_ts, end_ts, confirmed_at "
                    f"FROM ohlcv_gaps WHERE {where}")
        unserved = rows("SELECT exchange, symbol, timeframe, start_ts, end_ts, recorded_at "
                        f"FROM ohlcv_unserved WHERE {where}")
        # Stored candles sit on their timeframe's grid (the schema rejects any other), so a
        # series whose count fills every slot from first to last has no hole, whatever its
        # market's hours: in a healthy crypto warehouse almost no candle is paired.
        suspects = [key for key, (n, _, first, last) in candles.items()
                    if n and n < (last - first) // timeframe_ms(key[2]) + 1]
        pairs = rows(gaps_between_candles(warehouse.backend, *_only(suspects, params))) \
            if suspects else []

    quarantined, confirmed, not_served = (_by_series(r) for r in (rejects, gaps, unserved))
    updated: dict[Key, list[int]] = defaultdict(list)
    for key, (_, at) in days.items():
        updated[key].append(at)
    for table in (rejects, gaps, unserved):
        for e, s, tf, *_, at in table:
            updated[(e, s, tf)].append(stored_ms(at))
    holes = _holes(pairs)

    overview = []
    for key in set(candles) | set(days) | set(updated):
        n, n_open, first, last = candles.get(key, (0, 0, None, None))
        missing, on_exchange = _missing(key, holes.get(key, []), quarantined.get(key, []),
                                        confirmed.get(key, []), not_served.get(key, []))
        overview.append(SeriesOverview(
            *key, first_ms=first, last_ms=last, candles=n, open_candles=n_open,
            complete_days=days.get(key, (0, None))[0], missing=missing,
            exchange_gaps=on_exchange, quarantined=len(quarantined.get(key, [])),
            updated_ms=max(updated[key], default=None)))
    return sorted(overview, key=lambda row: (row.exchange, row.symbol,
                                             timeframe_ms(row.timeframe), row.timeframe))


def stored_names(warehouse: Warehouse) -> dict[str, set[str]]:
    """The symbols stored per exchange, in any table: what a filter could have named."""
    query = " UNION ".join(f"SELECT DISTINCT exchange, symbol FROM {table}" for table in _TABLES)
    names: dict[str, set[str]] = defaultdict(set)
    with warehouse.engine.connect() as conn:
        for exchange, symbol in conn.execute(sa.text(query)).all():
            names[exchange].add(symbol)
    return dict(names)


def _filter(exchange: str | None, symbol: str | None) -> tuple[str, dict]:
    clauses, params = ["1 = 1"], {}
    if exchange is not None:
        clauses.append("exchange = :exchange")
        params["exchange"] = exchange
    if symbol is not None:
        clauses.append("symbol = :symbol")
        params["symbol"] = symbol
    return " AND ".join(clauses), params


def _only(keys: list[Key], params: dict) -> tuple[str, str]:
    """The gap SQL's row filter for these series and its step, the timeframe in seconds; the
    names are bound parameters (added to `params`), the lengths integers computed here."""
    series, steps = [], {}
    for i, (exchange, symbol, timeframe) in enumerate(keys):
        params.update({f"e{i}": exchange, f"s{i}": symbol, f"t{i}": timeframe})
        series.append(f"(exchange = :e{i} AND symbol = :s{i} AND timeframe = :t{i})")
        steps.setdefault(timeframe, f"WHEN :t{i} THEN {timeframe_ms(timeframe) // 1000}")
    return f"({' OR '.join(series)})", f"(CASE timeframe {' '.join(steps.values())} END)"


def _by_series(rows: list) -> dict[Key, list[tuple]]:
    """Rows keyed by their series, the key and the write time dropped."""
    grouped: dict[Key, list[tuple]] = defaultdict(list)
    for e, s, tf, *values, _ in rows:
        grouped[(e, s, tf)].append(tuple(values))
    return grouped


def _holes(pairs: list) -> dict[Key, list[tuple[int, int]]]:
    """The spans between consecutive closed candles, [after the first, the second), per
    series; not yet judged by the market's calendar."""
    holes: dict[Key, list[tuple[int, int]]] = defaultdict(list)
    for e, s, tf, a, b in pairs:
        holes[(e, s, tf)].append((stored_ms(a) + timeframe_ms(tf), stored_ms(b)))
    return holes


def _missing(key: Key, holes: list[tuple[int, int]], rejects: list[tuple],
             gaps: list[tuple], unserved: list[tuple]) -> tuple[int, int]:
    """(healable, confirmed absent) candles of a series between its first and last."""
    if not holes:
        return 0, 0
    exchange, symbol, timeframe = key
    step = timeframe_ms(timeframe)
    calendar = calendar_of(exchange, symbol)
    expected = [slots for a, b in holes for slots in calendar.expected(a, b, step)]
    expected = subtract(expected, [(stored_ms(a), stored_ms(b)) for a, b in unserved])
    healable, on_exchange = split_missing(
        expected, quarantined_slots((ts for (ts,) in rejects), step, calendar.offset(step)),
        [(stored_ms(a), stored_ms(b)) for a, b in gaps])
    return total(healable, step), total(on_exchange, step)
