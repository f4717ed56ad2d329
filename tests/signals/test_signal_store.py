"""The signal tables on both backends: versions kept apart, signals idempotent, outcomes
upserted, unresolved ones found again, backtest results with absurd values."""

import sqlalchemy as sa

from titan_dagster.signals.model import Leg, Outcome
from titan_dagster.warehouse.signal_store import SeriesKey, SignalRow, SignalStore

H = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00Z
KEY = SeriesKey("btc_sma_cross", "v1", "binance", "BTC/USDT", "1h")


def row(ts: int, direction: str = "long") -> SignalRow:
    return SignalRow(ts, direction, "42123.45", "42123.45", "41281.001", "42965.899",
                     "43808.348", 0.5, ts + H)


def test_signals_outcomes_and_results_round_trip(warehouse):
    store = SignalStore(warehouse)
    for version in ("v1", "v2"):
        store.record_strategy("btc_sma_cross", version, "sma_cross", {"fast": 20, "slow": 50},
                              {"stop_pct": 0.02}, "binance", "1h", True)
    store.record_strategy("btc_sma_cross", "v1", "sma_cross", {"fast": 20, "slow": 50},
                          {"stop_pct": 0.02}, "binance", "1h", False)  # only `active` changes
    ids = store.write_signals(KEY, [row(T0 + H), row(T0 + 5 * H, "short")])
    again = store.write_signals(KEY, [row(T0 + H)])
    assert again == {(T0 + H, "long"): ids[(T0 + H, "long")]} and len(ids) == 2
    other = store.write_signals(SeriesKey("btc_sma_cross", "v2", "binance", "BTC/USDT", "1h"),
                                [row(T0 + H)])
    assert set(other.values()).isdisjoint(ids.values())  # a new version, new rows

    closed = Outcome("tp2", 1, T0 + 2 * H, 42130.5, tp1_hit_ts=T0 + 3 * H,
                     tp2_hit_ts=T0 + 4 * H, legs=[Leg(T0 + 3 * H, 42965.899, 0.5, "tp1"),
                                                  Leg(T0 + 4 * H, 43808.348, 0.5, "tp2")],
                     r_gross=1.49, r_net=1.47, exit_index=4)
    store.write_outcomes([(ids[(T0 + H, "long")], Outcome("open", 1, T0 + 2 * H, 42130.5)),
                          (ids[(T0 + 5 * H, "short")], Outcome("pending"))])
    assert store.unresolved_signal_times(KEY) == [T0 + H, T0 + 5 * H]
    store.write_outcomes([(ids[(T0 + H, "long")], closed)])
    assert store.unresolved_signal_times(KEY) == [T0 + 5 * H]

    store.write_backtest(KEY, T0, T0 + 24 * H, {"trades": 1, "wins": 1, "losses": 0,
                                                "breakevens": 0, "cagr": 5.1e28,
                                                "profit_factor": None, "sharpe": 183.0})
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM strategies")).scalar() == 2
        assert not conn.execute(sa.text(
            "SELECT active FROM strategies WHERE version = 'v1'")).scalar()
        price, legs = conn.execute(sa.text(
            "SELECT entry_fill_price, exit_legs FROM outcomes WHERE status = 'tp2'")).one()
        assert str(price) == "42130.5"
        assert "43808.348" in str(legs)
        stop = conn.execute(sa.text("SELECT stop_loss FROM signals LIMIT 1")).scalar()
        assert str(stop) == "41281.001"  # exact
        cagr, pf = conn.execute(sa.text("SELECT cagr, profit_factor FROM backtest_results")).one()
        assert (cagr, pf) == (5.1e28, None)
