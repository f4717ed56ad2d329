"""The asset checks as the UI shows them, after a range run against a faulty exchange."""

from datetime import date

import dagster as dg

from tests.test_assets import BTC, materialize
from titan_dagster.timeframes import DAY_MS, day_start_ms

H = 3_600_000
JAN = day_start_ms(date(2024, 1, 1))


def evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == BTC}


def numbers(evaluation) -> dict:
    return {k: v.value for k, v in evaluation.metadata.items()}


def test_checks_report_exactly_what_the_exchange_broke(emulator, warehouse_url):
    for i, kind in enumerate(["nan", "negative_volume", "high_below_low"]):
        emulator.add_invalid("BTC/USDT", "1h", JAN + (3 + i) * DAY_MS + 7 * H, kind)
    emulator.add_hole("BTC/USDT", JAN + 20 * DAY_MS + 4 * H, JAN + 20 * DAY_MS + 9 * H)
    jump_at = JAN + 10 * DAY_MS + 12 * H
    served = emulator.candles("BTC/USDT", "1h", jump_at, jump_at + H)[0]
    high = str(float(served[2]) * 2)
    emulator.set_candle("BTC/USDT", "1h", jump_at, open=high, high=high)

    with dg.instance_for_test() as instance:
        result = materialize(emulator, warehouse_url, instance, ["BTC/USDT"])
        assert result.success  # failing checks never block storing the valid candles
        checks = evaluations(result)

    assert not checks["valid_candles"].passed
    assert checks["valid_candles"].severity == dg.AssetCheckSeverity.ERROR
    assert numbers(checks["valid_candles"])["invalid_count"] == 3
    assert len(numbers(checks["valid_candles"])["sample"].records) == 3
    assert not checks["no_gaps"].passed
    assert checks["no_gaps"].severity == dg.AssetCheckSeverity.WARN  # the exchange's own gap
    assert numbers(checks["no_gaps"])["exchange_gap_count"] == 5
    assert numbers(checks["no_gaps"])["healable_missing_count"] == 0
    assert not checks["no_price_jumps"].passed
    assert checks["no_price_jumps"].severity == dg.AssetCheckSeverity.WARN
    assert numbers(checks["no_price_jumps"])["price_jump_count"] == 1
    assert not checks["fresh"].passed  # January 2024 is long gone


def test_clean_data_passes_every_check_but_freshness(emulator, warehouse_url):
    with dg.instance_for_test() as instance:
        checks = evaluations(materialize(emulator, warehouse_url, instance, ["BTC/USDT"]))
    assert {name: e.passed for name, e in checks.items()} == {
        "valid_candles": True, "no_gaps": True, "no_price_jumps": True, "fresh": False}
    assert numbers(checks["no_gaps"])["missing_count"] == 0
