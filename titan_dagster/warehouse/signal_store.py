"""The signal tables (migrations 0007, 0008): strategies by version, signals, their outcomes,
backtest results and live-against-backtest performance, on either backend. Prices go in as
decimal text and stay exact."""

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from titan_dagster.signals.model import Outcome
from titan_dagster.signals.performance import Performance
from titan_dagster.timeframes import now_ms, to_datetime
from titan_dagster.warehouse.reconnect import reconnecting
from titan_dagster.warehouse.sqlite_time import iso_from_ms, stored_ms
from titan_dagster.warehouse.warehouse import Warehouse

UNRESOLVED = ("pending", "open", "tp1")
_RECORD_COLUMNS = ("trades", "win_rate", "expectancy_r", "profit_factor", "max_drawdown_r")


@dataclass(frozen=True)
class SeriesKey:
    strategy: str
    version: str
    exchange: str
    symbol: str
    timeframe: str

    def params(self) -> dict:
        return {"st": self.strategy, "v": self.version, "e": self.exchange, "s": self.symbol,
                "tf": self.timeframe}


@dataclass(frozen=True)
class SignalRow:
    signal_ts: int  # close time of the signal candle, epoch ms
    direction: str  # long or short
    reference_price: str  # decimal text, as every price here
    entry: str
    stop_loss: str
    take_profit_1: str
    take_profit_2: str
    confidence: float
    valid_until: int


_KEY = ("strategy = :st AND strategy_version = :v AND exchange = :e AND symbol = :s AND "
        "timeframe = :tf")


class SignalStore:
    def __init__(self, warehouse: Warehouse):
        self.engine, self.backend = warehouse.engine, warehouse.backend
        self.display_url = warehouse.display_url  # what `reconnecting` reports
        self.reconnect_timeout_s = warehouse.reconnect_timeout_s
        self._pg = self.backend == "postgresql"

    @reconnecting
    def record_strategy(self, name: str, version: str, kind: str, params: dict, risk: dict,
                        source: str, timeframe: str, active: bool,
                        live_since: int | None = None) -> int | None:
        """The strategy's version, once; later records refresh `active`. Returns when the
        version went live (epoch ms): `live_since` where the user gave it, else the first
        record of it as active; None while it never was."""
        went_live = live_since if live_since is not None else now_ms() if active else None
        keep = "excluded.live_since" if live_since is not None else \
            "COALESCE(strategies.live_since, excluded.live_since)"
        query = sa.text(
            "INSERT INTO strategies (name, version, kind, params, risk, source, timeframe, "
            f"active, live_since) VALUES (:n, :v, :k, {self._json(':p')}, {self._json(':r')}, "
            ":src, :tf, :a, :live) ON CONFLICT (name, version) DO UPDATE SET "
            f"active = excluded.active, live_since = {keep}, updated_at = {self._now()}")
        with self.engine.begin() as conn:
            conn.execute(query, {"n": name, "v": version, "k": kind, "p": json.dumps(params),
                                 "r": json.dumps(risk), "src": source, "tf": timeframe,
                                 "a": active, "live": self._ts(went_live)})
            stored = conn.execute(sa.text("SELECT live_since FROM strategies WHERE name = :n "
                                          "AND version = :v"), {"n": name, "v": version}).scalar()
        return stored_ms(stored)

    @reconnecting
    def write_signals(self, key: SeriesKey, rows: Sequence[SignalRow]) -> dict[tuple, int]:
        """Stores new signals (an existing one is kept as it was) and returns the id of
        every one by (signal_ts, direction)."""
        if not rows:
            return {}
        insert = sa.text(
            "INSERT INTO signals (strategy, strategy_version, exchange, symbol, timeframe, "
            "signal_ts, direction, reference_price, entry, stop_loss, take_profit_1, "
            "take_profit_2, confidence, valid_until) VALUES (:st, :v, :e, :s, :tf, :ts, :d, "
            ":ref, :entry, :sl, :tp1, :tp2, :c, :until) ON CONFLICT DO NOTHING")
        base = key.params()
        with self.engine.begin() as conn:
            conn.execute(insert, [{**base, "ts": self._ts(r.signal_ts), "d": r.direction,
                                   "ref": r.reference_price, "entry": r.entry,
                                   "sl": r.stop_loss, "tp1": r.take_profit_1,
                                   "tp2": r.take_profit_2, "c": r.confidence,
                                   "until": self._ts(r.valid_until)} for r in rows])
            found = conn.execute(sa.text(
                f"SELECT signal_ts, direction, id FROM signals WHERE {_KEY} AND "
                "signal_ts BETWEEN :a AND :b"),
                {**base, "a": self._ts(min(r.signal_ts for r in rows)),
                 "b": self._ts(max(r.signal_ts for r in rows))}).all()
        return {(stored_ms(ts), direction): id_ for ts, direction, id_ in found}

    @reconnecting
    def write_outcomes(self, outcomes: Iterable[tuple[int, Outcome]]) -> None:
        query = sa.text(
            "INSERT INTO outcomes (signal_id, status, entry_fill_ts, entry_fill_price, "
            "tp1_hit, tp1_hit_ts, tp2_hit, tp2_hit_ts, sl_hit, sl_hit_ts, expired, expired_ts, "
            "exit_legs, r_gross, r_net, ambiguous, resolved_by, updated_at) VALUES (:id, "
            ":status, :fill_ts, :fill, :tp1, :tp1_ts, :tp2, :tp2_ts, :sl, :sl_ts, :exp, "
            f":exp_ts, {self._json(':legs')}, :rg, :rn, :amb, :by, {self._now()}) "
            "ON CONFLICT (signal_id) DO UPDATE SET status = excluded.status, "
            "entry_fill_ts = excluded.entry_fill_ts, "
            "entry_fill_price = excluded.entry_fill_price, tp1_hit = excluded.tp1_hit, "
            "tp1_hit_ts = excluded.tp1_hit_ts, tp2_hit = excluded.tp2_hit, "
            "tp2_hit_ts = excluded.tp2_hit_ts, sl_hit = excluded.sl_hit, "
            "sl_hit_ts = excluded.sl_hit_ts, expired = excluded.expired, "
            "expired_ts = excluded.expired_ts, exit_legs = excluded.exit_legs, "
            "r_gross = excluded.r_gross, r_net = excluded.r_net, "
            "ambiguous = excluded.ambiguous, resolved_by = excluded.resolved_by, "
            "updated_at = excluded.updated_at")
        rows = [{"id": signal_id, "status": o.status, "fill_ts": self._ts(o.entry_fill_ts),
                 "fill": _price(o.entry_fill_price),
                 "tp1": o.tp1_hit_ts is not None, "tp1_ts": self._ts(o.tp1_hit_ts),
                 "tp2": o.tp2_hit_ts is not None, "tp2_ts": self._ts(o.tp2_hit_ts),
                 "sl": o.sl_hit_ts is not None, "sl_ts": self._ts(o.sl_hit_ts),
                 "exp": o.expired_ts is not None, "exp_ts": self._ts(o.expired_ts),
                 "legs": json.dumps([{**asdict(leg), "price": _price(leg.price)}
                                     for leg in o.legs]),
                 "rg": o.r_gross, "rn": o.r_net, "amb": o.ambiguous, "by": o.resolved_by}
                for signal_id, o in outcomes]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(query, rows)

    @reconnecting
    def unresolved_signal_times(self, key: SeriesKey) -> list[int]:
        """Signal times whose outcome may still change (pending, open, TP1 with the rest
        running): what a later run evaluates again."""
        query = sa.text(f"SELECT s.signal_ts FROM signals s JOIN outcomes o ON o.signal_id = "
                        f"s.id WHERE {_KEY.replace('strategy ', 's.strategy ')} AND o.status "
                        f"IN ({', '.join(repr(s) for s in UNRESOLVED)}) ORDER BY s.signal_ts")
        with self.engine.connect() as conn:
            return [stored_ms(ts) for ts in conn.execute(query, key.params()).scalars()]

    @reconnecting
    def newest_signal_ms(self, strategy: str, version: str) -> int | None:
        with self.engine.connect() as conn:
            newest = conn.execute(sa.text("SELECT max(signal_ts) FROM signals WHERE strategy = "
                                          ":st AND strategy_version = :v"),
                                  {"st": strategy, "v": version}).scalar()
        return stored_ms(newest)

    @reconnecting
    def write_backtest(self, key: SeriesKey, range_start: int, range_end: int,
                       metrics: dict) -> None:
        columns = list(metrics)
        query = sa.text(
            "INSERT INTO backtest_results (strategy, strategy_version, exchange, symbol, "
            f"timeframe, range_start, range_end, {', '.join(columns)}) VALUES (:st, :v, :e, "
            f":s, :tf, :a, :b, {', '.join(':' + c for c in columns)}) ON CONFLICT (strategy, "
            "strategy_version, exchange, symbol, timeframe, range_start, range_end) DO UPDATE "
            f"SET {', '.join(f'{c} = excluded.{c}' for c in columns)}, ran_at = {self._now()}")
        with self.engine.begin() as conn:
            conn.execute(query, {**key.params(), "a": self._ts(range_start),
                                 "b": self._ts(range_end), **metrics})

    @reconnecting
    def backtests(self, strategy: str, version: str, range_start: int,
                  range_end: int) -> list[dict]:
        """The stored backtests of one strategy version over [range_start, range_end), one
        per symbol: exchange, symbol, timeframe, ran_at (epoch ms) and every metric."""
        query = sa.text("SELECT * FROM backtest_results WHERE strategy = :st AND "
                        "strategy_version = :v AND range_start = :a AND range_end = :b "
                        "ORDER BY symbol")
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"st": strategy, "v": version,
                                        "a": self._ts(range_start),
                                        "b": self._ts(range_end)}).mappings().all()
        return [{**row, "ran_at": stored_ms(row["ran_at"])} for row in rows]

    @reconnecting
    def write_performance(self, key: SeriesKey, live_since: int,
                          days: Sequence[Performance]) -> None:
        """The record as of each day, replacing an earlier computation of the same day."""
        if not days:
            return
        columns = ["as_of", "live_since", *(f"{side}_{name}" for side in ("live", "backtest")
                                            for name in _RECORD_COLUMNS),
                   "expectancy_floor_r", "degraded", "reason"]
        query = sa.text(
            "INSERT INTO strategy_performance (strategy, strategy_version, exchange, symbol, "
            f"timeframe, {', '.join(columns)}) VALUES (:st, :v, :e, :s, :tf, "
            f"{', '.join(':' + c for c in columns)}) ON CONFLICT (strategy, strategy_version, "
            "exchange, symbol, timeframe, as_of) DO UPDATE SET "
            f"{', '.join(f'{c} = excluded.{c}' for c in columns[1:])}, "
            f"computed_at = {self._now()}")
        base = {**key.params(), "live_since": self._ts(live_since)}
        rows = [{**base, "as_of": day.as_of if self._pg else day.as_of.isoformat(),
                 **{f"{side}_{name}": getattr(getattr(day, side), name)
                    for side in ("live", "backtest") for name in _RECORD_COLUMNS},
                 "expectancy_floor_r": day.verdict.expectancy_floor_r,
                 "degraded": day.verdict.degraded, "reason": day.verdict.reason}
                for day in days]
        with self.engine.begin() as conn:
            conn.execute(query, rows)

    def _json(self, placeholder: str) -> str:
        return f"CAST({placeholder} AS jsonb)" if self._pg else placeholder

    def _now(self) -> str:
        return "now()" if self._pg else "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

    def _ts(self, ms: int | None):
        if ms is None:
            return None
        return to_datetime(ms) if self._pg else iso_from_ms(ms)


def _price(value: float | None) -> str | None:
    """The engine's float64 price as the shortest decimal that reads back as it (repr): the
    same text on every run, stored exactly."""
    return None if value is None else repr(float(value))
