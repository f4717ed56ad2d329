"""`titan export` on both backends: the files read back in pandas, polars and DuckDB, as they
are, with the values read_candles returns; the selection, the range and bad input."""

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from titan_dagster.cli import main
from titan_dagster.warehouse.batch import Batch

H = 3_600_000
T0 = 1_709_251_200_000  # 2024-03-01T00:00Z
REPO = Path(__file__).resolve().parent.parent


def rows(count: int, open_: str, volume: str | None) -> list[tuple]:
    # Prices with differing numbers of decimals in one column; the scale is the largest.
    return [(T0 + i * H, open_, f"{Decimal(open_) * 2}", open_, f"{Decimal(open_) + i}",
             volume) for i in range(count)]


@pytest.fixture
def stocked(warehouse, monkeypatch):
    warehouse.write("binance", "BTC/USDT", "1h", Batch(
        rows(30, "61234.5", "123456789012.12345678"),
        open_candles=[(T0 + 30 * H, "1", "1", "1", "1", "1")]))
    warehouse.write("binance", "SHIB/USDT", "1h", Batch(rows(30, "0.00001234", "98765")))
    warehouse.write("twelvedata", "EUR/USD", "1d", Batch(rows(3, "1.08345", None)))
    monkeypatch.setenv("TITAN_DATABASE_URL", warehouse.url.render_as_string(False))
    return warehouse


def test_parquet_reads_back_exactly_in_pandas_polars_and_duckdb(stocked, tmp_path, capsys):
    assert main(["export", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "3 files, 63 candles"
    for exchange, symbol, tf in (("binance", "BTC/USDT", "1h"), ("binance", "SHIB/USDT", "1h"),
                                 ("twelvedata", "EUR/USD", "1d")):
        path = tmp_path / exchange / symbol.replace("/", "_") / f"{tf}.parquet"
        expected = stocked.read_candles(exchange, symbol, tf)  # closed candles only
        frame = pd.read_parquet(path)
        assert frame["ts"].tolist() == expected["ts"].tolist()
        for column in ("open", "high", "low", "close", "volume"):
            assert frame[column].tolist() == expected[column].tolist(), (symbol, column)
        polars = pl.read_parquet(path)
        assert isinstance(polars.schema["open"], pl.Decimal)
        assert polars["close"].to_list() == expected["close"].tolist()
        ducked = duckdb.sql(f"SELECT ts, open, volume FROM '{path}' ORDER BY ts").fetchall()
        assert [row[1] for row in ducked] == expected["open"].tolist()
        assert [row[2] for row in ducked] == expected["volume"].tolist()
        assert ducked[0][0] == expected["ts"].iloc[0].to_pydatetime()
    shib = pq.read_schema(tmp_path / "binance" / "SHIB_USDT" / "1h.parquet")
    assert shib.field("open").type == pa.decimal128(38, 8)
    btc = pd.read_parquet(tmp_path / "binance" / "BTC_USDT" / "1h.parquet")
    assert btc["volume"].iloc[0] == Decimal("123456789012.12345678")
    assert pd.read_parquet(tmp_path / "twelvedata" / "EUR_USD" / "1d.parquet")["volume"] \
        .isna().all()


def test_feather_csv_and_float(stocked, tmp_path):
    expected = stocked.read_candles("binance", "SHIB/USDT", "1h")
    assert main(["export", str(tmp_path / "f"), "--symbol", "SHIB/USDT", "--format",
                 "feather"]) == 0
    feather = pd.read_feather(tmp_path / "f" / "binance" / "SHIB_USDT" / "1h.feather")
    assert feather["open"].tolist() == expected["open"].tolist()
    assert main(["export", str(tmp_path / "c"), "--symbol", "SHIB/USDT", "--format",
                 "csv"]) == 0
    text = pd.read_csv(tmp_path / "c" / "binance" / "SHIB_USDT" / "1h.csv", dtype=str)
    assert [Decimal(v) for v in text["open"]] == expected["open"].tolist()
    assert main(["export", str(tmp_path / "x"), "--symbol", "SHIB/USDT", "--float"]) == 0
    floats = pd.read_parquet(tmp_path / "x" / "binance" / "SHIB_USDT" / "1h.parquet")
    assert floats["open"].dtype == "float64"
    assert floats["close"].tolist() == [float(v) for v in expected["close"]]


def test_the_range_is_days_with_the_end_included(stocked, tmp_path):
    assert main(["export", str(tmp_path), "--exchange", "binance", "--timeframe", "1h",
                 "--start", "2024-03-02", "--end", "2024-03-02"]) == 0
    frame = pd.read_parquet(tmp_path / "binance" / "BTC_USDT" / "1h.parquet")
    assert frame["ts"].min() == datetime(2024, 3, 2, tzinfo=UTC)
    assert len(frame) == 6  # 30 hourly candles from March 1: six of them on March 2


@pytest.mark.parametrize("args, message", [
    (["--symbol", "DOGE/USDT"], "no symbol 'DOGE/USDT' in the warehouse"),
    (["--exchange", "kraken"], "no exchange 'kraken' in the warehouse"),
    (["--timeframe", "1m"], "no timeframe '1m' in the warehouse"),
    (["--start", "2024-03-05", "--end", "2024-03-01"], "--end 2024-03-01 is before --start"),
])
def test_bad_selections_name_what_is_wrong(stocked, tmp_path, capsys, args, message):
    assert main(["export", str(tmp_path / "out"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_file_as_out_dir_and_a_malformed_day_are_refused(stocked, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    done = subprocess.run([sys.executable, "-m", "titan_dagster.cli", "export", str(taken)],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2 and "exists and is not a directory" in done.stderr
    assert taken.read_text() == "mine"
    done = subprocess.run([sys.executable, "-m", "titan_dagster.cli", "export", str(tmp_path),
                           "--start", "2024-02-30"], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 2 and "'2024-02-30' is not a day" in done.stderr
