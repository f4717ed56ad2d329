"""Item 7: names are checked against strict patterns when the config loads, and,
independently, every warehouse statement binds them as parameters: hostile names handed
straight to the warehouse layer are stored and found as data, and no table is harmed."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import yaml

from titan_dagster.config import ConfigError, load_config
from titan_dagster.quality.validation import Reject
from titan_dagster.warehouse.batch import Batch

T0 = 1_704_067_200_000  # 2024-01-01T00:00Z
DAY = date(2024, 1, 1)
# Quotes, comments, statement breaks, and what COPY's text format would take for syntax.
HOSTILE = [
    "x'); DROP TABLE ohlcv; --",
    "A/B\"; DELETE FROM ohlcv_complete_days; --",
    "1h' OR '1'='1",
    "tab\there\nnewline\\N\r",
    "%(exchange)s %s :symbol ?",
    "名前/ユーロ",
]
TABLES = ["ohlcv", "ohlcv_complete_days", "ohlcv_gaps", "ohlcv_rejects",
          "titan_schema_migrations"]


def table_counts(warehouse) -> dict[str, int]:
    with warehouse.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_data_in_every_warehouse_operation(warehouse, name, figures):
    honest = ("binance", "BTC/USDT", "1h")
    warehouse.write(*honest, Batch([(T0, "1", "2", "0.5", "1.5", "10")],
                                   complete_days=[(DAY, 1)]))
    before = table_counts(warehouse)
    key = (name, name, "1h")
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)

    warehouse.clear_rejects(*key, DAY, DAY)
    warehouse.write(*key, Batch(
        [(T0, "1", "2", "0.5", "1.5", "10"), (T0 + 7_200_000, "3", "3", "3", "3", "1")],
        rejects=[(DAY, Reject(T0 + 3_600_000, ("9", "1", "1", "1", "1"), "high_is_highest"))],
        exchange_gaps=[(T0 + 3_600_000, T0 + 7_200_000, 1)],
        complete_days=[(DAY, 2)]))

    assert len(warehouse.read_candles(*key)) == 2
    assert warehouse.complete_days(*key, DAY, DAY) == {DAY}
    assert warehouse.day_complete(name, [name], ["1h"], DAY)
    assert warehouse.first_candle_ms(*key) == T0
    assert warehouse.last_candle_ms(*key) == T0 + 7_200_000
    assert warehouse.summarize(name, name, start, end)["1h"].candles == 2
    assert warehouse.missing_ranges(*key, T0, T0 + 10_800_000) == [(T0 + 3_600_000,
                                                                    T0 + 7_200_000)]
    assert warehouse.exchange_gaps(*key, T0, T0 + 86_400_000) == [(T0 + 3_600_000,
                                                                   T0 + 7_200_000)]
    assert list(warehouse.rejects(name, name, DAY, DAY)["rule"]) == ["high_is_highest"]
    assert [row[0] for row in warehouse.price_outliers(*key, start, end, 0.1)] == [
        T0 + 7_200_000]
    # Every table is still there, the honest rows untouched, the hostile ones added.
    assert table_counts(warehouse) == {**before, "ohlcv": before["ohlcv"] + 2,
                                       "ohlcv_complete_days": before["ohlcv_complete_days"] + 1,
                                       "ohlcv_gaps": 1, "ohlcv_rejects": 1}
    assert len(warehouse.read_candles(*honest)) == 1
    figures.candles_compared += 3


@pytest.mark.parametrize(("field", "value"), [
    ("exchange", "binance; DROP TABLE ohlcv"),
    ("exchange", "../../etc/passwd"),
    ("symbol", "BTC/USDT'; --"),
    ("symbol", "BTC/USDT\n"),
    ("symbol", "btc/usdt"),
    ("symbol", "BTC/USDT/EUR"),
    ("symbol", "BTC/" + "A" * 21),
    ("timeframe", "1h; --"),
    ("timeframe", "1h\n"),
    ("timeframe", "0m"),
])
def test_config_admits_only_strict_names(tmp_path, field, value):
    exchange = value if field == "exchange" else "binance"
    settings = {"symbols": [value if field == "symbol" else "BTC/USDT"],
                "timeframes": [value if field == "timeframe" else "1h"]}
    path = tmp_path / "titan.yaml"
    path.write_text(yaml.safe_dump({"start": "2024-01-01", "exchanges": {exchange: settings}}))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert repr(value) in str(error.value) and str(path) in str(error.value)
