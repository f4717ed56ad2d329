"""Each endpoint's answers, field by field, on SQLite and PostgreSQL: prices and volumes as
the exact decimal text stored, times ISO-8601 UTC with Z, pages that together hold every
row once."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.api.conftest import OLD_VERSION, get, iso, walk


def stored_price(value: float, backend: str) -> str:
    """An outcome's float price goes in as repr() text: SQLite keeps that text, PostgreSQL's
    numeric prints the same number in its own positional notation."""
    return repr(value) if backend == "sqlite" else format(Decimal(repr(value)), "f")


def expected_signal(entry, backend: str) -> dict:
    signal_id, key, row, outcome = entry
    body = {"id": signal_id, "strategy": key.strategy, "strategy_version": key.version,
            "exchange": key.exchange, "symbol": key.symbol, "timeframe": key.timeframe,
            "signal_ts": iso(row.signal_ts), "direction": row.direction,
            "reference_price": row.reference_price, "entry": row.entry,
            "stop_loss": row.stop_loss, "take_profit_1": row.take_profit_1,
            "take_profit_2": row.take_profit_2, "confidence": row.confidence,
            "valid_until": iso(row.valid_until), "outcome": None}
    if outcome is not None:
        times = {name: None if getattr(outcome, name) is None else iso(getattr(outcome, name))
                 for name in ("entry_fill_ts", "tp1_hit_ts", "tp2_hit_ts", "sl_hit_ts",
                              "expired_ts")}
        body["outcome"] = {
            "status": outcome.status, **times,
            "entry_fill_price": None if outcome.entry_fill_price is None
            else stored_price(outcome.entry_fill_price, backend),
            "tp1_hit": outcome.tp1_hit_ts is not None, "tp2_hit": outcome.tp2_hit_ts is not None,
            "sl_hit": outcome.sl_hit_ts is not None, "expired": outcome.expired_ts is not None,
            "exit_legs": [{"ts": iso(leg.ts), "price": repr(leg.price),
                           "fraction": leg.fraction, "reason": leg.reason}
                          for leg in outcome.legs],
            "r_gross": outcome.r_gross, "r_net": outcome.r_net,
            "ambiguous": outcome.ambiguous, "resolved_by": outcome.resolved_by}
    return body


def without_bookkeeping(signal: dict) -> dict:
    """created_at and updated_at are the database's clock: checked for form only."""
    assert signal.pop("created_at").endswith("Z")
    if signal["outcome"] is not None:
        assert signal["outcome"].pop("updated_at").endswith("Z")
    return signal


def test_signals_come_with_their_outcomes_exactly(api, seeded, warehouse):
    body = get(api, "/signals").json()
    assert body["next"] is None
    assert [without_bookkeeping(s) for s in body["signals"]] == [
        expected_signal(entry, warehouse.backend) for entry in seeded.signals]
    tiny = body["signals"][1]
    assert (tiny["reference_price"], tiny["stop_loss"]) == ("0.0000001", "0.00000012")
    assert tiny["outcome"]["exit_legs"][0]["price"] == "1.2e-07"


def test_one_signal_by_id_and_an_unknown_id(api, seeded, warehouse):
    entry = seeded.signals[0]
    response = get(api, f"/signals/{entry[0]}")
    assert response.status_code == 200
    assert without_bookkeeping(response.json()) == expected_signal(entry, warehouse.backend)
    assert response.json()["outcome"]["entry_fill_price"] == "42130.5"
    missing = get(api, f"/signals/{seeded.signals[-1][0] + 1000}")
    assert missing.status_code == 404 and "no signal" in missing.json()["detail"]


def test_signal_filters(api, seeded, api_config):
    version = api_config.strategies[0].version
    ids = [entry[0] for entry in seeded.signals]

    def found(**params) -> list[int]:
        response = get(api, "/signals", **params)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["signals"]]

    assert found(strategy="btc_sma_cross") == ids
    assert found(strategy="eth_rsi") == []
    assert found(version=version) == ids[:5]
    assert found(version=OLD_VERSION) == ids[5:]
    assert found(symbol="ETH/USDT") == [ids[1], ids[3]]
    assert found(status="open") == [ids[3]]
    assert found(status="pending") == [ids[2]]  # not the one without an outcome yet
    assert found(since=iso(seeded.signals[2][2].signal_ts)) == ids[2:]
    assert found(symbol="BTC/USDT", version=version, status="tp2") == [ids[0]]


def test_signal_pages_hold_every_signal_once(api, seeded):
    pages = walk(api, "/signals", "signals", limit=2)
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [s["id"] for p in pages for s in p] == [entry[0] for entry in seeded.signals]


def expected_candles(rows, closed: bool = True) -> list[dict]:
    return [{"ts": iso(ts), "open": o, "high": h, "low": low, "close": c, "volume": v,
             "closed": closed} for ts, o, h, low, c, v in rows]


def test_candles_exactly_as_stored(api, seeded):
    rows = seeded.candles["binance", "BTC/USDT", "1h"]
    body = get(api, "/candles", exchange="binance", symbol="BTC/USDT", timeframe="1h").json()
    assert body == {"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1h",
                    "candles": expected_candles(rows), "next": None}
    assert body["candles"][0]["low"] == "0.0000001"  # not 1E-7
    assert body["candles"][0]["open"] == "42000.10"  # the trailing zero kept

    with_open = get(api, "/candles", exchange="binance", symbol="BTC/USDT", timeframe="1h",
                    include_open="true").json()["candles"]
    assert with_open == [*expected_candles(rows), *expected_candles([seeded.open_candle],
                                                                    closed=False)]
    eth = get(api, "/candles", exchange="binance", symbol="ETH/USDT", timeframe="1h").json()
    assert eth["candles"][-2]["volume"] is None


def test_candles_in_a_range_and_pages_of_them(api, seeded):
    rows = seeded.candles["binance", "BTC/USDT", "1h"]
    ranged = get(api, "/candles", exchange="binance", symbol="BTC/USDT", timeframe="1h",
                 start=iso(rows[5][0]), end=iso(rows[10][0])).json()
    assert ranged["candles"] == expected_candles(rows[5:10])
    # A start inside a candle's second: SQLite's whole-second text is compared correctly.
    between = datetime.fromisoformat(iso(rows[5][0])) + timedelta(milliseconds=500)
    assert get(api, "/candles", exchange="binance", symbol="BTC/USDT", timeframe="1h",
               start=between.isoformat(), end=iso(rows[10][0])).json()["candles"] == \
        expected_candles(rows[6:10])

    pages = walk(api, "/candles", "candles", exchange="binance", symbol="BTC/USDT",
                 timeframe="1h", limit=7, include_open="true")
    assert [len(p) for p in pages] == [7, 7, 7, 7, 3]
    assert [c["ts"] for p in pages for c in p] == [iso(r[0]) for r in
                                                   [*rows, seeded.open_candle]]
    daily = get(api, "/candles", exchange="binance", symbol="ETH/USDT", timeframe="1d").json()
    assert daily["candles"] == expected_candles(seeded.candles["binance", "ETH/USDT", "1d"])


def expected_performance(row: dict) -> dict:
    return {**row, "as_of": row["as_of"].isoformat(), "live_since": "2026-01-01T00:00:00Z"}


def key(row: dict) -> tuple:
    return row["strategy_version"], row["symbol"], row["as_of"]


def performance_rows(api, **params) -> list[dict]:
    rows = [row for page in walk(api, "/performance", "performance", **params) for row in page]
    for row in rows:
        assert row.pop("computed_at").endswith("Z")
    return rows


def test_performance_newest_day_per_version_and_symbol_by_default(api, seeded):
    newest = {}
    for row in seeded.performance:
        series = row["strategy_version"], row["symbol"]
        if series not in newest or row["as_of"] > newest[series]["as_of"]:
            newest[series] = row
    found = performance_rows(api)
    assert sorted(found, key=key) == sorted(map(expected_performance, newest.values()), key=key)
    assert len(found) == 3


def test_performance_over_a_day_range_in_pages(api, seeded, api_config):
    today = datetime.now(UTC).date()
    everything = performance_rows(api, start=(today - timedelta(days=5)).isoformat(), limit=2)
    assert sorted(everything, key=key) == sorted(map(expected_performance, seeded.performance),
                                                 key=key)
    yesterday = (today - timedelta(days=1)).isoformat()
    one_day = performance_rows(api, start=yesterday, end=yesterday,
                               version=api_config.strategies[0].version)
    assert sorted((r["symbol"], r["as_of"]) for r in one_day) == [
        ("BTC/USDT", yesterday), ("ETH/USDT", yesterday)]
    assert performance_rows(api, strategy="eth_rsi") == []
