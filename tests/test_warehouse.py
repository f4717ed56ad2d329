"""The warehouse on a real PostgreSQL and on SQLite: schema, exact values, upserts, reads."""

import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest

from titan_dagster.timeframes import to_datetime
from titan_dagster.warehouse import Warehouse, masked
from titan_dagster.warehouse.batch import Batch
from titan_dagster.warehouse.candle_slices import SLICE_CANDLES
from titan_dagster.warehouse.database import DatabaseUrlError, parse_database_url

T0 = 1_704_067_200_000  # 2024-01-01T00:00Z
KEY = ("binance", "BTC/USDT", "1h")
H = 3_600_000


def test_migrations_are_recorded_and_rerunning_them_is_a_no_op(warehouse):
    assert warehouse.migrate() == []
    with warehouse.engine.connect() as conn:
        versions = conn.exec_driver_sql("SELECT version FROM titan_schema_migrations").scalars()
        assert "0001_create_ohlcv" in set(versions)
    assert Warehouse(str(warehouse.url)).migrate() == []


def test_postgres_columns_are_numeric_and_timestamptz(pg_url):
    store = Warehouse(pg_url)
    store.migrate()
    with store.engine.connect() as conn:
        types = dict(conn.exec_driver_sql(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'ohlcv'").all())
        key = conn.exec_driver_sql(
            "SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum)) "
            "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'ohlcv'::regclass "
            "AND i.indisprimary").scalar()
    assert types["ts"] == "timestamp with time zone"
    assert {types[c] for c in ("open", "high", "low", "close", "volume")} == {"numeric"}
    assert key == "exchange,symbol,timeframe,ts"


def test_values_round_trip_exactly(warehouse):
    candles = [(T0, "0.00000001", "123456789.12345678", "0.1", "42123.45", "0"),
               (T0 + 3_600_000, "1e-8", "99999999999999.99999999", "0.00000001", "1.10", "7")]
    warehouse.write(*KEY, Batch(candles))

    frame = warehouse.read_candles(*KEY)
    assert list(frame["ts"]) == [datetime(2024, 1, 1, tzinfo=UTC),
                                 datetime(2024, 1, 1, 1, tzinfo=UTC)]
    assert list(frame.iloc[0, 1:]) == [Decimal("0.00000001"), Decimal("123456789.12345678"),
                                       Decimal("0.1"), Decimal("42123.45"), Decimal("0")]
    assert frame.iloc[1]["high"] == Decimal("99999999999999.99999999")
    assert all(isinstance(v, Decimal) for v in frame.iloc[1, 1:])


def test_writing_a_candle_again_updates_it_and_adds_no_row(warehouse):
    warehouse.write(*KEY, Batch([(T0, "1", "2", "0.5", "1.5", "10")]))
    warehouse.write(*KEY, Batch([(T0, "1", "2.5", "0.5", "2", "11")],
                                complete_days=[(date(2024, 1, 1), 1)]))

    frame = warehouse.read_candles(*KEY)
    assert len(frame) == 1
    assert (frame.iloc[0]["high"], frame.iloc[0]["close"]) == (Decimal("2.5"), Decimal("2"))
    assert warehouse.complete_days(*KEY, date(2024, 1, 1), date(2024, 1, 2)) == {date(2024, 1, 1)}


def test_reads_are_bounded_by_time_and_key(warehouse):
    warehouse.write(*KEY, Batch([(T0 + i * 3_600_000, "1", "1", "1", "1", "1")
                                 for i in range(48)]))
    warehouse.write("binance", "ETH/USDT", "1h", Batch([(T0, "2", "2", "2", "2", "2")]))

    day_two = warehouse.read_candles(*KEY, datetime(2024, 1, 2, tzinfo=UTC),
                                     datetime(2024, 1, 3, tzinfo=UTC))
    assert len(day_two) == 24
    assert day_two["ts"].iloc[0] == datetime(2024, 1, 2, tzinfo=UTC)
    summary = warehouse.summarize("binance", "BTC/USDT", datetime(2024, 1, 1, tzinfo=UTC),
                                  datetime(2024, 1, 2, tzinfo=UTC))
    assert summary["1h"].candles == 24
    assert (summary["1h"].first_ms, summary["1h"].last_ms) == (T0, T0 + 23 * 3_600_000)


def test_a_read_spanning_several_slices_returns_each_candle_once_oldest_first(warehouse):
    """Reads are fetched in slices of SLICE_CANDLES slots: candles on either side of a
    slice's edge, and the last one, must each come back once."""
    m = 60_000
    edge = T0 + SLICE_CANDLES * m
    opens = [T0, edge - m, edge, edge + m, T0 + 2 * SLICE_CANDLES * m, T0 + 2_345_678 * m]
    key = ("binance", "BTC/USDT", "1m")
    warehouse.write(*key, Batch([(ts, "1", "2", "0.5", str(i), "9") for i, ts in
                                 enumerate(opens)], open_candles=[(opens[-1] + m, "1", "1",
                                                                   "1", "1", "1")]))

    def stored(**bounds) -> list[int]:
        frame = warehouse.read_candles(*key, **bounds)
        assert list(frame["close"]) == [Decimal(opens.index(ts)) for ts in
                                        frame["ts"].astype("int64") // 1_000_000]
        return list(frame["ts"].astype("int64") // 1_000_000)

    assert stored() == opens
    assert stored(start=datetime(2023, 1, 1, tzinfo=UTC),
                  end=datetime(2030, 1, 1, tzinfo=UTC)) == opens
    assert stored(start=to_datetime(edge)) == opens[2:]
    assert stored(end=to_datetime(edge)) == opens[:2]
    with_open = warehouse.read_candles(*key, include_open=True)
    assert list(with_open["closed"]) == [True] * len(opens) + [False]


def test_reads_return_decimals_of_the_stored_text_and_none_for_no_volume(warehouse):
    """Prices repeat and volumes do not: both kinds of column, with and without NULLs, read
    back as the Decimal of the stored text (None where NULL), or float64 (NaN)."""
    volumes = [None if i % 3 == 0 else f"{i}.{i:04}" for i in range(1500)]
    candles = [(T0 + i * H, "0.00001234", "1.5", "0.00001", str(i % 7), volumes[i])
               for i in range(1500)]
    warehouse.write(*KEY, Batch(candles))

    frame = warehouse.read_candles(*KEY)
    assert [str(v) if v is not None else None for v in frame["volume"]] == volumes
    assert list(frame["open"]) == [Decimal("0.00001234")] * 1500
    assert str(frame["open"].iloc[0]) == "0.00001234"
    assert list(frame["close"]) == [Decimal(i % 7) for i in range(1500)]
    assert frame["ts"].dt.tz is not None and frame["ts"].iloc[-1] == to_datetime(
        T0 + 1499 * H)
    floats = warehouse.read_candles(*KEY, exact=False)
    assert floats["open"].dtype == "float64" and floats["open"].iloc[0] == 0.00001234
    assert floats["volume"].isna().sum() == 500


def test_an_empty_read_has_the_columns_and_types_of_a_full_one(warehouse):
    exact = warehouse.read_candles(*KEY, include_open=True)
    assert list(exact.columns) == ["ts", "open", "high", "low", "close", "volume", "closed"]
    assert (str(exact["ts"].dtype), exact["open"].dtype, exact["closed"].dtype) == (
        "datetime64[ns, UTC]", object, bool)
    assert warehouse.read_candles(*KEY, exact=False)["volume"].dtype == "float64"


def test_a_batch_overlapping_stored_candles_updates_them_and_adds_the_rest(warehouse):
    warehouse.write(*KEY, Batch([(T0 + i * H, "1", "1", "1", "1", "1") for i in range(3)]))
    warehouse.write(*KEY, Batch([(T0 + i * H, "2", "2", "2", "2", "2") for i in range(2, 6)]))

    frame = warehouse.read_candles(*KEY)
    assert list(frame["close"]) == [Decimal(v) for v in "112222"]


def test_a_concurrent_writer_storing_the_same_candles_first_loses_nothing(pg_url):
    """The bulk COPY finds the range empty, meets the other writer's rows at commit, and
    falls back to the upsert: no duplicate, no error, the later values win."""
    store = Warehouse(pg_url)
    store.migrate()
    other = psycopg.connect(pg_url.replace("+psycopg", ""))
    other.execute("INSERT INTO ohlcv (exchange, symbol, timeframe, ts, open, high, low, "
                  "close, volume) VALUES (%s, %s, %s, %s, 9, 9, 9, 9, 9)",
                  (*KEY, datetime(2024, 1, 1, 1, tzinfo=UTC)))
    writer = threading.Thread(target=store.write, args=(*KEY, Batch(
        [(T0 + i * H, "1", "1", "1", "1", "1") for i in range(3)])))
    writer.start()
    # The COPY waits on the other transaction's uncommitted row before it can fail.
    while not other.execute("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a "
                            "USING (pid) WHERE NOT l.granted "
                            "AND a.datname = current_database()").fetchone()[0]:
        pass
    other.commit()
    writer.join()
    other.close()

    frame = store.read_candles(*KEY)
    assert list(frame["close"]) == [Decimal(1)] * 3
    store.dispose()


def test_price_jumps_and_spikes_are_found_in_the_database(warehouse):
    closes = ["100", "130", "100", "100"]  # a spike at 01:00, then 02:00 opens 23% below
    warehouse.write(*KEY, Batch([(T0 + i * H, "100", max(c, "100"), "100", c, "1")
                                 for i, c in enumerate(closes)]))

    flagged = warehouse.price_outliers(*KEY, datetime(2024, 1, 1, tzinfo=UTC),
                                       datetime(2024, 1, 2, tzinfo=UTC), 0.1)
    assert [(ts, jump, spike) for ts, _, _, _, jump, spike in flagged] == [
        (T0 + H, False, True), (T0 + 2 * H, True, False)]
    assert Decimal(flagged[1][3]) == Decimal("130")
    assert warehouse.price_outliers(*KEY, datetime(2024, 1, 1, tzinfo=UTC),
                                    datetime(2024, 1, 2, tzinfo=UTC), 0.5) == []


def test_urls_are_checked_and_passwords_masked():
    assert masked("postgresql+psycopg://u:s3cret@db:5432/titan") == \
        "postgresql+psycopg://u:***@db:5432/titan"
    assert parse_database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(DatabaseUrlError, match="TITAN_DATABASE_URL: backend 'mysql'"):
        parse_database_url("mysql://u@h/db")
    with pytest.raises(DatabaseUrlError, match="TITAN_DATABASE_URL: not a SQLAlchemy"):
        parse_database_url("not a url")
