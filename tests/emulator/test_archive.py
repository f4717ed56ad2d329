"""The Binance emulator's kline archive (data.binance.vision's layout) over HTTP: files of
exactly the REST rows, CHECKSUMs, publication, the µs switch, headers and test hooks. Read
here by hand, independently of titan_dagster.sources.binance_archive."""

import hashlib
import io
import json
import time
import urllib.error
import urllib.request
import zipfile

import pytest

from titan_dagster.emulator import ArchiveSettings, BinanceEmulator, Fault
from titan_dagster.emulator.binance_archive import CSV_HEADER
from titan_dagster.sources.binance_archive import ArchiveFile

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_740_141_296_789  # 2025-02-21T12:34:56.789Z
FEB_21 = NOW - NOW % DAY
JAN_2024 = ArchiveFile("BTCUSDT", "1m", 2024, 1)
JAN_2025 = ArchiveFile("BTCUSDT", "1m", 2025, 1)


def emulator(**settings) -> BinanceEmulator:
    return BinanceEmulator({"BTC/USDT": "2017-08-17", "SOL/USDT": "2020-08-11T06:13:00"},
                           clock=lambda: NOW, archive=ArchiveSettings(**settings))


@pytest.fixture
def emu():
    with emulator() as started:
        yield started


def get(emu: BinanceEmulator, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(emu.base_url + path, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def unzipped(data: bytes) -> tuple[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (name,) = archive.namelist()
        return name, archive.read(name)


def rest_rows(csv: bytes) -> list[list]:
    """A CSV's rows in the REST layout: times as int ms (from µs: open // 1000, close's
    last µs to its last ms), the other fields as in the REST row."""
    rows = []
    for line in csv.decode().splitlines():
        f = line.split(",")
        open_time, close_time = int(f[0]), int(f[6])
        if open_time > 10**14:
            assert open_time % 1000 == 0 and close_time % 1000 == 999
            open_time, close_time = open_time // 1000, close_time // 1000
        rows.append([open_time, *f[1:6], close_time, f[7], int(f[8]), *f[9:]])
    return rows


@pytest.mark.parametrize("file", [JAN_2024, JAN_2025, ArchiveFile("SOLUSDT", "1h", 2020, 8),
                                  ArchiveFile("BTCUSDT", "5m", 2025, 2, 20)],
                         ids=lambda f: f.name)
def test_a_file_holds_exactly_the_rest_rows_and_its_checksum_verifies(emu, file):
    status, data = get(emu, file.path)
    checksum_status, checksum = get(emu, file.checksum_path)

    assert (status, checksum_status) == (200, 200)
    name, csv = unzipped(data)
    assert name == file.name.removesuffix(".zip") + ".csv"
    assert rest_rows(csv) == emu.candles(file.market_id, file.interval, file.start_ms,
                                         file.end_ms)
    assert checksum.decode() == f"{hashlib.sha256(data).hexdigest()}  {file.name}\n"
    with emulator() as other:  # the same candles make the same bytes
        assert get(other, file.path) == (200, data)


def test_the_archive_agrees_with_the_rest_klines_endpoint(emu):
    day = ArchiveFile("BTCUSDT", "1h", 2025, 2, 20)
    url = f"{emu.base_url}/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={day.start_ms}"
    with urllib.request.urlopen(url + "&limit=24", timeout=10) as answer:
        served = json.load(answer)

    assert rest_rows(unzipped(get(emu, day.path)[1])[1]) == served


def test_the_partial_month_of_a_listing_starts_at_the_first_candle(emu):
    rows = rest_rows(unzipped(get(emu, ArchiveFile("SOLUSDT", "1m", 2020, 8).path)[1])[1])

    assert rows[0][0] == 1_597_126_380_000  # 2020-08-11T06:13Z
    assert get(emu, ArchiveFile("SOLUSDT", "1m", 2020, 7).path)[0] == 404


def test_times_are_microseconds_in_files_of_days_from_2025_on(emu):
    last_ms = unzipped(get(emu, ArchiveFile("BTCUSDT", "1h", 2024, 12, 31).path)[1])[1]
    first_us = unzipped(get(emu, ArchiveFile("BTCUSDT", "1h", 2025, 1, 1).path)[1])[1]

    assert last_ms.split(b",")[0] == b"1735603200000"
    # As in the real archive (binance-public-data issue #386): close at the last µs.
    assert first_us.split(b",")[0] == b"1735689600000000"
    assert first_us.split(b",")[6] == b"1735693199999999"
    assert unzipped(get(emu, JAN_2025.path)[1])[1].startswith(b"1735689600000000,")
    assert unzipped(get(emu, JAN_2024.path)[1])[1].startswith(b"1704067200000,")


def test_a_header_rule_picks_the_files_with_column_names():
    with emulator(header=lambda f: f.day == 20) as emu:
        with_header = unzipped(get(emu, ArchiveFile("BTCUSDT", "1h", 2025, 2, 20).path)[1])[1]
        without = unzipped(get(emu, ArchiveFile("BTCUSDT", "1h", 2025, 2, 19).path)[1])[1]

    assert with_header.startswith(CSV_HEADER)
    assert with_header.count(b"\n") == 25 and without.count(b"\n") == 24
    assert without[:1].isdigit()


def test_files_appear_once_their_period_is_over_plus_the_delay():
    yesterday = ArchiveFile("BTCUSDT", "1m", 2025, 2, 20)
    today = ArchiveFile("BTCUSDT", "1m", 2025, 2, 21)
    february = ArchiveFile("BTCUSDT", "1m", 2025, 2)
    with emulator() as emu:
        assert [get(emu, f.path)[0] for f in (yesterday, today, february, JAN_2025)] == [
            200, 404, 404, 200]
    late = 12 * HOUR + 35 * MINUTE  # just after NOW's time of day
    with emulator(daily_delay_ms=late, monthly_delay_ms=21 * DAY) as emu:
        assert [get(emu, f.path)[0] for f in (yesterday, JAN_2025, JAN_2024)] == [
            404, 404, 200]
        assert get(emu, yesterday.checksum_path)[0] == 404


def test_unknown_or_malformed_paths_answer_404_like_s3(emu):
    for path in ["/data/spot/monthly/klines/XYZUSDT/1m/XYZUSDT-1m-2024-01.zip",
                 "/data/spot/monthly/klines/BTCUSDT/1s/BTCUSDT-1s-2024-01.zip",
                 "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-05.zip",
                 "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02-30.zip",
                 "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.csv"]:
        status, body = get(emu, path)
        assert status == 404 and b"<Code>NoSuchKey</Code>" in body, path


def test_a_hidden_zip_takes_its_checksum_a_hidden_checksum_only_itself(emu):
    other = ArchiveFile("BTCUSDT", "1m", 2024, 2)
    emu.archive.hide(JAN_2024.path)
    emu.archive.hide(other.checksum_path)

    assert [get(emu, p)[0] for p in (JAN_2024.path, JAN_2024.checksum_path,
                                     other.path, other.checksum_path)] == [404, 404, 200, 404]


def test_corrupt_files_fail_their_checksum(emu):
    damaged, stale = JAN_2024, ArchiveFile("BTCUSDT", "1h", 2024, 1)
    emu.archive.corrupt(damaged.path, "zip")
    emu.archive.corrupt(stale.path, "checksum")

    data, checksum = get(emu, damaged.path)[1], get(emu, damaged.checksum_path)[1]
    assert hashlib.sha256(data).hexdigest() != checksum.split()[0].decode()
    with pytest.raises(zipfile.BadZipFile):
        unzipped(data)
    data, checksum = get(emu, stale.path)[1], get(emu, stale.checksum_path)[1]
    assert hashlib.sha256(data).hexdigest() != checksum.split()[0].decode()
    assert rest_rows(unzipped(data)[1]) == emu.candles("BTC/USDT", "1h", stale.start_ms,
                                                       stale.end_ms)
    with pytest.raises(ValueError):
        emu.archive.corrupt(stale.path, "sideways")


def test_downloads_are_logged_and_faults_target_a_file():
    with BinanceEmulator({"BTC/USDT": "2017-08-17"}, clock=lambda: NOW,
                         max_requests_per_second=1) as emu:
        emu.inject(Fault("truncated"), path=JAN_2024.path)
        emu.inject(Fault("status", 503), path=JAN_2024.checksum_path)
        status, half = get(emu, JAN_2024.path)
        assert status == 200 and len(half) < len(get(emu, JAN_2024.path)[1])
        assert get(emu, JAN_2024.checksum_path)[0] == 503
        for _ in range(3):  # the API's rate limit is not the file host's
            assert get(emu, JAN_2024.checksum_path)[0] == 200
        with urllib.request.urlopen(emu.base_url + JAN_2024.path, timeout=10) as answer:
            assert answer.headers["Content-Type"] == "application/zip"
            assert answer.headers["x-mbx-used-weight"] is None

        assert emu.count_archive() == 3
        assert emu.count_archive("BTCUSDT", "1m", checksums=True) == 4
        assert emu.count_archive("BTC/USDT", "1h") == 0
        assert emu.count(path=None) == 7 and emu.count() == 0  # no klines request


def test_files_follow_market_changes(emu):
    file = ArchiveFile("BTCUSDT", "1h", 2024, 1, 2)
    before = get(emu, file.path)[1]
    emu.set_candle("BTC/USDT", "1h", file.start_ms, close="1.00000000")
    emu.add_hole("BTC/USDT", file.start_ms + HOUR, file.start_ms + 3 * HOUR)

    rows = rest_rows(unzipped(get(emu, file.path)[1])[1])
    assert rows[0][4] == "1.00000000" and len(rows) == 22
    assert get(emu, file.path)[1] != before
    assert rows == emu.candles("BTC/USDT", "1h", file.start_ms, file.end_ms)


def test_a_month_of_1m_is_built_fast_and_then_cached(emu):
    started = time.perf_counter()
    status, data = get(emu, JAN_2024.path)
    built = time.perf_counter() - started
    started = time.perf_counter()
    assert get(emu, JAN_2024.path) == (status, data)
    cached = time.perf_counter() - started

    assert unzipped(data)[1].count(b"\n") == 44_640
    print(f"\nmonth of 1m: built and served in {built:.3f}s, cached in {cached:.3f}s, "
          f"{len(data) / 1e6:.1f} MB")
    assert built < 5 and cached < built
