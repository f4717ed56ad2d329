"""The reads behind the HTTP API: one SELECT each, on either backend.

Prices and volumes come back as the database's own decimal text (CAST to text: PostgreSQL's
numeric output, SQLite's stored text), never through float or Decimal, whose str() could
turn 0.0000001 into 1E-7. Times come back as UTC datetimes, dates as dates.
"""

import json
from datetime import date

import sqlalchemy as sa

from titan_dagster.timeframes import to_datetime
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.sqlite_time import iso_from_ms, ms_from_iso

SIGNAL_COLUMNS = ("id", "strategy", "strategy_version", "exchange", "symbol", "timeframe",
                  "signal_ts", "direction", "reference_price", "entry", "stop_loss",
                  "take_profit_1", "take_profit_2", "confidence", "valid_until", "created_at")
OUTCOME_COLUMNS = ("status", "entry_fill_ts", "entry_fill_price", "tp1_hit", "tp1_hit_ts",
                   "tp2_hit", "tp2_hit_ts", "sl_hit", "sl_hit_ts", "expired", "expired_ts",
                   "exit_legs", "r_gross", "r_net", "ambiguous", "resolved_by", "updated_at")
CANDLE_COLUMNS = ("ts", "open", "high", "low", "close", "volume", "closed")
PERFORMANCE_KEY = ("strategy", "strategy_version", "exchange", "symbol", "timeframe", "as_of")
PERFORMANCE_COLUMNS = (*PERFORMANCE_KEY, "live_since", "live_trades", "live_win_rate",
                       "live_expectancy_r", "live_profit_factor", "live_max_drawdown_r",
                       "backtest_trades", "backtest_win_rate", "backtest_expectancy_r",
                       "backtest_profit_factor", "backtest_max_drawdown_r",
                       "expectancy_floor_r", "degraded", "reason", "computed_at")
_DECIMALS = {"reference_price", "entry", "stop_loss", "take_profit_1", "take_profit_2",
             "entry_fill_price", "open", "high", "low", "close", "volume"}
_TIMES = {"signal_ts", "valid_until", "created_at", "entry_fill_ts", "tp1_hit_ts",
          "tp2_hit_ts", "sl_hit_ts", "expired_ts", "updated_at", "ts", "live_since",
          "computed_at"}


class Reads:
    def __init__(self, warehouse: Warehouse):
        self.engine = warehouse.engine
        self._pg = warehouse.backend == "postgresql"

    def signals(self, *, strategy: str | None = None, version: str | None = None,
                symbol: str | None = None, since_ms: int | None = None,
                status: str | None = None, after_id: int = 0, limit: int) -> list[dict]:
        """Signals with id > after_id, oldest id first, each with its outcome (or None)."""
        clauses, params = _given([("s.id > :after", "after", after_id),
                                  ("s.strategy = :st", "st", strategy),
                                  ("s.strategy_version = :v", "v", version),
                                  ("s.symbol = :sym", "sym", symbol),
                                  ("s.signal_ts >= :since", "since", self._bound(since_ms)),
                                  ("o.status = :status", "status", status)])
        return self._signals(" AND ".join(clauses), {**params, "limit": limit},
                             "ORDER BY s.id LIMIT :limit")

    def signal(self, signal_id: int) -> dict | None:
        found = self._signals("s.id = :id", {"id": signal_id}, "")
        return found[0] if found else None

    def _signals(self, where: str, params: dict, tail: str) -> list[dict]:
        columns = ", ".join([*(self._column("s", c) for c in SIGNAL_COLUMNS),
                             *(self._column("o", c) for c in OUTCOME_COLUMNS)])
        rows = self._rows(f"SELECT {columns} FROM signals s LEFT JOIN outcomes o ON "
                          f"o.signal_id = s.id WHERE {where} {tail}", params)
        signals = []
        for row in rows:
            signal = {c: row[c] for c in SIGNAL_COLUMNS}
            outcome = {c: row[c] for c in OUTCOME_COLUMNS}
            signal["outcome"] = outcome if outcome["status"] is not None else None
            signals.append(signal)
        return signals

    def candles(self, exchange: str, symbol: str, timeframe: str, *,
                start_ms: int | None = None, end_ms: int | None = None,
                include_open: bool = False, limit: int) -> list[dict]:
        """Candles with open time in [start_ms, end_ms), oldest first; closed ones only
        unless include_open."""
        clauses, params = _given([("exchange = :e", "e", exchange),
                                  ("symbol = :s", "s", symbol),
                                  ("timeframe = :tf", "tf", timeframe),
                                  ("ts >= :start", "start", self._bound(start_ms)),
                                  ("ts < :end", "end", self._bound(end_ms))])
        if not include_open:
            clauses.append("closed = TRUE")
        columns = ", ".join(self._column(None, c) for c in CANDLE_COLUMNS)
        rows = self._rows(f"SELECT {columns} FROM ohlcv WHERE {' AND '.join(clauses)} "
                          "ORDER BY ts LIMIT :limit", {**params, "limit": limit})
        return [{**row, "closed": bool(row["closed"])} for row in rows]

    def performance(self, *, strategy: str | None = None, version: str | None = None,
                    first: date | None = None, last: date | None = None,
                    after: tuple | None = None, limit: int) -> list[dict]:
        """strategy_performance rows in key order, after the key `after`: those with as_of
        from first to last, or without either, the newest as_of of each series."""
        clauses, params = _given([("strategy = :st", "st", strategy),
                                  ("strategy_version = :v", "v", version),
                                  ("as_of >= :first", "first", self._day(first)),
                                  ("as_of <= :last", "last", self._day(last))])
        params["limit"] = limit
        if first is None and last is None:
            same = " AND ".join(f"q.{c} = p.{c}" for c in PERFORMANCE_KEY[:-1])
            clauses.append(f"as_of = (SELECT max(q.as_of) FROM strategy_performance q "
                           f"WHERE {same})")
        if after is not None:
            names = [f"k{i}" for i in range(len(PERFORMANCE_KEY))]
            clauses.append(f"({', '.join(PERFORMANCE_KEY)}) > "
                           f"({', '.join(':' + n for n in names)})")
            params.update(zip(names, [*after[:-1], self._day(after[-1])], strict=True))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        columns = ", ".join(PERFORMANCE_COLUMNS)
        return self._rows(f"SELECT {columns} FROM strategy_performance p {where} "
                          f"ORDER BY {', '.join(PERFORMANCE_KEY)} LIMIT :limit", params)

    def _column(self, table: str | None, name: str) -> str:
        qualified = f"{table}.{name}" if table else name
        return f"CAST({qualified} AS TEXT) AS {name}" if name in _DECIMALS else qualified

    def _rows(self, query: str, params: dict) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(query), params).mappings().all()
        return [{name: _value(name, value) for name, value in row.items()} for row in rows]

    def _bound(self, ms: int | None):
        """A time to compare `ts >= x` or `ts < x` with. SQLite's times are text of whole
        seconds, and for those both comparisons hold for the same rows with x rounded up
        to the second."""
        if ms is None:
            return None
        return to_datetime(ms) if self._pg else iso_from_ms(-(-ms // 1000) * 1000)

    def _day(self, day: date | None):
        return day.isoformat() if day is not None and not self._pg else day


def _given(conditions: list[tuple[str, str, object]]) -> tuple[list[str], dict]:
    """The clauses, and their parameters, of the (clause, name, value) whose value is given."""
    given = [(clause, name, value) for clause, name, value in conditions if value is not None]
    return [clause for clause, _, _ in given], {name: value for _, name, value in given}


def _value(name: str, value):
    if value is None:
        return None
    if name in _TIMES:
        return to_datetime(ms_from_iso(value)) if isinstance(value, str) else value
    if name == "as_of":
        return date.fromisoformat(value) if isinstance(value, str) else value
    if name == "exit_legs":
        legs = json.loads(value) if isinstance(value, str) else value
        return [{**leg, "ts": to_datetime(leg["ts"])} for leg in legs]
    return value

