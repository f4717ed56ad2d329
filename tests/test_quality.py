"""Candle quality end to end against the emulator, on SQLite and PostgreSQL: every invalid
row quarantined and never stored, every hole classified, healable holes healed."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.conftest import run_backfill, stored_rows
from titan_dagster.emulator.candles import INVALID_KINDS
from titan_dagster.quality.validation import check_rows
from titan_dagster.timeframes import DAY_MS, day_of_ms, day_start_ms

H = 3_600_000
FIRST, LAST = date(2024, 1, 1), date(2024, 3, 31)
START, END = day_start_ms(FIRST), day_start_ms(LAST) + DAY_MS
# Identical repeats of a row are collapsed, not rejected: they carry no conflicting data.
# A row opened in the future sorts last and ccxt trims a page to the limit asked for, so it
# never reaches us from a past page; the schema's rule for it is tested on rows directly.
KINDS = sorted(INVALID_KINDS - {"duplicate", "future"})


def plant_invalid_rows(emulator) -> dict[str, int]:
    """One invalid row of each kind, each on its own day; returns kind -> open time."""
    planted = {}
    for i, kind in enumerate(KINDS):
        ts = START + (2 + 3 * i) * DAY_MS + 5 * H
        emulator.add_invalid("BTC/USDT", "1h", ts, kind)
        planted[kind] = ts
    emulator.set_candle("BTC/USDT", "1h", START + 60 * DAY_MS, close="not-a-number")
    planted["text"] = START + 60 * DAY_MS
    return planted


def served_minus_invalid(emulator, planted) -> list[tuple]:
    bad_slots = {ts for kind, ts in planted.items() if kind != "misaligned"}
    return [(row[0], *(Decimal(v) for v in row[1:6]))
            for row in emulator.candles("BTC/USDT", "1h", START, END)
            if row[0] not in bad_slots and row[0] % H == 0]


def test_invalid_rows_are_quarantined_and_never_stored(emulator, warehouse):
    planted = plant_invalid_rows(emulator)
    outcomes = run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, LAST)
    assert outcomes["BTC/USDT"].error is None

    rejects = warehouse.rejects("binance", "BTC/USDT", FIRST, date.today())
    rules = dict(zip(rejects["ts_ms"], rejects["rule"], strict=False))
    assert "high_is_highest" in rules[planted["high_below_low"]]
    assert "high_is_highest" in rules[planted["high_below_open"]]
    assert "low_is_lowest" in rules[planted["low_above_close"]]
    assert rules[planted["nan"]] == "not_null"
    assert rules[planted["inf"]] == "finite"
    assert "price_positive" in rules[planted["zero_price"]]
    assert "price_positive" in rules[planted["negative_price"]]
    assert rules[planted["negative_volume"]] == "volume_non_negative"
    assert rules[planted["misaligned"] + 1] == "aligned"
    assert rules[planted["text"]] == "not_null"
    assert list(rejects["ts_ms"]).count(planted["conflicting_duplicate"]) == 2
    assert len(rejects) == len(KINDS) + 2  # one per kind, the conflicting pair twice, text
    assert set(rejects["run_id"]) == {None}

    stored = stored_rows(warehouse, "BTC/USDT", "1h")
    assert stored == served_minus_invalid(emulator, planted)
    stored_ts = {row[0] for row in stored}
    assert not {ts for kind, ts in planted.items() if kind != "misaligned"} & stored_ts
    # Each quarantined slot was asked once more; still invalid, it stays quarantined and its
    # day is complete, so re-materializing the range makes no request for it.
    complete = warehouse.complete_days("binance", "BTC/USDT", "1h", FIRST, LAST)
    assert len(complete) == 91
    emulator.clear_requests()
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, LAST)
    assert emulator.count() == 0
    assert len(warehouse.rejects("binance", "BTC/USDT", FIRST, date.today())) == len(rejects)


def test_fixing_the_data_upstream_and_refetching_clears_the_quarantine(emulator, warehouse):
    ts = START + 10 * DAY_MS + 3 * H
    emulator.add_invalid("BTC/USDT", "1h", ts, "nan")
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, LAST)
    assert len(warehouse.rejects("binance", "BTC/USDT", FIRST, LAST)) == 1

    good = emulator.candles("BTC/USDT", "1h", ts - H, ts)[0]
    emulator.set_candle("BTC/USDT", "1h", ts, open=good[4], high=good[4], low=good[4],
                        close=good[4], volume="1.00000000")
    # The day was complete with its row quarantined; forgetting that has it fetched again.
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ohlcv_complete_days WHERE day = :d"),
                     {"d": day_of_ms(ts) if warehouse.backend == "postgresql"
                      else day_of_ms(ts).isoformat()})
    run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, LAST)

    assert len(warehouse.rejects("binance", "BTC/USDT", FIRST, LAST)) == 0
    assert ts in {row[0] for row in stored_rows(warehouse, "BTC/USDT", "1h")}
    assert len(warehouse.complete_days("binance", "BTC/USDT", "1h", FIRST, LAST)) == 91


def test_holes_are_classified_and_transient_ones_healed(emulator, warehouse):
    permanent = (START + 20 * DAY_MS + 4 * H, START + 20 * DAY_MS + 9 * H)
    transient = (START + 40 * DAY_MS + 2 * H, START + 40 * DAY_MS + 3 * H)
    emulator.add_hole("BTC/USDT", *permanent)
    emulator.add_hole("BTC/USDT", *transient, transient_requests=1)
    emulator.clear_requests()

    outcome = run_backfill(emulator, warehouse, ["BTC/USDT"], ["1h"], FIRST, LAST)["BTC/USDT"]

    assert warehouse.exchange_gaps("binance", "BTC/USDT", "1h", START, END) == [permanent]
    assert warehouse.missing_ranges("binance", "BTC/USDT", "1h", START, END) == [permanent]
    stored_ts = {row[0] for row in stored_rows(warehouse, "BTC/USDT", "1h")}
    assert transient[0] in stored_ts
    assert outcome.timeframes["1h"].exchange_gap_candles == 5
    # 91 days x 24 h: 3 pages, plus one targeted request per hole.
    assert emulator.count("/api/v3/klines") == 3 + 2
    assert len(warehouse.complete_days("binance", "BTC/USDT", "1h", FIRST, LAST)) == 91


def test_the_schema_names_every_rule_a_row_breaks():
    rows = [[0, "1", "2", "0.5", "1.5", "10"],            # valid
            [H, "1", "2", "0.5", "1.5", "10"],            # valid, and repeated identically:
            [H, "1", "2", "0.5", "1.5", "10"],            # collapsed, not rejected
            [2 * H, "1", "0.9", "0.5", "1", "1"],          # high below open
            [3 * H + 1, "1", "2", "0.5", "1", "1"],        # misaligned
            [30 * H, "1", "2", "0.5", "1", "1"],           # outside the fetched day
            [5 * H, "1", "2", "0.5", "1", "1"]]            # opened after `now`
    checked = check_rows(rows, H, 0, 24 * H, now=4 * H)
    assert [c[0] for c in checked.valid] == [0, H]
    assert {r.ts: r.rule for r in checked.rejects} == {
        2 * H: "high_is_highest", 3 * H + 1: "aligned",
        30 * H: "in_window,not_in_future", 5 * H: "not_in_future"}


@pytest.mark.parametrize("spelling", ["1_000", " 1", "1 ", "\uff11", "\u0661", "NaN"])
def test_numbers_only_python_reads_are_quarantined_not_stored(spelling):
    checked = check_rows([[0, "1", "2", "0.5", "1.5", "10"], [H, "1", "2", "0.5", "1", spelling]],
                         H, 0, 24 * H, now=4 * H)
    assert [c[0] for c in checked.valid] == [0]
    assert [(r.ts, r.values[-1]) for r in checked.rejects] == [(H, spelling)]


def test_the_column_schema_in_the_ui_is_the_pandera_schema():
    from titan_dagster.defs.ohlcv.table_schema import OHLCV_COLUMNS

    columns = {c.name: c for c in OHLCV_COLUMNS.columns}
    assert columns["ts"].type == "timestamptz"
    assert columns["high"].type == "numeric"
    assert "price_positive: greater than 0" in columns["open"].constraints.other
    assert any(rule.startswith("aligned: on the market's slot grid")
               for rule in columns["ts"].constraints.other)
    assert not columns["volume"].constraints.nullable
