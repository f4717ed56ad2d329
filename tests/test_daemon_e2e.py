"""The real Dagster daemon on a PostgreSQL instance (deploy/dagster.yaml), against the
emulator, with the shipped schedules and sensors on and nobody touching anything once it
runs. One deployment (one emulator, one DAGSTER_HOME, one daemon and one `titan serve`) is
started once for the module, and two tests check it at the same time:

- the daemon backfills 60 days of BTC, ETH and SOL, refreshes today's candles and heals a
  corrected candle within the exchange's request budget;
- a live 1m strategy on BNB/USDT, listed at midnight and shaped by the emulator: its signal
  is in `signals` within 2 minutes of its candle's close, its outcome goes from `open` to its
  end within 2 minutes of the candle that hit, and `titan serve` answers GET /signals with
  both.

The live signal is known in advance. The emulator's market is shaped to fall for a few
minutes and then rise steadily, so SMA(2) crosses SMA(5) upwards a couple of minutes after
the turn and the long it gives reaches its target a few minutes later; the fixture computes
the final candles (`klines` with a `now` far ahead) and runs the engine on them offline, as
the live runs will on what the warehouse stores (BNB's candles from its listing at midnight;
its 60 days before are settled without candles before the daemon starts), to know the
signal's minute, its levels and which candle ends it. A thread watches the signal's row from
the daemon's start, so the daemon checks and the live ones share the deployment's minutes
instead of taking turns. Within 20 minutes of midnight UTC the live test skips and the
deployment runs without BNB and the strategy; the daemon test runs all the same."""

import asyncio
import bisect
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import backfill_outcomes, fresh_pg_database
from tests.private_pg import free_port
from titan_dagster.config import load_config
from titan_dagster.config.model import ExchangeSettings
from titan_dagster.config.strategies import StrategySettings
from titan_dagster.emulator import BinanceEmulator
from titan_dagster.emulator.candles import Shape, klines
from titan_dagster.signals.model import Candles, Risk
from titan_dagster.signals.pipeline import run_strategy
from titan_dagster.timeframes import day_start_ms, now_ms, to_datetime
from titan_dagster.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]  # with history
BUDGET = 8  # requests per second, for titan and the emulator alike
HISTORY_DAYS = 60
MINUTE = 60_000
DAY = 86_400_000

# The live strategy.
SYMBOL = "BNB/USDT"  # ~30,000: the 0.01 tick is far below the moves that matter
NAME = "live_cross"
PARAMS = {"fast": 2, "slow": 5}
# Log price per minute, and for how many minutes: the generated wander moves a 1m candle
# by up to ~0.14%, so the fall is plain and the rise takes the price 0.46-0.74% a minute
# (0.31-0.59% at the slower rate). The plan tries both rates: at some minutes of the day
# the wander lets the faster rise hit the target before the trade was open two candles
# (no plan in 3 of 500 sampled start times; with both rates, none).
FALL, RISES = 0.003, (0.006, 0.0045)
FALL_FOR, RISE_FOR = 8, 12
# The target 1.45% up (1R) is then mostly reached in the third candle from the entry on.
RISK = {"stop": {"pct": 0.0145}, "take_profit_1": {"r": 1.0}, "take_profit_2": {"r": 2.0},
        "tp1_fraction": 1.0, "entry_valid_candles": 1, "max_hold_candles": 30}
# The signal's candle closes at least this long after the daemon starts: its sensors and
# schedules tick 5-10 s after it starts, and the refresh at the close stores the candle.
LEAD_MS = 20_000
# Whole candles the trade stays open between its entry candle and the one that hits: the run
# after the entry candle closes is done 15-50 s later (a refresh, up to one 30 s interval of
# the automation sensor, a run), so with one candle `open` could be seen with only seconds
# to spare; two leave more than a minute.
OPEN_CANDLES = 2
TARGET_MS = 120_000  # the 2 minutes, for the signal and for the outcome
FINAL = ("tp1", "tp2", "stopped", "breakeven", "expired")


def poll(condition, timeout_s: float, what: str, every_s: float = 1.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every_s)


def stop_group(process: subprocess.Popen, log) -> None:
    """SIGTERM to the process group, then SIGKILL to whatever is left of it: the daemon's
    code server outlives SIGTERM (orphaned, it idled on for hours)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    log.close()


# -- the live strategy's plan, computed offline ---------------------------------------------

def piecewise(points: list[tuple[int, float]]) -> Shape:
    """Linear between (epoch ms, log offset) points, flat outside them: a function of time
    only, as a shape must be."""
    xs, ys = [x for x, _ in points], [y for _, y in points]

    def shape(t: int) -> float:
        if t <= xs[0]:
            return ys[0]
        if t >= xs[-1]:
            return ys[-1]
        i = bisect.bisect_right(xs, t)
        return ys[i - 1] + (ys[i] - ys[i - 1]) * (t - xs[i - 1]) / (xs[i] - xs[i - 1])

    return shape


def v_shape(turn_at: int, rise: float) -> Shape:
    bottom = -FALL * FALL_FOR
    return piecewise([(turn_at - FALL_FOR * MINUTE, 0.0), (turn_at, bottom),
                      (turn_at + RISE_FOR * MINUTE, bottom + rise * RISE_FOR)])


def strategy_settings() -> StrategySettings:
    return StrategySettings(
        name=NAME, kind="sma_cross", source="binance", symbols=(SYMBOL,), timeframe="1m",
        params=PARAMS, risk=Risk(stop_pct=RISK["stop"]["pct"], tp1_r=1.0, tp2_r=2.0,
                                 tp1_fraction=1.0, entry_valid_candles=1,
                                 max_hold_candles=30))


@dataclass(frozen=True)
class Plan:
    """What the live runs will find, computed offline: the signal (its candle closes at
    signal_ts) and the candle its outcome ends in (closing at hit_close)."""
    shape: Shape
    signal_ts: int
    direction: str
    stop_loss: float
    take_profit_1: float
    status: str
    hit_close: int
    candles_open: int  # candles from the entry on that leave the trade open (>= 1)


def final_candles(shape: Shape, first: int, end: int) -> Candles:
    rows = klines(SYMBOL, "1m", range(first, end, MINUTE), end + 10**12, shape)
    values = np.array([[float(v) for v in row[1:6]] for row in rows])
    return Candles(ts=np.array([row[0] for row in rows], dtype=np.int64), open=values[:, 0],
                   high=values[:, 1], low=values[:, 2], close=values[:, 3],
                   volume=values[:, 4], step=MINUTE)


def plan(started: int) -> Plan:
    """Of the turns (and rise rates) that make a long closing LEAD_MS or more after `started`
    and staying open for OPEN_CANDLES whole candles after its entry (so `open` can be seen
    before the hit), the one that ends soonest. Found with the engine the live runs use, on the
    candles they will read: all of today's, from midnight (BNB is listed then). The turn may
    lie before `started`: the emulator serves the shaped past as well."""
    day = started - started % DAY
    strategy = strategy_settings()
    first_turn = started - started % MINUTE - 3 * MINUTE
    plans = []
    turns = range(first_turn, first_turn + 8 * MINUTE, MINUTE)
    for rise, turn_at in itertools.product(RISES, turns):
        shape = v_shape(turn_at, rise)
        candles = final_candles(shape, day, turn_at + 2 * RISE_FOR * MINUTE)
        signals, outcomes = run_strategy(strategy, SYMBOL, candles)
        after = [(i, d, stop, tp1, outcome) for i, d, stop, tp1, outcome in zip(
            signals.index, signals.direction, signals.stop, signals.tp1, outcomes, strict=True)
            if candles.ts[i] + MINUTE >= turn_at]
        if not after:
            continue
        i, d, stop, tp1, outcome = after[0]  # the long the turn makes
        close = int(candles.ts[i]) + MINUTE
        if (close - started >= LEAD_MS and d == 1 and outcome.status in FINAL
                and outcome.exit_index - (i + 1) >= OPEN_CANDLES):
            plans.append(Plan(shape, close, "long", float(stop), float(tp1), outcome.status,
                              int(candles.ts[outcome.exit_index]) + MINUTE,
                              int(outcome.exit_index - (i + 1))))
    assert plans, "no turn gives a long that closes late enough and stays open"
    return min(plans, key=lambda p: (p.hit_close, p.signal_ts))


def test_a_plan_exists_at_a_start_time_where_the_faster_rise_alone_had_none():
    started = 1796525512875  # 2026-12-06 03:31:52 UTC, where CI once found no plan
    found = plan(started)
    assert found.signal_ts - started >= LEAD_MS and found.candles_open >= OPEN_CANDLES


def live_skip_reason(started: int) -> str | None:
    """Why the live strategy cannot run now, if it cannot: near midnight UTC. The daemon
    checks run all the same (without BNB and the strategy)."""
    since_midnight = started % DAY
    if since_midnight > DAY - 20 * MINUTE:
        return "too close to midnight UTC: today's partition would change mid-test"
    if since_midnight < 20 * MINUTE:
        return ("too soon after midnight UTC: the shaped fall would begin before today, "
                "where BNB's listing and the live runs' candles start")
    return None


# -- the deployment ---------------------------------------------------------------------------

def stored_signal(store: Warehouse, signal_ts: int) -> tuple | None:
    """(id, direction, stop_loss, take_profit_1, outcome status or None) of the strategy's
    signal at signal_ts."""
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT s.id, s.direction, s.stop_loss, s.take_profit_1, o.status FROM signals s "
            "LEFT JOIN outcomes o ON o.signal_id = s.id WHERE s.strategy = %s AND s.symbol = %s "
            "AND s.signal_ts = %s", (NAME, SYMBOL, to_datetime(signal_ts))).first()


class SignalWatch(threading.Thread):
    """The planned signal's row every 0.5 s from the daemon's start, beside whatever the
    tests do meanwhile: the row first seen, and the outcome statuses seen, (epoch ms, status)
    on every change. Ends at the outcome's end, or once the signal or its outcome is later
    than its 2 minutes (the deadline is checked after each look, as `poll` does)."""

    def __init__(self, store: Warehouse, expected: Plan):
        super().__init__(name="signal-watch", daemon=True)
        self.store, self.expected = store, expected
        self.seen: list[tuple[int, str | None]] = []
        self.row: tuple | None = None  # the signal's row when first seen
        self.error: Exception | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                row = stored_signal(self.store, self.expected.signal_ts)
                status = None if row is None else row[4]
                if row is not None and (not self.seen or self.seen[-1][1] != status):
                    self.seen.append((now_ms(), status))
                    self.row = self.row or row
                if status in FINAL or now_ms() > self.deadline():
                    return
                self._halt.wait(0.5)
        except Exception as error:  # the live test raises it
            self.error = error

    def deadline(self) -> int:
        """Epoch ms: 2 minutes after the signal's candle closed until it is seen, then 2
        minutes after the hitting candle closed."""
        return (self.expected.signal_ts if self.row is None
                else self.expected.hit_close) + TARGET_MS

    def halt(self) -> None:
        self._halt.set()
        self.join()


@dataclass
class Deployment:
    emulator: BinanceEmulator
    store: Warehouse
    tmp_path: Path
    config: Path
    start: date
    today: date
    started: int  # epoch ms, before the plan and the deployment
    symbols: list[str]  # the exchange's: SYMBOLS, and SYMBOL when the strategy runs
    live_skip: str | None
    plan_error: AssertionError | None
    expected: Plan | None = None  # None when the strategy does not run
    api: subprocess.Popen | None = None
    api_url: str | None = None
    watch: SignalWatch | None = None


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("daemon_e2e")
    started_at = time.monotonic()
    started = now_ms()
    live_skip = live_skip_reason(started)
    expected, plan_error = None, None
    if live_skip is None:
        try:
            expected = plan(started)
        except AssertionError as error:  # the live test's failure, not the daemon test's
            plan_error = error
    if expected is not None:
        print(f"\nplan: a {expected.direction} at {to_datetime(expected.signal_ts):%H:%M:%S} "
              f"(+{(expected.signal_ts - started) / 1000:.0f} s), {expected.status} in the "
              f"candle closing at {to_datetime(expected.hit_close):%H:%M:%S}")
    today = to_datetime(started).date()
    start = today - timedelta(days=HISTORY_DAYS)
    listings: dict[str, str | int] = {s: "2019-01-01" for s in SYMBOLS}
    shapes, strategies = {}, {}
    if expected is not None:
        # Listed at midnight: the live runs read today's candles only, those of the plan.
        listings[SYMBOL] = started - started % DAY
        shapes[SYMBOL] = expected.shape
        strategies[NAME] = {"kind": "sma_cross", "params": PARAMS, "source": "binance",
                            "symbols": [SYMBOL], "timeframe": "1m", "risk": RISK}
    symbols = list(listings)
    with fresh_pg_database() as pg_url, BinanceEmulator(
            listings, max_requests_per_second=BUDGET, shape=shapes) as emulator:
        config = tmp_path / "titan.yaml"
        config.write_text(yaml.safe_dump({
            "start": start.isoformat(),
            # REST only: what is checked is how the backfill, the refresh and the heal
            # runs share the REST budget, which archive files would spare the backfill
            # (tests/test_archive_backfill.py covers those through Dagster).
            "exchanges": {"binance": {"symbols": symbols, "timeframes": ["1m", "1h"],
                                      "api_url": emulator.base_url, "archives": False,
                                      "requests_per_second": BUDGET}},
            **({"strategies": strategies} if strategies else {})}))
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
        env = {**os.environ, "DAGSTER_HOME": str(home), "TITAN_CONFIG": str(config),
               "TITAN_DATABASE_URL": pg_url, "TITAN_STATE_DIR": str(tmp_path / "state"),
               "DAGSTER_PG_URL": pg_url.replace("+psycopg", "+psycopg2")}
        store = Warehouse(pg_url)
        store.migrate()
        if expected is not None:
            settle_before_listing(emulator, store, start, today)
        logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("daemon", "serve")}
        deployed = Deployment(emulator, store, tmp_path, config, start, today, started,
                              symbols, live_skip, plan_error, expected)
        daemon = subprocess.Popen(
            [sys.executable, "-m", "dagster._daemon", "run", "-w", "workspace.yaml"],
            cwd=REPO, env=env, stdout=logs["daemon"], stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            if expected is not None:
                port = free_port()
                deployed.api_url = f"http://127.0.0.1:{port}"
                deployed.api = subprocess.Popen(
                    [sys.executable, "-m", "titan_dagster.cli", "serve", "--port", str(port)],
                    cwd=REPO, env=env, stdout=logs["serve"], stderr=subprocess.STDOUT,
                    start_new_session=True)
                deployed.watch = SignalWatch(store, expected)
                deployed.watch.start()
            yield deployed
        finally:
            if deployed.watch is not None:
                deployed.watch.halt()
            stop_group(daemon, logs["daemon"])
            if deployed.api is not None:
                stop_group(deployed.api, logs["serve"])
            else:
                logs["serve"].close()
            store.dispose()
    print(f"\nwall time {time.monotonic() - started_at:.0f} s")


def settle_before_listing(emulator: BinanceEmulator, store: Warehouse, start: date,
                          today: date) -> None:
    """BNB's days from the config's start to its listing at midnight, settled (without
    candles) by one backfill before the daemon starts, as for a symbol listed today in a
    deployment that ran yesterday: a request or two per timeframe, paced to the budget. The
    strategy's history run then comes at the history sensor's first tick, as where BNB was
    the only symbol and the config started today, instead of when the heal run of the 60 days
    has settled BNB's, a minute later, where it wrote the planned signal before a live run
    could."""
    settings = ExchangeSettings("binance", (SYMBOL,), ("1m", "1h"), api_url=emulator.base_url,
                                requests_per_second=BUDGET)
    outcomes = asyncio.run(backfill_outcomes(settings, store, start, today - timedelta(days=1)))
    assert outcomes[SYMBOL].error is None, outcomes[SYMBOL].error
    for timeframe in settings.timeframes:
        assert len(store.settled_days("binance", SYMBOL, timeframe, start,
                                      today - timedelta(days=1))) == HISTORY_DAYS


# -- the daemon: backfill, refresh, heal, budget -----------------------------------------------

def test_the_daemon_backfills_refreshes_and_heals_within_the_budget(deployment):
    try:
        check_the_deployment(deployment)
    except AssertionError:
        (deployment.tmp_path / "requests.txt").write_text(
            "\n".join(map(str, deployment.emulator.requests)))
        raise


def refresh_runs(store: Warehouse) -> str:
    """The last refresh runs as Dagster recorded them, to tell a slow run from a skipped tick
    or a failure when the lag is exceeded."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT status, create_timestamp, start_time, end_time FROM runs "
            "WHERE pipeline_name LIKE 'ohlcv_refresh_%%' ORDER BY create_timestamp DESC LIMIT 8"
        ).all()
    return "refresh runs, newest first (created; started, ended after creation):\n" + "\n".join(
        f"  {status} {created:%H:%M:%S}; "
        f"{'-' if start is None else f'{start - created.replace(tzinfo=UTC).timestamp():.1f}'} s, "
        f"{'-' if end is None else f'{end - created.replace(tzinfo=UTC).timestamp():.1f}'} s"
        for status, created, start, end in rows)


def check_the_deployment(deployment: Deployment) -> None:
    emulator, store = deployment.emulator, deployment.store
    start, today = deployment.start, deployment.today
    # Every symbol's closed days: BNB's, before its listing today, settle without candles.
    history = len(deployment.symbols) * 2 * HISTORY_DAYS

    def complete_days() -> int:
        with store.engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT count(*) FROM ohlcv_complete_days WHERE day < %s", (today,)).scalar()

    def newest_closed_1m() -> int | None:
        return store.last_candle_ms("binance", "BTC/USDT", "1m")

    def lag() -> int:
        return now_ms() - ((newest_closed_1m() or 0) + MINUTE)

    # The refresh stores today's candles while the history backfill is still running. Its
    # first run is over when it has caught up with now: after 16:40 UTC today's 1m candles
    # take two pages, and a candle from the first is no sign of a refresh done.
    poll(lambda: lag() < 120_000, 240, "the first refresh")
    lags_during_backfill = []
    while complete_days() < history:
        lags_during_backfill.append(lag())
        assert len(lags_during_backfill) < 400, "the backfill did not finish"
        time.sleep(1)
    assert lags_during_backfill, "the backfill was over before the refresh began"
    assert max(lags_during_backfill) < 120_000  # freshness holds beside the backfill

    # History is complete and equal to what the exchange serves.
    for symbol in deployment.symbols:
        served = emulator.candles(symbol, "1h", day_start_ms(start), day_start_ms(today))
        assert len(store.read_candles("binance", symbol, "1h", end=datetime(
            today.year, today.month, today.day, tzinfo=UTC))) == len(served)

    # New candles within 90 s of closing, and the open candle moving.
    lags, open_values = [], set()
    for _ in range(100):
        lags.append(lag())
        frame = store.read_candles("binance", "BTC/USDT", "1h", include_open=True)
        open_row = frame[~frame["closed"]].iloc[-1]
        open_values.add((open_row["ts"], open_row["close"], open_row["volume"]))
        time.sleep(1)
    assert max(lags) <= 90_000, refresh_runs(store)
    assert len(open_values) > 1

    # A correction of a recent closed candle reaches the warehouse.
    corrected_at = (newest_closed_1m() // MINUTE - 3) * MINUTE
    row = emulator.candles("BTC/USDT", "1m", corrected_at, corrected_at + MINUTE)[0]
    emulator.set_candle("BTC/USDT", "1m", corrected_at, close=row[2])  # close at the high

    def corrected() -> bool:
        frame = store.read_candles("binance", "BTC/USDT", "1m",
                                   datetime.fromtimestamp(corrected_at / 1000, UTC),
                                   datetime.fromtimestamp((corrected_at + MINUTE) / 1000, UTC))
        return len(frame) == 1 and frame["close"].iloc[0] == Decimal(row[2])

    poll(corrected, 150, "the correction")

    # The budget held: nothing refused, never more than BUDGET requests in one second.
    records = emulator.requests
    assert not [r for r in records if r.fault == "rate_limit"]
    times = sorted(r.time_ms for r in records)
    assert len(times) > 2 * BUDGET
    assert all(later - earlier >= 1000 for earlier, later in zip(times, times[BUDGET:],
                                                                   strict=False))


# -- the live strategy: signal, outcome, API ---------------------------------------------------

def test_a_live_signal_and_its_outcome_follow_the_candles_within_two_minutes(deployment):
    if deployment.live_skip:
        pytest.skip(deployment.live_skip)
    if deployment.plan_error is not None:
        raise deployment.plan_error
    expected, store = deployment.expected, deployment.store
    # The daemon reads the very strategy the plan was computed for.
    assert load_config(deployment.config).strategies[0].version == strategy_settings().version
    try:
        seen = check_live(deployment)
        print("\n".join([*breakdown(store, expected, seen), "runs, oldest first:",
                         *run_lines(store, deployment.started)]))
    except AssertionError:
        print(diagnosis(store, deployment.tmp_path, expected))
        raise


def get_json(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def check_live(deployment: Deployment) -> list[tuple[int, str | None]]:
    """The outcome statuses seen, (epoch ms, status) on every change."""
    expected, watch, api, api_url = (deployment.expected, deployment.watch, deployment.api,
                                     deployment.api_url)
    # The watch has been looking since the daemon started; it ends by the outcome's
    # deadline at the latest.
    poll(lambda: not watch.is_alive(), max(0.0, (expected.hit_close + TARGET_MS - now_ms())
                                           / 1000) + 30, "the signal watch to end", every_s=0.5)
    if watch.error is not None:
        raise watch.error
    seen = watch.seen
    assert watch.row is not None, "timed out waiting for the signal in `signals`"
    signal_lag = seen[0][0] - expected.signal_ts
    signal_id, direction, stop_loss, take_profit_1, _ = watch.row
    assert direction == expected.direction
    assert float(stop_loss) == pytest.approx(expected.stop_loss)
    assert float(take_profit_1) == pytest.approx(expected.take_profit_1)

    assert seen[-1][1] in FINAL, f"timed out waiting for the outcome {expected.status}: {seen}"
    assert seen[-1][1] == expected.status, seen
    before_hit = [status for when, status in seen if when < expected.hit_close]
    assert set(before_hit) <= {None, "pending", "open"}, seen
    assert "open" in before_hit, seen  # it was seen open before the hitting candle closed
    outcome_lag = seen[-1][0] - expected.hit_close
    open_lag = next(when for when, status in seen if status == "open") - (
        expected.signal_ts + MINUTE)  # after the entry candle closed
    print(f"\nsignal lag {signal_lag / 1000:.1f} s after its candle closed; outcome seen open "
          f"{open_lag / 1000:.1f} s after the entry candle closed; {expected.status} "
          f"{outcome_lag / 1000:.1f} s after the hitting candle closed "
          f"({expected.candles_open} candle(s) open in between)")
    print("outcome statuses seen: " + ", ".join(
        f"{status} at {to_datetime(when):%H:%M:%S}" for when, status in seen))

    # The API answers with the signal and its outcome.
    poll(lambda: api.poll() is not None or get_health(api_url), 60, "titan serve /health")
    assert api.poll() is None, "titan serve exited"
    query = urllib.parse.urlencode({"strategy": NAME, "symbol": SYMBOL,
                                    "since": to_datetime(expected.signal_ts).isoformat()})
    code, page = get_json(f"{api_url}/signals?{query}")
    assert code == 200, page
    listed = {s["id"]: s for s in page["signals"]}
    assert signal_id in listed, page
    assert listed[signal_id]["direction"] == "long"
    assert listed[signal_id]["outcome"]["status"] == expected.status
    assert datetime.fromisoformat(listed[signal_id]["signal_ts"].replace("Z", "+00:00")) == \
        to_datetime(expected.signal_ts)
    code, one = get_json(f"{api_url}/signals/{signal_id}")
    assert code == 200 and one["outcome"]["status"] == expected.status, one
    return seen


def get_health(api_url: str) -> bool:
    """Whether /health answers at all (503 while a series is stale is an answer)."""
    try:
        return get_json(f"{api_url}/health")[0] in (200, 503)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def diagnosis(store: Warehouse, tmp_path, expected: Plan) -> str:
    """The runs Dagster recorded (status, times, asset selection, lane) and the daemon log's
    tail, to tell a missed tick from a slow run start or a failed run."""
    lines = [f"signal expected at {to_datetime(expected.signal_ts):%H:%M:%S}, hit candle "
             f"closing at {to_datetime(expected.hit_close):%H:%M:%S}", "runs, oldest first:"]
    lines += run_lines(store, expected.signal_ts)
    log = (tmp_path / "daemon.log").read_text().splitlines()
    lines += ["daemon log, last 60 lines:", *log[-60:]]
    serve = (tmp_path / "serve.log").read_text().splitlines()
    lines += ["titan serve log, last 20 lines:", *serve[-20:]]
    return "\n".join(lines)


def breakdown(store: Warehouse, expected: Plan, seen: list[tuple[int, str | None]]
              ) -> list[str]:
    """Where the time went after each close that mattered: the refresh run that stored the
    candle (created by the schedule's tick), then the live strategy run (created by the
    automation sensor) that wrote the row, each created, started and ended, in seconds after
    the close."""
    runs = recorded_runs(store)
    out = ["after each close, s: refresh created / started / ended -> strategy run created / "
           "started / ended -> row seen"]
    first_open = next((when for when, status in seen if status == "open"), None)
    for label, close, saw in (("signal", expected.signal_ts, seen[0][0] if seen else None),
                              ("entry", expected.signal_ts + MINUTE, first_open),
                              ("hit", expected.hit_close, seen[-1][0] if seen and seen[-1][1]
                               in FINAL else None)):
        c = close / 1000
        refresh = next((r for r in runs if r[0] == "binance/refresh" and r[1] >= c - 1), None)
        live = refresh and next((r for r in runs if r[0] == "strategies/live"
                                 and r[1] >= (refresh[3] or refresh[1])), None)
        out.append(f"  {label} candle closed {to_datetime(close):%H:%M:%S}: "
                   f"{_after(refresh, c)} -> {_after(live, c)} -> "
                   f"{'-' if saw is None else f'{saw / 1000 - c:.1f}'}")
    return out


def _after(run: tuple | None, moment: float) -> str:
    if not run:
        return "- / - / -"
    return " / ".join("-" if t is None else f"{t - moment:.1f}" for t in run[1:4])


def recorded_runs(store: Warehouse) -> list[tuple]:
    """(lane, created, started, ended (epoch s), status, run id, asset keys), oldest first."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT run_id, status, create_timestamp, start_time, end_time, run_body FROM runs "
            "ORDER BY create_timestamp").all()
    out = []
    for run_id, status, created, start, end, body in rows:
        run = json.loads(body)
        keys = sorted(".".join(key["path"]) for key in (run.get("asset_selection") or {}).get(
            "__frozenset__", []))
        out.append((run.get("tags", {}).get("titan/lane", ""),
                    created.replace(tzinfo=UTC).timestamp(), start, end, status, run_id, keys))
    return out


def run_lines(store: Warehouse, since: int) -> list[str]:
    out = []
    for lane, created, start, end, status, run_id, keys in recorded_runs(store):
        if created * 1000 < since - 3 * MINUTE:
            continue
        at = f"{datetime.fromtimestamp(created, UTC):%H:%M:%S.%f}"[:-5]
        out.append(f"  {run_id[:8]} {status:<8} created {at}, started "
                   f"{'-' if start is None else f'+{start - created:.1f}'} s, ended "
                   f"{'-' if end is None else f'+{end - created:.1f}'} s; "
                   f"{lane or '(no lane)'}: {', '.join(keys)}")
    return out
