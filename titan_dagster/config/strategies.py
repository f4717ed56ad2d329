"""titan.yaml `strategies:`: each one validated at load against the sources it reads, naming
the file, the field and the value."""

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from titan_dagster.config.model import ExchangeSettings
from titan_dagster.signals.model import Risk
from titan_dagster.timeframes import to_ms

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_FIELDS = {"kind", "params", "source", "symbols", "timeframe", "risk", "active", "live_since",
           "min_live_trades"}
_RISK_FIELDS = {"stop", "take_profit_1", "take_profit_2", "tp1_fraction", "breakeven_after_tp1",
                "entry_valid_candles", "max_hold_candles", "fee_bps", "slippage_bps"}
_STOPS = {"pct", "atr", "period"}
_TARGET = {"r"}


@dataclass(frozen=True)
class StrategySettings:
    name: str
    kind: str  # a built-in kind, or "module.path:function"
    source: str
    symbols: tuple[str, ...]
    timeframe: str
    risk: Risk
    params: dict = field(default_factory=dict)
    active: bool = True
    # When the strategy went live (epoch ms), if the user says so; otherwise the warehouse
    # takes the first time it recorded this version active.
    live_since: int | None = None
    # Closed live trades before the live record is judged against the backtest.
    min_live_trades: int = 20

    @property
    def version(self) -> str:
        """What the results depend on, hashed: editing any of it makes a new version, whose
        rows are never mixed with the old one's. (Symbols are not in it: adding one does not
        change what the others' results mean.)"""
        spec = {"kind": self.kind, "params": self.params, "timeframe": self.timeframe,
                "risk": asdict(self.risk)}
        text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_strategies(path: Path, raw: Any, sources: tuple[ExchangeSettings, ...],
                     error) -> tuple[StrategySettings, ...]:
    """`error(field, message)` builds the loader's ConfigError."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise error("strategies", f"expected a mapping of strategy name to settings, got {raw!r}")
    by_name = {source.name: source for source in sources}
    return tuple(_parse_one(str(name), settings, by_name, error)
                 for name, settings in raw.items())


def _parse_one(name: str, raw: Any, sources: dict[str, ExchangeSettings],
               error) -> StrategySettings:
    from titan_dagster.signals.kinds import KINDS, check_params, load_kind

    where = f"strategies.{name}"
    if not _NAME.fullmatch(name):
        raise error("strategies", f"{name!r} is not a strategy name (lower case, digits, _; it "
                                  "names assets like signals/<name>)")
    if not isinstance(raw, dict):
        raise error(where, f"expected a mapping with kind, source, symbols, timeframe and "
                           f"risk, got {raw!r}")
    unknown = sorted(set(map(str, raw)) - _FIELDS)
    if unknown:
        raise error(where, f"unknown field {unknown[0]!r} (allowed: {sorted(_FIELDS)})")
    for key in ("kind", "source", "symbols", "timeframe", "risk"):
        if raw.get(key) is None:
            raise error(f"{where}.{key}", "missing required field")
    kind = raw["kind"]
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise error(f"{where}.params", f"expected a mapping, got {params!r}")
    built_in = isinstance(kind, str) and kind in KINDS
    if not built_in and not (isinstance(kind, str) and ":" in kind):
        raise error(f"{where}.kind", f"{kind!r} is not a built-in kind "
                                     f"({', '.join(sorted(KINDS))}) nor \"module.path:function\"")
    try:
        check_params(kind, params) if built_in else load_kind(kind)
    except ValueError as problem:
        raise error(f"{where}.{'params' if built_in else 'kind'}", str(problem)) from None
    source = sources.get(raw["source"])
    if source is None:
        raise error(f"{where}.source", f"{raw['source']!r} is not one of the configured "
                                       f"exchanges ({', '.join(sources)})")
    symbols = raw["symbols"]
    if not isinstance(symbols, list) or not symbols:
        raise error(f"{where}.symbols", f"expected a non-empty list, got {symbols!r}")
    for i, symbol in enumerate(symbols):
        if symbol not in source.symbols:
            raise error(f"{where}.symbols[{i}]", f"{symbol!r} is not configured for "
                                                 f"{source.name} ({', '.join(source.symbols)})")
    if raw["timeframe"] not in source.timeframes:
        raise error(f"{where}.timeframe", f"{raw['timeframe']!r} is not configured for "
                                          f"{source.name} ({', '.join(source.timeframes)})")
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise error(f"{where}.active", f"{active!r} is not true or false")
    return StrategySettings(name=name, kind=kind, source=source.name, symbols=tuple(symbols),
                            timeframe=raw["timeframe"], params=dict(params),
                            risk=_parse_risk(f"{where}.risk", raw["risk"], error),
                            active=active,
                            live_since=_moment(f"{where}.live_since", raw.get("live_since"),
                                               error),
                            min_live_trades=_whole(f"{where}.min_live_trades",
                                                   raw.get("min_live_trades", 20), 2, 100_000,
                                                   error))


def _moment(where: str, raw: Any, error) -> int | None:
    """A UTC date or time (YAML reads an unquoted 2026-11-01 as a date)."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, date):
        moment = datetime(raw.year, raw.month, raw.day)
    else:
        try:
            moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise error(where, f"{raw!r} is not a UTC date or time like 2026-11-01 or "
                               "2026-11-01T12:00:00Z") from None
    if moment.tzinfo is not None and moment.utcoffset():
        raise error(where, f"{raw!r} is not UTC (all times here are UTC)")
    return to_ms(moment.replace(tzinfo=UTC))


def _parse_risk(where: str, raw: Any, error) -> Risk:
    if not isinstance(raw, dict):
        raise error(where, f"expected a mapping with stop and targets, got {raw!r}")
    unknown = sorted(set(map(str, raw)) - _RISK_FIELDS)
    if unknown:
        raise error(where, f"unknown field {unknown[0]!r} (allowed: {sorted(_RISK_FIELDS)})")
    stop = raw.get("stop")
    if not isinstance(stop, dict) or set(stop) - _STOPS or ("pct" in stop) == ("atr" in stop):
        raise error(f"{where}.stop", f"{stop!r} is not a stop: {{pct: 0.02}} or "
                                     "{atr: 2.0, period: 14}")
    values: dict = {}
    if "pct" in stop:
        values["stop_pct"] = _number(f"{where}.stop.pct", stop["pct"], 0, 1, error)
    else:
        values["stop_atr"] = _number(f"{where}.stop.atr", stop["atr"], 0, 100, error)
        values["atr_period"] = _whole(f"{where}.stop.period", stop.get("period", 14), 1, 1000,
                                      error)
    for key, target in (("take_profit_1", "tp1_r"), ("take_profit_2", "tp2_r")):
        spec = raw.get(key)
        if spec is None:
            continue
        if not isinstance(spec, dict) or set(spec) != _TARGET:
            raise error(f"{where}.{key}", f"{spec!r} is not a target in R: {{r: 1.0}}")
        values[target] = _number(f"{where}.{key}.r", spec["r"], 0, 1000, error)
    if values.get("tp2_r", Risk.tp2_r) < values.get("tp1_r", Risk.tp1_r):
        raise error(f"{where}.take_profit_2", "is nearer than take_profit_1")
    if "tp1_fraction" in raw:
        values["tp1_fraction"] = _number(f"{where}.tp1_fraction", raw["tp1_fraction"], 0, 1,
                                         error, inclusive_high=True)
    if "breakeven_after_tp1" in raw:
        if not isinstance(raw["breakeven_after_tp1"], bool):
            raise error(f"{where}.breakeven_after_tp1",
                        f"{raw['breakeven_after_tp1']!r} is not true or false")
        values["breakeven_after_tp1"] = raw["breakeven_after_tp1"]
    for key, low, high in (("entry_valid_candles", 1, 10_000), ("max_hold_candles", 1, 100_000)):
        if key in raw:
            values[key] = _whole(f"{where}.{key}", raw[key], low, high, error)
    for key in ("fee_bps", "slippage_bps"):
        if key in raw:
            values[key] = _number(f"{where}.{key}", raw[key], 0, 10_000, error,
                                  inclusive_low=True)
    return Risk(**values)


def _number(where: str, value: Any, low: float, high: float, error, *,
            inclusive_low: bool = False, inclusive_high: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and (
        low <= value if inclusive_low else low < value) and (
        value <= high if inclusive_high else value < high)
    if not ok:
        raise error(where, f"{value!r} is not a number {'>=' if inclusive_low else '>'} {low} "
                           f"and {'<=' if inclusive_high else '<'} {high}")
    return float(value)


def _whole(where: str, value: Any, low: int, high: int, error) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error(where, f"{value!r} is not a whole number from {low} to {high}")
    return value
