"""`titan list-data` on SQLite and PostgreSQL: every column of every series equals what plain
SQL counts in the tables, in all three formats; the filters, the empty warehouse and the
errors; and the console script's wiring, once as a subprocess."""

import csv
import io
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.list_data_warehouse import EUR_USD_CLOSED, EXPECTED, stock
from titan_dagster.cli import main
from titan_dagster.warehouse import DATABASE_URL_ENV, Warehouse

REPO = Path(__file__).resolve().parents[1]
STEP_S = {"15m": 900, "1h": 3600, "1d": 86400}
CLOSED_MARKET = {("twelvedata", "EUR/USD", "1h"): {ts // 1000 for ts in EUR_USD_CLOSED}}
COUNTS = ("candles", "open_candles", "complete_days", "missing", "exchange_gaps",
          "quarantined")
TIMES = ("first_candle", "last_candle", "last_update")
HEADERS = {"exchange": "exchange", "symbol": "symbol", "tf": "timeframe",
           "first": "first_candle", "last": "last_candle", "candles": "candles",
           "open": "open_candles", "complete days": "complete_days", "missing": "missing",
           "exchange gaps": "exchange_gaps", "quarantined": "quarantined",
           "last update": "last_update"}


@pytest.fixture
def stocked(warehouse):
    started = int(time.time())
    stock(warehouse)
    return warehouse, started


def url_of(warehouse: Warehouse) -> str:
    return warehouse.url.render_as_string(hide_password=False)


def list_data(monkeypatch, capsys, url: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    code = main(["list-data", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def counted_in_sql(warehouse: Warehouse) -> list[dict]:
    """Each series as the tables hold it, counted one series at a time without the code
    under test."""
    tables = ("ohlcv", "ohlcv_complete_days", "ohlcv_rejects", "ohlcv_gaps", "ohlcv_unserved")
    with warehouse.engine.connect() as conn:
        keys = conn.execute(sa.text(" UNION ".join(
            f"SELECT exchange, symbol, timeframe FROM {t}" for t in tables))).all()
        return [count_series(conn, warehouse.backend, *key)
                for key in sorted(keys, key=lambda k: (k[0], k[1], STEP_S[k[2]]))]


def count_series(conn, backend: str, e: str, s: str, tf: str) -> dict:
    """The open-time grid from first to last, less what is stored, confirmed absent, not
    served, quarantined on the grid, or outside market hours, is missing."""
    epoch = {"postgresql": "CAST(floor(extract(epoch FROM {})) AS bigint)",
             "sqlite": "CAST(strftime('%s', {}) AS INTEGER)"}[backend].format
    key = "exchange = :e AND symbol = :s AND timeframe = :tf"
    step = STEP_S[tf]

    def q(sql: str):
        return conn.execute(sa.text(sql), {"e": e, "s": s, "tf": tf})

    def slots(table: str) -> set[int]:
        return {slot for a, b in q(f"SELECT {epoch('start_ts')}, {epoch('end_ts')} FROM {table} "
                                   f"WHERE {key}").all() for slot in range(a, b, step)}

    stored = set(q(f"SELECT {epoch('ts')} FROM ohlcv WHERE {key} AND closed = TRUE").scalars())
    rejected = {ms // 1000 for ms in q(f"SELECT ts_ms FROM ohlcv_rejects WHERE {key} "
                                       "AND ts_ms IS NOT NULL").scalars()
                if ms % (step * 1000) == 0}
    grid = set(range(min(stored), max(stored) + step, step)) if stored else set()
    missing = grid - stored - slots("ohlcv_gaps") - slots("ohlcv_unserved") - rejected \
        - CLOSED_MARKET.get((e, s, tf), set())
    updated = q(f"SELECT max({epoch('at')}) FROM ("
                f"SELECT completed_at AS at FROM ohlcv_complete_days WHERE {key} "
                f"UNION ALL SELECT confirmed_at FROM ohlcv_gaps WHERE {key} "
                f"UNION ALL SELECT rejected_at FROM ohlcv_rejects WHERE {key} "
                f"UNION ALL SELECT recorded_at FROM ohlcv_unserved WHERE {key}) AS w").scalar()
    return {
        "exchange": e, "symbol": s, "timeframe": tf,
        "first_candle": iso(min(stored, default=None)),
        "last_candle": iso(max(stored, default=None)),
        "candles": len(stored),
        "open_candles": q(f"SELECT count(*) FROM ohlcv WHERE {key} AND closed = FALSE").scalar(),
        "complete_days": q(f"SELECT count(*) FROM ohlcv_complete_days WHERE {key}").scalar(),
        "missing": len(missing),
        "exchange_gaps": q(f"SELECT coalesce(sum(candles), 0) FROM ohlcv_gaps WHERE {key}")
        .scalar(),
        "quarantined": q(f"SELECT count(*) FROM ohlcv_rejects WHERE {key}").scalar(),
        "last_update": iso(updated)}


def iso(epoch_s: int | None) -> str | None:
    return None if epoch_s is None else \
        datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_csv(text: str) -> list[dict]:
    return [{key: None if value == "" else int(value) if key in COUNTS else value
             for key, value in row.items()} for row in csv.DictReader(io.StringIO(text))]


def from_table(text: str) -> list[dict]:
    """Cells are separated by two spaces or more; a time reads '2024-03-01 00:00:00'."""
    header, rule, *lines = text.splitlines()
    assert set(rule) == {"-", " "}
    keys = [HEADERS[name] for name in re.split(r" {2,}", header)]
    for key in COUNTS:  # right-aligned under their header
        name = next(name for name, k in HEADERS.items() if k == key)
        end = header.index(name) + len(name)
        assert all(line[end - 1].isdigit() and line[end:end + 1] in ("", " ")
                   for line in lines), key
    rows = []
    for line in lines:
        cells = dict(zip(keys, re.split(r" {2,}", line), strict=True))
        rows.append({key: None if cell == "-" else int(cell) if key in COUNTS
                     else cell.replace(" ", "T") + "Z" if key in TIMES else cell
                     for key, cell in cells.items()})
    return rows


def test_every_column_of_every_series_is_what_the_tables_hold(stocked, monkeypatch, capsys):
    warehouse, started = stocked
    code, out, err = list_data(monkeypatch, capsys, url_of(warehouse), "--format", "json")
    listed = json.loads(out)

    assert (code, err) == (0, "")
    assert listed == counted_in_sql(warehouse)
    assert {(r["exchange"], r["symbol"], r["timeframe"]):
            tuple(r[k] for k in ("missing", "exchange_gaps", "quarantined", "candles",
                                 "open_candles", "complete_days")) for r in listed} == EXPECTED
    # The writes happened during this test: a real write time, not a candle's time.
    written = [r["last_update"] for r in listed if r["last_update"] is not None]
    assert len(written) == 5
    assert all(iso(started) <= at <= iso(int(time.time())) for at in written)
    # On a 24/7 grid the forex weekend would be 48 missing candles more.
    eur_usd = listed[-1]
    assert (eur_usd["symbol"], eur_usd["first_candle"], eur_usd["last_candle"]) == \
        ("EUR/USD", "2024-03-01T00:00:00Z", "2024-03-04T11:00:00Z")


def test_table_and_csv_say_what_json_says(stocked, monkeypatch, capsys):
    url = url_of(stocked[0])
    outputs = {fmt: list_data(monkeypatch, capsys, url, "--format", fmt)
               for fmt in ("json", "csv", "table")}
    assert {fmt: (code, err) for fmt, (code, _, err) in outputs.items()} == \
        dict.fromkeys(outputs, (0, ""))
    listed = json.loads(outputs["json"][1])
    assert len(listed) == len(EXPECTED)
    assert from_csv(outputs["csv"][1]) == listed
    assert from_table(outputs["table"][1]) == listed
    assert list_data(monkeypatch, capsys, url)[1] == outputs["table"][1]  # the default


def test_filters_select_an_exchange_a_symbol_or_both(stocked, monkeypatch, capsys):
    url = url_of(stocked[0])

    def keys(*args: str) -> list[tuple]:
        code, out, _ = list_data(monkeypatch, capsys, url, "--format", "json", *args)
        assert code == 0
        return [(r["exchange"], r["symbol"], r["timeframe"]) for r in json.loads(out)]

    assert keys("--exchange", "okx") == [k for k in EXPECTED if k[0] == "okx"]
    assert keys("--symbol", "BTC/USDT") == [k for k in EXPECTED if k[1] == "BTC/USDT"]
    assert keys("--exchange", "binance", "--symbol", "ETH/USDT") == \
        [("binance", "ETH/USDT", "1h")]
    # A series known only from days before its listing is still a series stored.
    assert keys("--symbol", "SOL/USDT") == [("okx", "SOL/USDT", "1h")]


@pytest.mark.parametrize(("args", "message"), [
    (["--exchange", "kraken"],
     "no exchange 'kraken' in the warehouse (stored: binance, okx, twelvedata)"),
    (["--symbol", "DOGE/USDT"], "no symbol 'DOGE/USDT' in the warehouse (stored: BTC/USDT, "
                                "ETH/USDT, EUR/USD, SOL/USDT)"),
    (["--exchange", "okx", "--symbol", "EUR/USD"],
     "no symbol 'EUR/USD' on okx in the warehouse (stored there: BTC/USDT, ETH/USDT, "
     "SOL/USDT)"),
])
def test_a_filter_naming_nothing_stored_is_an_error_naming_it(stocked, monkeypatch, capsys,
                                                              args, message):
    code, out, err = list_data(monkeypatch, capsys, url_of(stocked[0]), *args)
    assert (code, out, err) == (2, "", f"titan list-data: {message}\n")


def test_an_empty_warehouse_says_so(warehouse, monkeypatch, capsys):
    url = url_of(warehouse)
    line = f"the warehouse {warehouse.display_url} holds no series yet\n"
    assert list_data(monkeypatch, capsys, url) == (0, line, "")
    # Machine formats stay parseable: the line goes to stderr.
    assert list_data(monkeypatch, capsys, url, "--format", "json") == (0, "[]\n", line)
    code, out, err = list_data(monkeypatch, capsys, url, "--format", "csv")
    assert (code, out.splitlines()[0].split(",")[:3], err) == \
        (0, ["exchange", "symbol", "timeframe"], line)


def test_a_warehouse_not_migrated_unreachable_or_misnamed_is_an_error(pg_url, tmp_path,
                                                                      monkeypatch, capsys):
    code, out, err = list_data(monkeypatch, capsys, pg_url)
    assert (code, out) == (2, "")
    assert err == f"titan list-data: the warehouse {pg_url} is not migrated yet (a Dagster " \
                  "run migrates it)\n"

    code, _, err = list_data(monkeypatch, capsys, "postgresql+psycopg://u:s3cret@127.0.0.1:1/x")
    assert code == 2
    assert err.startswith("titan list-data: cannot read the warehouse "
                          "postgresql+psycopg://u:***@127.0.0.1:1/x: ")
    assert "s3cret" not in err and len(err.splitlines()) == 1

    missing = tmp_path / "absent.db"
    code, _, err = list_data(monkeypatch, capsys, f"sqlite:///{missing}")
    assert (code, err) == (2, f"titan list-data: cannot read the warehouse sqlite:///{missing}: "
                              "unable to open database file\n")
    assert not missing.exists()  # a read never creates a warehouse

    code, _, err = list_data(monkeypatch, capsys, "mysql://db/x")
    assert (code, err) == (2, "titan list-data: TITAN_DATABASE_URL: backend 'mysql' is not "
                              "supported (use postgresql+psycopg://... or sqlite:///path)\n")


def test_the_console_script_runs_it(sqlite_url, monkeypatch, capsys):
    warehouse = Warehouse(sqlite_url)
    warehouse.migrate()
    stock(warehouse)
    warehouse.dispose()
    done = subprocess.run([sys.executable, "-m", "titan_dagster.cli", "list-data",
                           "--format", "json", "--exchange", "binance"], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", DATABASE_URL_ENV: sqlite_url})
    assert (done.returncode, done.stderr) == (0, "")
    listed = json.loads(done.stdout)
    assert [r["symbol"] for r in listed] == ["BTC/USDT", "BTC/USDT", "ETH/USDT"]
    assert listed == json.loads(list_data(monkeypatch, capsys, sqlite_url, "--format", "json",
                                          "--exchange", "binance")[1])
