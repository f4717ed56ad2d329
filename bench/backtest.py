"""Backtests (issue 13, item 7): the signal engine against backtesting.py on one symbol, and a
whole Dagster run of one strategy over 20 symbols in PostgreSQL.

    uv run python bench/backtest.py                              # our rows only
    uv run --with backtesting==0.6.6 python bench/backtest.py    # with backtesting.py's row

backtesting.py is an optional peer, not a project dependency: without it (`import backtesting`
fails) its row is skipped with a message.

1. One symbol, 5 years of 1h candles (43,824) of a seeded random walk, the same work in
   both: SMA(20)/SMA(50) crosses of the close, long and short, entered at the next open, a
   fixed 2% stop and one 2R target from the signal candle's close, no fees, no expiry (each
   cross is its own trade: backtesting.py runs with hedging=True so a reversal does not close
   the other side's trade). Ours: `run_kind` + `levels` + `evaluate` + `backtest_metrics`,
   in memory; theirs: `Backtest(df, SmaCross).run()`. Best of 5 each.
2. `dagster.materialize` of the strategy assets (sma_cross 20/50, stop 2%, TP1 1R, TP2 2R,
   fees 10 bps, slippage 2 bps, max hold 48) over 5 years of 1h candles of 20 symbols
   (876,480 candles, written with Warehouse.write) in a fresh PostgreSQL database
   titan_bench_signals (dropped at the end): reading the candles, writing signals, outcomes
   and backtest results, and Dagster's bookkeeping for 1,826 daily partitions x 3 assets.
   Twice, each under its own strategy name (fresh rows): `dagster.instance_for_test()` with
   dagster-postgres storage (in the same database) and the project's bookkeeping settings
   (titan_dagster.dagster_env, README "Running Dagster"), then `instance_for_test()` as it
   comes (SQLite event log, Dagster's defaults: ~1.5 minutes). Inside each run the bench
   times run creation, Dagster's event writes and the 20 `run_range` calls. Then one
   symbol's `run_range` again (under a third name), step by step. The runs' HTML
   reports go to a temporary TITAN_STATE_DIR, removed at the end.

Needs PostgreSQL on 127.0.0.1:5432, user postgres (TITAN_BENCH_PG overrides the server URL).
Prints a markdown table of both measurements (the whole script takes ~2 minutes).
"""

import inspect
import os
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar, if tqdm is there

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psycopg  # noqa: E402
import talib  # noqa: E402

from titan_dagster.config.strategies import StrategySettings  # noqa: E402
from titan_dagster.signals.engine import evaluate  # noqa: E402
from titan_dagster.signals.kinds import run_kind  # noqa: E402
from titan_dagster.signals.levels import levels  # noqa: E402
from titan_dagster.signals.metrics import backtest_metrics  # noqa: E402
from titan_dagster.signals.model import Candles, Risk  # noqa: E402
from titan_dagster.timeframes import day_start_ms  # noqa: E402
from titan_dagster.warehouse import Warehouse  # noqa: E402
from titan_dagster.warehouse.batch import Batch  # noqa: E402

FIRST, LAST = date(2021, 1, 1), date(2025, 12, 31)  # 1,826 days: 43,824 hourly candles
STEP = 3_600_000
SYMBOLS = tuple(f"C{i:02d}/USDT" for i in range(20))
PARAMS = {"fast": 20, "slow": 50}
REPEAT = 5
CHUNK = 5_000  # candles per warehouse transaction
SERVER = os.environ.get("TITAN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DATABASE = "titan_bench_signals"
TARGET_RATIO_S = 0.27  # backtesting.py's time per symbol quoted by the issue
TARGET_RUN_S = 20.0


# --- data ---------------------------------------------------------------------------------

def walk(seed: int) -> dict[str, np.ndarray]:
    """Hourly candles FIRST..LAST of a random walk: open = previous close, log returns with
    0.5% sd, wicks beyond the body, lognormal volume; prices to 4 decimals."""
    start = day_start_ms(FIRST)
    n = (day_start_ms(LAST) + 86_400_000 - start) // STEP
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.005, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    wicks = np.abs(rng.normal(0.0, 0.0025, (2, n)))
    high = np.maximum(open_, close) * np.exp(wicks[0])
    low = np.minimum(open_, close) * np.exp(-wicks[1])
    # Rounding is monotone, so low <= open, close <= high still holds after it.
    return {"ts": start + np.arange(n, dtype=np.int64) * STEP, "open": np.round(open_, 4),
            "high": np.round(high, 4), "low": np.round(low, 4), "close": np.round(close, 4),
            "volume": np.round(rng.lognormal(5.0, 1.0, n), 3)}


def candles_of(series: dict[str, np.ndarray]) -> Candles:
    return Candles(ts=series["ts"], open=series["open"], high=series["high"], low=series["low"],
                   close=series["close"], volume=series["volume"], step=STEP)


def decimal_text(values: np.ndarray, places: int) -> list[str]:
    """Canonical decimal text (no trailing zeros, no trailing point), as the warehouse
    stores it."""
    return [f"{v:.{places}f}".rstrip("0").rstrip(".") for v in values.tolist()]


def best_of(fn: Callable[[], object], repeat: int = REPEAT) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


# --- 1. one symbol: the engine against backtesting.py -----------------------------------------

def ours(candles: Candles):
    risk = Risk(stop_pct=0.02, tp1_r=2.0, tp2_r=2.0, tp1_fraction=1.0,
                max_hold_candles=len(candles))  # no expiry, as backtesting.py has none

    def run():
        raw = run_kind("sma_cross", candles, PARAMS)
        signals = levels(candles, raw, risk)
        outcomes = evaluate(candles, signals, risk)
        return outcomes, backtest_metrics(candles, signals, outcomes, always_open=True)

    return best_of(run)


def theirs(series: dict[str, np.ndarray]):
    """backtesting.py's best time, its trades, and its (entry bar, exit bar) pairs; None when
    it is not installed."""
    try:
        from backtesting import Backtest, Strategy
        from backtesting.lib import crossover
    except ImportError:
        return None

    class SmaCross(Strategy):
        fast, slow = PARAMS["fast"], PARAMS["slow"]

        def init(self):
            self.sma_fast = self.I(talib.SMA, self.data.Close, self.fast)
            self.sma_slow = self.I(talib.SMA, self.data.Close, self.slow)

        def next(self):
            ref = self.data.Close[-1]
            if crossover(self.sma_fast, self.sma_slow):
                self.buy(size=0.1, sl=ref * 0.98, tp=ref * 1.04)
            elif crossover(self.sma_slow, self.sma_fast):
                self.sell(size=0.1, sl=ref * 1.02, tp=ref * 0.96)

    frame = pd.DataFrame({"Open": series["open"], "High": series["high"],
                          "Low": series["low"], "Close": series["close"],
                          "Volume": series["volume"]},
                         index=pd.to_datetime(series["ts"], unit="ms"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, stats = best_of(
            lambda: Backtest(frame, SmaCross, cash=10_000_000, hedging=True).run())
    trades = stats["_trades"]
    return seconds, int(stats["# Trades"]), set(zip(trades["EntryBar"], trades["ExitBar"],
                                                    strict=True))


def one_symbol() -> list[str]:
    series = walk(seed=1)
    candles = candles_of(series)
    seconds, (outcomes, metrics) = ours(candles)
    closed = {(o.entry_index, o.exit_index) for o in outcomes if o.closed}
    statuses = Counter(o.status for o in outcomes)
    print(f"engine: {seconds:.3f} s, {metrics.trades} trades of {len(outcomes)} signals "
          f"({dict(statuses)})", flush=True)
    rows = [f"| engine, 1 symbol: run_kind + levels + evaluate + backtest_metrics | "
            f"{len(candles):,} | {metrics.trades:,} | {seconds:.3f} (best of {REPEAT}) | "
            f"faster than backtesting.py | "]
    peer = theirs(series)
    if peer is None:
        print("backtesting.py: not installed (an optional peer, not a project dependency); "
              "its row is skipped. Run `uv run --with backtesting==0.6.6 python "
              "bench/backtest.py` to include it.")
        rows[0] += (f"backtesting.py not installed; the issue quotes ~{TARGET_RATIO_S} s for it "
                    f"| {'yes' if seconds < TARGET_RATIO_S else '**no**'} (against the quote) |")
        return rows
    their_s, their_trades, their_pairs = peer
    same = len(closed & their_pairs)
    ratio = their_s / seconds
    print(f"backtesting.py: {their_s:.3f} s, {their_trades} trades; {same} with the same "
          f"entry and exit candle as ours", flush=True)
    rows[0] += (f"{ratio:.1f}x faster ({same:,} of {metrics.trades:,} trades on the same entry "
                f"and exit candle) | {'yes' if seconds < their_s else '**no**'} |")
    rows.append(f"| backtesting.py 0.6.6, 1 symbol: Backtest(df, SmaCross, hedging=True).run() "
                f"| {len(candles):,} | {their_trades:,} | {their_s:.3f} (best of {REPEAT}) | "
                f" | | |")
    return rows


# --- 2. a whole Dagster run -------------------------------------------------------------------

STRATEGY = StrategySettings(
    name="bench_sma_cross", kind="sma_cross", source="binance", symbols=SYMBOLS,
    timeframe="1h", params=PARAMS,
    risk=Risk(stop_pct=0.02, tp1_r=1.0, tp2_r=2.0, max_hold_candles=48, fee_bps=10,
              slippage_bps=2))


def admin(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def load(store: Warehouse) -> tuple[int, float]:
    """Every symbol's candles, CHUNK per transaction; (candles, seconds)."""
    started, total = time.perf_counter(), 0
    for i, symbol in enumerate(SYMBOLS):
        series = walk(seed=100 + i)
        columns = [decimal_text(series[name], 4) for name in ("open", "high", "low", "close")]
        rows = list(zip(series["ts"].tolist(), *columns, decimal_text(series["volume"], 3),
                        strict=True))
        for at in range(0, len(rows), CHUNK):
            store.write("binance", symbol, "1h", Batch(candles=rows[at:at + CHUNK]))
        total += len(rows)
    return total, time.perf_counter() - started


@contextmanager
def timed(spent: dict[str, float], targets: list[tuple[object, str, str]]):
    """Wrap each (owner, attribute, label) so its calls add their seconds to spent[label]."""
    saved = []
    for owner, attribute, label in targets:
        original = getattr(owner, attribute)
        own = attribute in vars(owner)  # else inherited: restored by deleting the wrapper

        def wrapper(*args, _original=original, _label=label, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - started

        saved.append((owner, attribute, original, own))
        setattr(owner, attribute, wrapper)
    try:
        yield spent
    finally:
        for owner, attribute, original, own in reversed(saved):
            if own:
                setattr(owner, attribute, original)
            else:
                delattr(owner, attribute)


def profile_one(store: Warehouse) -> tuple[float, dict[str, float]]:
    """`run_range` of the first symbol over FIRST..LAST as the Dagster run calls it (backtest
    and look-ahead check included), under another strategy name (fresh rows), with the
    seconds of each step."""
    from titan_dagster.signals import pipeline, runs
    from titan_dagster.warehouse.signal_store import SignalStore

    strategy = StrategySettings(**{**STRATEGY.__dict__, "name": "bench_profile"})
    steps = [(runs, "read_series", "read candles (1h; 1m only where stop and target touch)"),
             (pipeline, "run_kind", "compute: run_kind"),
             (pipeline, "levels", "compute: levels"),
             (pipeline, "evaluate", "compute: evaluate"),
             (runs, "signal_rows", "signal rows (decimal text)"),
             (SignalStore, "record_strategy", "write: record_strategy"),
             (SignalStore, "unresolved_signal_times", "read: unresolved signals"),
             (SignalStore, "write_signals", "write: signals"),
             (SignalStore, "write_outcomes", "write: outcomes"),
             (runs, "lookahead_mismatches", "compute: look-ahead check"),
             (runs, "backtest_metrics", "compute: backtest_metrics"),
             (SignalStore, "write_backtest", "write: backtest result"),
             (runs, "write_report", "write: HTML report")]
    steps = [step for step in steps if hasattr(step[0], step[1])]
    options = {"check_lookahead": True} \
        if "check_lookahead" in inspect.signature(runs.run_range).parameters else {}
    with timed({}, steps) as spent:
        started = time.perf_counter()
        runs.run_range(strategy, store, SYMBOLS[0], FIRST, LAST, **options)
        total = time.perf_counter() - started
    return total, spent


@contextmanager
def environment(values: dict[str, str]):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def materialize(strategy: StrategySettings, url: str, instance_storage: str,
                first: date = FIRST, live: bool = False) -> dict:
    """One `dagster.materialize` of the strategy's assets over first..LAST (`live`: signals,
    outcomes and performance only, as the automation sensor runs them); its seconds, with
    what run creation, Dagster's event writes and the 20 `run_range` calls took inside it.
    `instance_storage`: "sqlite" is `instance_for_test()` as it comes (Dagster's defaults);
    "postgres" is dagster-postgres in the same database with the project's bookkeeping
    settings (titan_dagster.dagster_env, README "Running Dagster")."""
    import dagster as dg

    from titan_dagster.dagster_env import BOOKKEEPING_ENV
    from titan_dagster.defs.ohlcv.partitions import daily_partitions
    from titan_dagster.defs.resources import WarehouseResource
    from titan_dagster.defs.signals import assets as signal_assets

    postgres = instance_storage == "postgres"
    overrides = {"storage": {"postgres": {"postgres_url": url.replace("+psycopg", "+psycopg2")}}} \
        if postgres else None
    defs = signal_assets.build_strategy_assets(strategy, daily_partitions(FIRST))
    # Dagster's console logger would print every event (11,000 lines); the events are still
    # stored by the instance, which is what the run pays for.
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with environment(BOOKKEEPING_ENV if postgres else {}), \
            dg.instance_for_test(overrides=overrides) as instance:
        kind = type(instance)
        steps = [(kind, "create_run_for_job", "run creation"),
                 (kind, "handle_new_event", "event writes"),
                 (signal_assets, "run_range", "run_range")]
        with timed({}, steps) as spent:
            started = time.perf_counter()
            keys = [key for key in defs.keys if key.path[0] != "backtests"] if live else None
            result = dg.materialize(
                [defs], instance=instance, run_config=quiet, selection=keys,
                tags={"dagster/asset_partition_range_start": first.isoformat(),
                      "dagster/asset_partition_range_end": LAST.isoformat()},
                resources={"warehouse": WarehouseResource(database_url=url)})
            seconds = time.perf_counter() - started
        assert result.success
    return {"s": seconds, "materializations": len(result.get_asset_materialization_events()),
            **spent}


def stored(store: Warehouse, strategy: StrategySettings) -> tuple[int, int, int, int]:
    """Signals, outcomes, backtest results and trades the strategy's run wrote."""
    with store.engine.connect() as conn:
        return tuple(int(conn.exec_driver_sql(query, (strategy.name,)).scalar() or 0)
                     for query in (
            "SELECT count(*) FROM signals WHERE strategy = %s",
            "SELECT count(*) FROM outcomes o JOIN signals s ON s.id = o.signal_id "
            "WHERE s.strategy = %s",
            "SELECT count(*) FROM backtest_results WHERE strategy = %s",
            "SELECT sum(trades) FROM backtest_results WHERE strategy = %s"))


def dagster_runs() -> list[str]:
    url = f"{SERVER.replace('postgresql://', 'postgresql+psycopg://', 1)}/{DATABASE}"
    admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    admin(f"CREATE DATABASE {DATABASE}")
    store = Warehouse(url)
    rows = []
    days = (LAST - FIRST).days + 1
    try:
        store.migrate()
        candles, load_s = load(store)
        print(f"\nloaded {candles:,} candles of {len(SYMBOLS)} symbols in {load_s:.1f} s "
              f"({candles / load_s:,.0f}/s, {CHUNK:,} per Warehouse.write)", flush=True)
        for storage in ("postgres", "sqlite"):
            # Its own strategy name: each run writes fresh rows (and its own asset keys).
            strategy = StrategySettings(**{**STRATEGY.__dict__,
                                           "name": f"{STRATEGY.name}_{storage}"})
            run = materialize(strategy, url, storage)
            signals, outcomes, backtests, trades = stored(store, strategy)
            dagster_s = run["s"] - run.get("run_range", 0.0)
            print(f"dagster.materialize, instance storage {storage}: {run['s']:.2f} s; "
                  f"inside it run creation {run.get('run creation', 0):.2f} s, Dagster event "
                  f"writes {run.get('event writes', 0):.2f} s ({run['materializations']:,} "
                  f"materializations), {len(SYMBOLS)} x run_range {run.get('run_range', 0):.2f} "
                  f"s; {signals:,} signals, {outcomes:,} outcomes, {backtests} backtests, "
                  f"{trades:,} trades", flush=True)
            label = ("instance_for_test() with dagster-postgres storage and the project's "
                     "bookkeeping settings" if storage == "postgres"
                     else "instance_for_test() as it comes (SQLite event log, defaults)")
            rows.append(
                f"| dagster.materialize, 1 strategy x {len(SYMBOLS)} symbols x 5 y 1h "
                f"({days:,} daily partitions); {label} | {candles:,} | {trades:,} | "
                f"{run['s']:.2f} | <= {TARGET_RUN_S:.0f} s | {len(SYMBOLS)} x run_range "
                f"{run.get('run_range', 0):.1f} s, Dagster {dagster_s:.1f} s (run creation "
                f"{run.get('run creation', 0):.1f} s, event writes "
                f"{run.get('event writes', 0):.1f} s); {signals:,} signals and outcomes "
                f"written | {'yes' if run['s'] <= TARGET_RUN_S else '**no**'} |")

        strategy = StrategySettings(**{**STRATEGY.__dict__, "name": f"{STRATEGY.name}_postgres"})
        tick = materialize(strategy, url, "postgres", first=LAST, live=True)
        print(f"\na live tick (the last day's signals, outcomes and performance, 20 symbols, "
              f"each series read whole): {tick['s']:.2f} s, {len(SYMBOLS)} x run_range "
              f"{tick.get('run_range', 0):.2f} s", flush=True)
        rows.append(f"| a live tick: dagster.materialize of the last day's signals, outcomes "
                    f"and performance, {len(SYMBOLS)} symbols (each 5-year series read "
                    f"whole); dagster-postgres | {candles:,} | | {tick['s']:.2f} | | "
                    f"{len(SYMBOLS)} x run_range {tick.get('run_range', 0):.1f} s | |")

        one_s, spent = profile_one(store)
        print(f"\nrun_range of {SYMBOLS[0]} alone, 5 years (fresh rows): {one_s:.3f} s",
              flush=True)
        lines = ["| step | s | share |", "| --- | ---: | ---: |"]
        for label, seconds in spent.items():
            lines.append(f"| {label} | {seconds:.3f} | {seconds / one_s:.0%} |")
        rest = one_s - sum(spent.values())
        lines.append(f"| rest of run_range | {rest:.3f} | "
                     f"{rest / one_s:.0%} |")
        print("\n".join(lines), flush=True)
    finally:
        store.dispose()
        admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    return rows


def main() -> int:
    with tempfile.TemporaryDirectory() as state:
        # Backtest reports (HTML per symbol) go to the state directory: a throwaway one.
        os.environ["TITAN_STATE_DIR"] = state
        return measure()


def measure() -> int:
    lines = ["| measurement | candles | trades | s | target | measured | met |",
             "| --- | ---: | ---: | ---: | --- | --- | --- |"]
    lines += one_symbol()
    lines += dagster_runs()
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
