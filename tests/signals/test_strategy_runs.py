"""A strategy run end to end on candles backfilled from the Binance emulator: the signal
tables filled on both backends, day by day equal to one run over the range, versions kept
apart, and the three assets in a Dagster run with lineage from the candles."""

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import sqlalchemy as sa

from tests.conftest import run_backfill
from titan_dagster.config.strategies import StrategySettings
from titan_dagster.defs.ohlcv.assets import ohlcv_asset_key
from titan_dagster.defs.ohlcv.partitions import daily_partitions
from titan_dagster.defs.resources import WarehouseResource
from titan_dagster.defs.signals.assets import build_strategy_assets, signal_asset_keys
from titan_dagster.signals.model import Risk
from titan_dagster.signals.runs import run_range

FIRST, LAST = date(2024, 1, 1), date(2024, 3, 31)
STRATEGY = StrategySettings(
    name="btc_sma_cross", kind="sma_cross", source="binance", symbols=("BTC/USDT", "ETH/USDT"),
    timeframe="1h", params={"fast": 5, "slow": 20},
    risk=Risk(stop_pct=0.02, tp1_r=1.0, tp2_r=2.0, max_hold_candles=48, fee_bps=10,
              slippage_bps=2))


def table(warehouse, query: str) -> list[tuple]:
    with warehouse.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query)).all()]


def stored(warehouse) -> tuple[list, list]:
    signals = table(warehouse, "SELECT strategy_version, symbol, signal_ts, direction, entry, "
                               "stop_loss, take_profit_1, take_profit_2 FROM signals "
                               "ORDER BY symbol, signal_ts, direction")
    outcomes = table(warehouse, "SELECT s.symbol, s.signal_ts, o.status, o.r_gross, o.r_net, "
                                "o.exit_legs FROM outcomes o JOIN signals s ON s.id = "
                                "o.signal_id ORDER BY s.symbol, s.signal_ts, s.direction")
    return signals, [(*row[:5], str(row[5])) for row in outcomes]


def test_a_range_fills_the_signal_tables_and_equals_day_by_day_runs(emulator, warehouse):
    run_backfill(emulator, warehouse, ["BTC/USDT", "ETH/USDT"], ["1h"], FIRST, LAST)
    runs = [run_range(STRATEGY, warehouse, s, FIRST, LAST) for s in STRATEGY.symbols]
    assert all(r.signals > 10 for r in runs)
    assert all(r.metrics is not None and r.metrics.trades > 5 for r in runs)
    whole = stored(warehouse)
    assert len(whole[0]) == sum(r.signals for r in runs) == len(whole[1])
    assert table(warehouse, "SELECT count(*) FROM backtest_results") == [(2,)]

    for name in ("outcomes", "signals"):
        table_clear(warehouse, name)
    day = FIRST
    while day <= LAST:  # as the live path will: one day at a time
        for symbol in STRATEGY.symbols:
            run_range(STRATEGY, warehouse, symbol, day, day, backtest=False)
        day += timedelta(days=1)
    assert stored(warehouse) == whole


def table_clear(warehouse, name: str) -> None:
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {name}"))


def test_a_new_version_leaves_the_old_rows_alone(emulator, warehouse):
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, FIRST + timedelta(days=20))
    old = StrategySettings(**{**STRATEGY.__dict__, "symbols": ("BTC/USDT",)})
    new = StrategySettings(**{**old.__dict__, "params": {"fast": 3, "slow": 20}})
    assert old.version != new.version
    run_range(old, warehouse, "BTC/USDT", FIRST, FIRST + timedelta(days=20))
    before = table(warehouse, f"SELECT * FROM signals WHERE strategy_version = '{old.version}'")
    run_range(new, warehouse, "BTC/USDT", FIRST, FIRST + timedelta(days=20))
    assert table(warehouse, f"SELECT * FROM signals WHERE strategy_version = "
                            f"'{old.version}'") == before
    assert table(warehouse, "SELECT count(DISTINCT strategy_version) FROM signals") == [(2,)]


def test_the_strategy_assets_materialize_with_lineage_from_the_candles(emulator, sqlite_url):
    from titan_dagster.warehouse import Warehouse

    store = Warehouse(sqlite_url)
    store.migrate()
    run_backfill(emulator, store, ["BTC/USDT", "ETH/USDT"], ["1h"], FIRST, FIRST + timedelta(14))
    assets = build_strategy_assets(STRATEGY, daily_partitions(FIRST))
    signals, outcomes, backtests, performance = signal_asset_keys("btc_sma_cross")
    deps = {key: set(dep.asset_key for dep in spec.deps) for key, spec in
            ((s.key, s) for s in assets.specs)}
    assert deps[signals] == {ohlcv_asset_key("binance", s) for s in STRATEGY.symbols}
    assert deps[outcomes] == {signals} and deps[backtests] == {outcomes}
    assert deps[performance] == {outcomes}
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [assets], instance=instance,
            tags={"dagster/asset_partition_range_start": FIRST.isoformat(),
                  "dagster/asset_partition_range_end": (FIRST + timedelta(14)).isoformat()},
            resources={"warehouse": WarehouseResource(database_url=sqlite_url)})
        assert result.success
        event = instance.get_latest_materialization_event(backtests)
        metadata = event.asset_materialization.metadata
        assert metadata["trades"].value > 0 and "| BTC/USDT |" in metadata["metrics"].value
        index = Path(metadata["report"].value)
        assert index.name == "index.html" and "BTC_USDT.html" in index.read_text()
        assert "ETH/USDT" in (index.parent / "ETH_USDT.html").read_text()
        assert len(instance.get_materialized_partitions(signals)) == 15
        checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
        assert checks["no_lookahead"].passed
        assert 30 < checks["no_lookahead"].metadata["signals_checked"].value <= 40  # 20 each
        # It went live now, after the range: nothing live to judge there.
        assert checks["strategy_not_degraded"].passed
        assert checks["strategy_not_degraded"].description == "not live in this range"
    store.dispose()


def peeking(candles, params):
    """A kind that cheats: long where the NEXT close is higher."""
    from titan_dagster.signals.model import RawSignals

    up = np.flatnonzero(candles.close[1:] > candles.close[:-1])
    return RawSignals(index=up.astype(np.int64), direction=np.ones(len(up), dtype=np.int8),
                      confidence=np.full(len(up), 0.5))


def test_no_lookahead_passes_for_the_built_in_kind_and_catches_one_that_peeks(emulator,
                                                                              warehouse):
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, FIRST + timedelta(days=20))
    honest = StrategySettings(**{**STRATEGY.__dict__, "symbols": ("BTC/USDT",)})
    run = run_range(honest, warehouse, "BTC/USDT", FIRST, FIRST + timedelta(days=20),
                    check_lookahead=True)
    assert run.lookahead_checked == 20 and run.lookahead == []
    cheat = StrategySettings(**{**honest.__dict__, "name": "cheat",
                                "kind": "tests.signals.test_strategy_runs:peeking"})
    run = run_range(cheat, warehouse, "BTC/USDT", FIRST, FIRST + timedelta(days=20),
                    check_lookahead=True)
    assert run.lookahead_checked == 20 and len(run.lookahead) == 20
    assert "not produced from candles up to it" in run.lookahead[0]
