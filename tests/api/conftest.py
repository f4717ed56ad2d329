"""The HTTP API over real HTTP: uvicorn on a free 127.0.0.1 port in a thread, serving a
warehouse filled through the project's own writers (Warehouse.write, SignalStore) and, for
strategy_performance, plain SQL. Nothing here leaves 127.0.0.1."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import uvicorn
import yaml

from tests.conftest import fresh_pg_database
from titan_dagster.api.app import build_app
from titan_dagster.config import TitanConfig, load_config
from titan_dagster.signals.model import Leg, Outcome
from titan_dagster.timeframes import DAY_MS, floor_ms, now_ms, to_datetime
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.batch import Batch
from titan_dagster.warehouse.read_only import read_only_warehouse
from titan_dagster.warehouse.signal_store import SeriesKey, SignalRow, SignalStore

H = 3_600_000
OLD_VERSION = "0ld0ld0ld0ld0ld0"
CONFIG = {
    "start": "2024-01-01",
    "exchanges": {
        "binance": {"symbols": ["BTC/USDT", "ETH/USDT"], "timeframes": ["1h", "1d"]},
        "kraken": {"symbols": ["BTC/USD"], "timeframes": ["1h"]},
    },
    "strategies": {
        "btc_sma_cross": {"kind": "sma_cross", "params": {"fast": 20, "slow": 50},
                          "source": "binance", "symbols": ["BTC/USDT", "ETH/USDT"],
                          "timeframe": "1h", "risk": {"stop": {"pct": 0.02}}},
        "eth_rsi": {"kind": "rsi_reversion", "source": "binance", "symbols": ["ETH/USDT"],
                    "timeframe": "1h", "risk": {"stop": {"pct": 0.02}}, "active": False},
    },
}


def iso(ms: int) -> str:
    return f"{to_datetime(ms):%Y-%m-%dT%H:%M:%SZ}"


def write_config(directory: Path, config: dict = CONFIG) -> Path:
    path = directory / "titan.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def api_config(tmp_path, monkeypatch) -> TitanConfig:
    path = write_config(tmp_path)
    monkeypatch.setenv("TITAN_CONFIG", str(path))
    return load_config(path)


@dataclass
class Seeded:
    """What was written, to compare the API's answers with."""
    now: int
    candles: dict = field(default_factory=dict)  # (exchange, symbol, tf) -> [(ts, *values)]
    open_candle: tuple = ()  # BTC/USDT 1h, not closed yet
    signals: list = field(default_factory=list)  # (id, key, SignalRow, Outcome | None)
    performance: list = field(default_factory=list)  # rows as inserted


def candle_values(i: int) -> tuple:
    """Prices whose text a float or a Decimal's str() would change: trailing zeros, 1E-7."""
    return (f"4200{i % 10}.10", f"4210{i % 10}.5", "0.0000001", f"4200{i % 10}.00",
            f"{i}.00012300")


def seed(warehouse: Warehouse, config: TitanConfig) -> Seeded:
    """Fresh candles of every configured series, signals of the current and an old version
    of btc_sma_cross with outcomes, and strategy_performance rows."""
    now = now_ms()
    seeded = Seeded(now)
    hour = floor_ms(now, H)
    for exchange in config.exchanges:
        for symbol in exchange.symbols:
            for timeframe in exchange.timeframes:
                step, count = (H, 30) if timeframe == "1h" else (DAY_MS, 3)
                newest = floor_ms(now, step) - step  # the last closed candle
                rows = [(newest - (count - 1 - i) * step, *candle_values(i))
                        for i in range(count)]
                if (exchange.name, symbol, timeframe) == ("binance", "ETH/USDT", "1h"):
                    rows[-2] = (*rows[-2][:5], None)  # a source without volume
                warehouse.write(exchange.name, symbol, timeframe, Batch(candles=rows))
                seeded.candles[exchange.name, symbol, timeframe] = rows
    seeded.open_candle = (hour, "42999.99", "43000", "42999", "43000.00", "1.5")
    warehouse.write("binance", "BTC/USDT", "1h", Batch(open_candles=[seeded.open_candle]))

    strategy = config.strategies[0]
    store = SignalStore(warehouse)
    for version in (strategy.version, OLD_VERSION):
        store.record_strategy(strategy.name, version, strategy.kind, strategy.params, {},
                              strategy.source, strategy.timeframe, True)
    t0 = hour - 20 * H
    current = [
        ("BTC/USDT", SignalRow(t0, "long", "42123.45", "42123.45", "41281.001", "42965.899",
                               "43808.348", 0.5, t0 + H),
         Outcome("tp2", 1, t0 + H, 42130.5, tp1_hit_ts=t0 + 2 * H, tp2_hit_ts=t0 + 3 * H,
                 legs=[Leg(t0 + 2 * H, 42965.899, 0.5, "tp1"),
                       Leg(t0 + 3 * H, 43808.348, 0.5, "tp2")], r_gross=1.49, r_net=1.47,
                 resolved_by="1m")),
        ("ETH/USDT", SignalRow(t0 + H, "short", "0.0000001", "0.0000001", "0.00000012",
                               "0.00000008", "0.00000006", 0.25, t0 + 2 * H),
         Outcome("stopped", 2, t0 + 2 * H, 1e-07, sl_hit_ts=t0 + 4 * H,
                 legs=[Leg(t0 + 4 * H, 1.2e-07, 1.0, "stop")], r_gross=-1.0, r_net=-1.1,
                 ambiguous=True, resolved_by="rule")),
        ("BTC/USDT", SignalRow(t0 + 5 * H, "short", "42500.10", "42500.10", "43350.102",
                               "41650.098", "40800.096", 0.75, t0 + 6 * H), Outcome("pending")),
        ("ETH/USDT", SignalRow(t0 + 6 * H, "long", "2500.50", "2500.50", "2450.49",
                               "2550.51", "2600.52", 1.0, t0 + 7 * H),
         Outcome("open", 7, t0 + 7 * H, 2500.5)),
        ("BTC/USDT", SignalRow(t0 + 9 * H, "long", "42000", "42000", "41160", "42840",
                               "43680", 0.1, t0 + 10 * H), None),  # not evaluated yet
    ]
    for symbol, row, outcome in current:
        key = SeriesKey(strategy.name, strategy.version, "binance", symbol, strategy.timeframe)
        (signal_id,) = store.write_signals(key, [row]).values()
        if outcome is not None:
            store.write_outcomes([(signal_id, outcome)])
        seeded.signals.append((signal_id, key, row, outcome))
    # The old version's signal is the newest: /health must not take it for the current's.
    old_key = SeriesKey(strategy.name, OLD_VERSION, "binance", "BTC/USDT", "1h")
    old_row = SignalRow(hour - H, "long", "1", "1", "0.98", "1.02", "1.04", 0.5, hour)
    (old_id,) = store.write_signals(old_key, [old_row]).values()
    old_outcome = Outcome("expired", 1, hour, 1.0, expired_ts=hour)
    store.write_outcomes([(old_id, old_outcome)])
    seeded.signals.append((old_id, old_key, old_row, old_outcome))

    today = datetime.now(UTC).date()
    for version, symbol, days in ((strategy.version, "BTC/USDT", 3),
                                  (strategy.version, "ETH/USDT", 2), (OLD_VERSION, "BTC/USDT", 1)):
        for back in range(days):
            as_of = today - timedelta(days=days - 1 - back)
            seeded.performance.append(performance_row(strategy.name, version, symbol, as_of,
                                                      back))
    insert_performance(warehouse, seeded.performance)
    return seeded


def performance_row(strategy: str, version: str, symbol: str, as_of: date, n: int) -> dict:
    return {"strategy": strategy, "strategy_version": version, "exchange": "binance",
            "symbol": symbol, "timeframe": "1h", "as_of": as_of,
            "live_since": datetime(2026, 1, 1, tzinfo=UTC), "live_trades": n,
            "live_win_rate": 0.5 if n else None, "live_expectancy_r": 0.25 if n else None,
            "live_profit_factor": None, "live_max_drawdown_r": 1.5 * n,
            "backtest_trades": 40 + n, "backtest_win_rate": 0.55, "backtest_expectancy_r": 0.3,
            "backtest_profit_factor": 1.8, "backtest_max_drawdown_r": 6.25,
            "expectancy_floor_r": -0.125, "degraded": n == 2, "reason": f"reason {n}"}


def insert_performance(warehouse: Warehouse, rows: list[dict]) -> None:
    columns = list(rows[0])
    sqlite = warehouse.backend == "sqlite"

    def stored(value):
        if sqlite and isinstance(value, datetime):
            return f"{value:%Y-%m-%dT%H:%M:%SZ}"
        return value.isoformat() if sqlite and isinstance(value, date) else value

    with warehouse.engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO strategy_performance ({', '.join(columns)}) VALUES "
                             f"({', '.join(':' + c for c in columns)})"),
                     [{c: stored(v) for c, v in row.items()} for row in rows])


def prepare(url: str, seeded_for: TitanConfig | None = None) -> None:
    """Migrates the warehouse at `url`, and seeds it for a config if given."""
    warehouse = Warehouse(url)
    try:
        warehouse.migrate()
        if seeded_for is not None:
            seed(warehouse, seeded_for)
    finally:
        warehouse.dispose()


@pytest.fixture
def seeded(warehouse, api_config) -> Seeded:
    return seed(warehouse, api_config)


def answers(url: str, deadline_s: float = 20.0) -> None:
    """Polls until something answers HTTP at `url`."""
    give_up = time.monotonic() + deadline_s
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            if time.monotonic() > give_up:
                raise
            time.sleep(0.02)


@contextmanager
def serving(config: TitanConfig, database_url: str, token: str | None = None) -> Iterator[str]:
    """The API on a free 127.0.0.1 port, in a thread; yields its base URL."""
    warehouse = read_only_warehouse(database_url)
    server = uvicorn.Server(uvicorn.Config(build_app(config, warehouse, token),
                                           log_level="warning", lifespan="off"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        answers(f"{base}/health")
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        warehouse.dispose()


@pytest.fixture
def api(seeded, api_config, warehouse_url) -> Iterator[str]:
    with serving(api_config, warehouse_url) as base:
        yield base


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_api(request, tmp_path_factory) -> Iterator[str]:
    """One seeded warehouse and server per test module and backend, for tests that send
    many requests and judge only the answers."""
    directory = tmp_path_factory.mktemp("api")
    config = load_config(write_config(directory))
    with ExitStack() as stack:
        url = f"sqlite:///{directory / 'warehouse.db'}" if request.param == "sqlite" \
            else stack.enter_context(fresh_pg_database())
        prepare(url, config)
        yield stack.enter_context(serving(config, url))


def get(base: str, path: str, **params) -> requests.Response:
    return requests.get(f"{base}{path}", params=params, timeout=10)


def walk(base: str, path: str, key: str, **params) -> list[list]:
    """Every page of a paginated listing, following `next`."""
    pages = []
    response = get(base, path, **params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body[key])
        if body["next"] is None:
            return pages
        response = requests.get(f"{base}{body['next']}", timeout=10)
