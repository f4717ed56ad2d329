"""Every supported exchange through its real ccxt class against its emulator: the same
assets, the same invariant, each exchange's own paging semantics."""

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.exchanges import (
    Scenario,
    assert_truthful,
    candle_requests,
    outage_recorded,
    prelisting_days_empty_and_complete,
    run,
)
from titan_dagster.emulator import Fault
from titan_dagster.exchange.paging import PAGING
from titan_dagster.quality.assessments import missing_candles
from titan_dagster.quality.healing import incomplete_days
from titan_dagster.timeframes import DAY_MS, day_start_ms, now_ms
from titan_dagster.warehouse import Warehouse

EXCHANGES = sorted(PAGING)


@pytest.fixture
def warehouse(pg_url):
    """PostgreSQL here; the property test below runs on SQLite, so both backends hold the
    invariant without running every scenario twice."""
    store = Warehouse(pg_url)
    store.migrate()
    yield store
    store.dispose()


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_three_symbols_over_400_days_are_stored_truthfully(exchange, warehouse):
    scenario = Scenario(exchange)
    with scenario.emulator() as emu:
        outcomes = run(scenario.settings(emu), warehouse, scenario.first, scenario.last)
        assert all(o.error is None for o in outcomes.values()), outcomes
        assert_truthful(emu, warehouse, scenario)
        if exchange != "kraken":  # beyond Kraken's 720 1h candles: not served
            assert outage_recorded(warehouse, scenario)
        assert prelisting_days_empty_and_complete(warehouse, scenario)
        emu.clear_requests()
        run(scenario.settings(emu), warehouse, scenario.first, scenario.last)
        assert candle_requests(emu) == 0


def test_okx_with_its_history_cap_at_100_while_ccxt_asks_for_300(warehouse, caplog):
    scenario = Scenario("okx")
    with scenario.emulator(history_cap=100) as emu, caplog.at_level("INFO"):
        outcomes = run(scenario.settings(emu), warehouse, scenario.first, scenario.last)
        # The cap is learned once per client, as what the exchange really serves: not from
        # the targeted requests of holes, whose answers are short because the hole is.
        learned = [r.getMessage() for r in caplog.records if "pages hold at most" in r.message]
        assert learned == ["okx: pages hold at most 100 candles (asked for 300); asking for 100"]
        assert all(o.error is None for o in outcomes.values()), outcomes
        assert_truthful(emu, warehouse, scenario)
        assert outage_recorded(warehouse, scenario)
        limits = [int(r.params["limit"]) for r in emu.requests if "limit" in r.params]
        assert 300 in limits and 100 in limits  # asked as ccxt says, then as OKX serves


def test_bybit_with_10_percent_faults_including_10016(warehouse):
    scenario = Scenario("bybit", days=120, listed_after=60, outage_day=40, holes=(37, 1_003),
                        invalid=((55, "nan"),))
    with scenario.emulator() as emu:
        # Bybit's "System error, please try again": three in a row first, then in the mix.
        emu.inject(Fault("status", 200, code=10016), count=3)
        emu.inject_at_rate(0.1, seed=7)
        outcomes = run(scenario.settings(emu), warehouse, scenario.first, scenario.last)
        assert all(o.error is None for o in outcomes.values()), outcomes
        assert any(r.fault == "status" and r.status == 200 for r in emu.requests)
        assert_truthful(emu, warehouse, scenario)


def test_kraken_beyond_its_reach_is_not_served_and_not_complete(warehouse):
    scenario = Scenario("kraken")
    with scenario.emulator() as emu:
        outcomes = run(scenario.settings(emu), warehouse, scenario.first, scenario.last)
        assert all(o.error is None for o in outcomes.values())
        hourly = outcomes["BTC/USD"].timeframes["1h"]
        assert hourly.unserved_candles > 360 * 24
        assert_truthful(emu, warehouse, scenario)
        start, end = day_start_ms(scenario.first), day_start_ms(scenario.last) + DAY_MS
        check = missing_candles(warehouse, "kraken", "BTC/USD", ("1h",), start, end, now_ms())
        assert not check.passed and check.warn_only
        assert check.numbers["unserved_count"] == hourly.unserved_candles
        assert check.numbers["healable_missing_count"] == 0
        assert "not served by kraken: only the last 720 candles" in check.summary
        assert {row["kind"] for row in check.sample} == {"not served"}
        # The heal sensor's plan leaves them alone: asking again would not get them.
        settings = scenario.settings(emu)
        assert not incomplete_days(warehouse, settings, scenario.first, scenario.last)


@pytest.mark.parametrize("exchange", EXCHANGES)
@settings(max_examples=3, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(days=st.integers(20, 90), listed=st.integers(1, 60), outage=st.integers(0, 80),
       holes=st.lists(st.integers(0, 2_000), max_size=4),
       invalid=st.lists(st.tuples(st.integers(0, 2_000),
                                  st.sampled_from(["high_below_low", "nan", "zero_price",
                                                   "misaligned", "conflicting_duplicate"])),
                        max_size=3, unique_by=lambda item: item[0]))
def test_a_day_is_complete_only_when_every_slot_is_accounted_for(
        exchange, tmp_path_factory, days, listed, outage, holes, invalid):
    scenario = Scenario(exchange, days=days, listed_after=min(listed, days - 1),
                        outage_day=min(outage, days - 1),
                        holes=tuple(h for h in holes if h < days * 24 - 2),
                        invalid=tuple((h, k) for h, k in invalid if h < days * 24))
    store = Warehouse(f"sqlite:///{tmp_path_factory.mktemp('w') / 'w.db'}")
    store.migrate()
    with scenario.emulator() as emu:
        outcomes = run(scenario.settings(emu), store, scenario.first, scenario.last)
        assert all(o.error is None for o in outcomes.values()), outcomes
        assert_truthful(emu, store, scenario)
    store.dispose()


def test_an_okx_listing_time_later_than_its_candles_is_not_believed(warehouse, caplog):
    # listTime claims day 200; the candles begin on day 50. The window before the claimed
    # listing shows candles, so the whole range is fetched.
    scenario = Scenario("okx", days=120, listed_after=50, outage_day=30, holes=(), invalid=())
    with scenario.emulator() as emu, caplog.at_level("WARNING"):
        emu.report_listing(scenario.symbols[0],
                           day_start_ms(scenario.first) + 100 * DAY_MS)
        outcomes = run(scenario.settings(emu), warehouse, scenario.first, scenario.last)
        assert all(o.error is None for o in outcomes.values()), outcomes
        assert any("has candles before its listing time" in r.message for r in caplog.records)
        assert_truthful(emu, warehouse, scenario)
        assert prelisting_days_empty_and_complete(warehouse, scenario)
