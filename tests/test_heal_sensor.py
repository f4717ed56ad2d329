"""The self-healing sensor finds incomplete days and re-materializes them in range runs."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg

from tests.conftest import binance_settings
from tests.test_quality import KINDS
from titan_dagster.config.model import TitanConfig
from titan_dagster.defs.automation.heal_sensor import MAX_ATTEMPTS, build_heal_sensor
from titan_dagster.defs.ohlcv.assets import build_ohlcv_assets, ohlcv_asset_key
from titan_dagster.defs.ohlcv.partitions import daily_partitions
from titan_dagster.defs.resources import ExchangeResource, WarehouseResource
from titan_dagster.emulator import Fault
from titan_dagster.quality.healing import plan_heal_runs
from titan_dagster.timeframes import DAY_MS, day_start_ms
from titan_dagster.warehouse import Warehouse

TODAY = datetime.now(UTC).date()
START = TODAY - timedelta(days=6)
YESTERDAY = TODAY - timedelta(days=1)
SYMBOLS = ["BTC/USDT", "ETH/USDT"]


class Deployment:
    """The OHLCV assets and the heal sensor over one emulator and warehouse, with the
    daemon's part (evaluate the sensor, launch what it asks) done by hand."""

    def __init__(self, emulator, warehouse_url, instance):
        settings = binance_settings(emulator, SYMBOLS, ["1h"])
        config = TitanConfig(Path("titan.yaml"), START, (settings,))
        self.assets = build_ohlcv_assets(settings, daily_partitions(START), "sqlite")
        self.sensor = build_heal_sensor(config)
        self.instance = instance
        self.resources = {"warehouse": WarehouseResource(database_url=warehouse_url),
                          "exchanges": ExchangeResource(max_attempts=2)}
        self.cursor = None

    def tick(self) -> list[dg.RunRequest]:
        with dg.build_sensor_context(instance=self.instance, cursor=self.cursor, resources={
                "warehouse": self.resources["warehouse"]}) as context:
            result = self.sensor(context)
        self.cursor = result.cursor
        return result.run_requests

    def launch(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        return dg.materialize([self.assets], instance=self.instance, resources=self.resources,
                              selection=request.asset_selection, tags=request.tags,
                              raise_on_error=False)

    def backfill(self) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [self.assets], instance=self.instance, resources=self.resources, raise_on_error=False,
            tags={"dagster/asset_partition_range_start": START.isoformat(),
                  "dagster/asset_partition_range_end": YESTERDAY.isoformat()})


def test_a_symbol_that_failed_is_healed_by_the_sensor_alone(emulator, warehouse_url):
    emulator.inject(Fault("status", status=503), count=2, symbol="ETH/USDT")  # = attempts
    with dg.instance_for_test() as instance:
        deployment = Deployment(emulator, warehouse_url, instance)
        assert not deployment.backfill().success  # ETH failed, BTC stored

        (request,) = deployment.tick()
        assert request.asset_selection == [ohlcv_asset_key("binance", "ETH/USDT")]
        assert request.tags["dagster/asset_partition_range_start"] == START.isoformat()
        assert request.tags["dagster/asset_partition_range_end"] == YESTERDAY.isoformat()
        assert deployment.launch(request).success

        assert deployment.tick() == []
        assert json.loads(deployment.cursor) == {}
        eth = ohlcv_asset_key("binance", "ETH/USDT")
        assert len(instance.get_materialized_partitions(eth)) == 6


def test_an_empty_warehouse_is_backfilled_in_one_range_run(emulator, warehouse_url):
    with dg.instance_for_test() as instance:
        deployment = Deployment(emulator, warehouse_url, instance)
        (request,) = deployment.tick()
        assert sorted(k.path[-1] for k in request.asset_selection) == ["BTC_USDT", "ETH_USDT"]
        assert deployment.launch(request).success
        assert deployment.tick() == []


def test_a_day_that_never_heals_is_tried_a_bounded_number_of_times(emulator, warehouse_url):
    emulator.inject(Fault("status", status=503), count=10_000, symbol="ETH/USDT")
    with dg.instance_for_test() as instance:
        deployment = Deployment(emulator, warehouse_url, instance)
        run_keys = []
        for _ in range(MAX_ATTEMPTS + 2):
            requests = deployment.tick()
            run_keys += [r.run_key for r in requests]
            for request in requests:
                deployment.launch(request)
        assert len(run_keys) == MAX_ATTEMPTS
        assert len(set(run_keys)) == MAX_ATTEMPTS


def test_heal_runs_are_ranges_not_one_run_per_day():
    day = YESTERDAY
    needs = {day - timedelta(days=i): {"BTC/USDT"} for i in range(30)}
    needs[day - timedelta(days=40)] = {"ETH/USDT"}
    runs = plan_heal_runs("binance", needs, {}, MAX_ATTEMPTS)
    assert [(r.first, r.last, r.symbols) for r in runs] == [
        (day - timedelta(days=40), day - timedelta(days=40), ("ETH/USDT",)),
        (day - timedelta(days=29), day, ("BTC/USDT",))]


def test_acceptance_a_faulty_exchange_ends_in_a_warehouse_equal_to_its_valid_candles(
        emulator, warehouse_url):
    """Invalid rows of every kind, a hole the exchange never fills, one that is there only
    on the first request, and a symbol whose first run fails: after one backfill and the
    sensor's own runs, ohlcv is exactly what the exchange serves minus the invalid rows."""
    h, base = 3_600_000, day_start_ms(START)
    planted = {}
    for i, kind in enumerate(KINDS):  # two kinds a day over the six days
        planted[kind] = base + (i // 2) * DAY_MS + (3 + 5 * (i % 2)) * h
        emulator.add_invalid("BTC/USDT", "1h", planted[kind], kind)
    permanent = (base + 4 * DAY_MS + 12 * h, base + 4 * DAY_MS + 15 * h)
    emulator.add_hole("BTC/USDT", *permanent)
    emulator.add_hole("BTC/USDT", base + 5 * DAY_MS + 20 * h, base + 5 * DAY_MS + 21 * h,
                      transient_requests=1)
    emulator.inject(Fault("status", status=503), count=2, symbol="ETH/USDT")

    with dg.instance_for_test() as instance:
        deployment = Deployment(emulator, warehouse_url, instance)
        backfill = deployment.backfill()
        checks = {e.check_name: e for e in backfill.get_asset_check_evaluations()}
        for _ in range(MAX_ATTEMPTS + 1):  # the daemon's ticks
            for request in deployment.tick():
                deployment.launch(request)

    invalid = numbers_of(checks["valid_candles"])["invalid_count"]
    assert invalid == len(KINDS) + 1  # the conflicting duplicate is two rows
    assert numbers_of(checks["no_gaps"])["exchange_gap_count"] == 3
    assert numbers_of(checks["no_gaps"])["healable_missing_count"] == 0
    store = Warehouse(warehouse_url)
    assert len(store.rejects("binance", "BTC/USDT", START, YESTERDAY)) == invalid
    end = day_start_ms(TODAY)
    assert store.exchange_gaps("binance", "BTC/USDT", "1h", base, end) == [permanent]
    bad = {ts for kind, ts in planted.items() if kind != "misaligned"}
    for symbol in SYMBOLS:
        served = [(r[0], *(Decimal(v) for v in r[1:6]))
                  for r in emulator.candles(symbol, "1h", base, end)
                  if r[0] % h == 0 and not (symbol == "BTC/USDT" and r[0] in bad)]
        frame = store.read_candles("binance", symbol, "1h")
        stored = [(int(ts.timestamp() * 1000), *v) for ts, *v in frame.itertuples(index=False)]
        assert stored == served


def numbers_of(evaluation) -> dict:
    return {k: v.value for k, v in evaluation.metadata.items()}
