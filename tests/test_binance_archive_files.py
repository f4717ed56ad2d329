"""titan_dagster.sources.binance_archive: the archive's layout, and files verified and parsed
as downloaded over HTTP from the Binance emulator's archive, plus hand-made broken files."""

import hashlib
import io
import urllib.request
import zipfile

import numpy as np
import pytest

from titan_dagster.emulator import ArchiveSettings, BinanceEmulator, Fault
from titan_dagster.quality.validation import check_columns, check_rows
from titan_dagster.sources.binance_archive import (
    ArchiveFile,
    ChecksumMismatch,
    MalformedFile,
    parse,
    plan,
    verify,
)

MINUTE = 60_000
DAY = 24 * 60 * MINUTE
NOW = 1_740_141_296_789  # 2025-02-21T12:34:56.789Z
JAN_2024 = ArchiveFile("BTCUSDT", "1m", 2024, 1)
DAY_FILE = ArchiveFile("BTCUSDT", "1h", 2025, 2, 20)
ROW = ("{},42000.10000000,42100.00000000,41900.00000000,42050.00000000,1.50000000,{},"
       "63000.0,10,0.7,29400.0,0")


# The futures files' header (binance-public-data issue #283).
HEADER = ("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
          "taker_buy_volume,taker_buy_quote_volume,ignore")


@pytest.fixture(scope="module")
def emu():
    with BinanceEmulator({"BTC/USDT": "2017-08-17"}, clock=lambda: NOW,
                         archive=ArchiveSettings(header=lambda f: f.day == 19)) as started:
        yield started


def download(emu: BinanceEmulator, file: ArchiveFile) -> tuple[bytes, str]:
    with urllib.request.urlopen(file.url(emu.base_url), timeout=10) as answer:
        data = answer.read()
    with urllib.request.urlopen(file.url(emu.base_url) + ".CHECKSUM", timeout=10) as answer:
        return data, answer.read().decode()


def zipped(csv: str, name: str = "x.csv", more: int = 0) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, csv)
        for i in range(more):
            archive.writestr(f"other{i}.csv", csv)
    return out.getvalue()


def rows_of(file: ArchiveFile, count: int, micro: bool = False) -> list[str]:
    step = 60 * MINUTE if file.interval == "1h" else MINUTE
    scale, last = (1000, 999) if micro else (1, 0)
    return [ROW.format((file.start_ms + i * step) * scale,
                       (file.start_ms + (i + 1) * step - 1) * scale + last)
            for i in range(count)]


# -- layout --------------------------------------------------------------------------------

def test_urls_follow_the_archive_layout():
    month = ArchiveFile("BNBUSDT", "1m", 2019, 1)
    day = ArchiveFile("BTCUSDT", "1h", 2023, 10, 27)

    # The examples of binance-public-data's README and freqtrade's docstring.
    assert month.url() == ("https://data.binance.vision/data/spot/monthly/klines/BNBUSDT/1m/"
                           "BNBUSDT-1m-2019-01.zip")
    assert day.url() == ("https://data.binance.vision/data/spot/daily/klines/BTCUSDT/1h/"
                         "BTCUSDT-1h-2023-10-27.zip")
    assert day.checksum_path.endswith("/BTCUSDT-1h-2023-10-27.zip.CHECKSUM")
    assert ArchiveFile.from_path(month.path) == (month, False)
    assert ArchiveFile.from_path(day.checksum_path) == (day, True)
    assert ArchiveFile.from_path("/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2023-10.zip") \
        is None
    with pytest.raises(ValueError):
        ArchiveFile("BTCUSDT", "7m", 2024, 1)  # not a divisor of a day


def test_a_file_covers_its_day_or_month():
    december = ArchiveFile("BTCUSDT", "1m", 2024, 12)
    assert (december.start_ms, december.end_ms) == (1_733_011_200_000, 1_735_689_600_000)
    leap = ArchiveFile("BTCUSDT", "1m", 2024, 2)
    assert (leap.end_ms - leap.start_ms) // DAY == 29 and len(leap.days()) == 29
    assert leap.days()[-1] == ArchiveFile("BTCUSDT", "1m", 2024, 2, 29)
    day = ArchiveFile("BTCUSDT", "1m", 2024, 2, 29)
    assert day.end_ms - day.start_ms == DAY and day.days() == [day]


def test_plan_takes_closed_months_then_closed_days():
    start = ArchiveFile("BTCUSDT", "1m", 2024, 11, 15).start_ms + 5 * MINUTE

    files = plan("BTCUSDT", "1m", start, NOW, published_until_ms=NOW - DAY)

    names = [f.name for f in files]
    assert names[:3] == ["BTCUSDT-1m-2024-11.zip", "BTCUSDT-1m-2024-12.zip",
                         "BTCUSDT-1m-2025-01.zip"]
    # February up to the 19th: the 20th ends within the day before NOW.
    assert names[3:] == [f"BTCUSDT-1m-2025-02-{d:02d}.zip" for d in range(1, 20)]
    # A month not published yet is taken day by day; a range inside a day takes that day.
    early = plan("BTCUSDT", "1m", 1_738_368_000_000, 1_738_454_400_000 + 1,
                 published_until_ms=NOW)
    assert [f.name for f in early] == ["BTCUSDT-1m-2025-02-01.zip", "BTCUSDT-1m-2025-02-02.zip"]
    assert plan("BTCUSDT", "1m", NOW, NOW + DAY, published_until_ms=NOW) == []


# -- files from the emulator -------------------------------------------------------------

def rows_of_klines(klines) -> list[tuple]:
    return list(zip(klines.ts.tolist(), *klines.values, strict=True))


@pytest.mark.parametrize("file", [JAN_2024, ArchiveFile("BTCUSDT", "1m", 2025, 1), DAY_FILE,
                                  ArchiveFile("BTCUSDT", "1h", 2025, 2, 19)],
                         ids=lambda f: f.name)
def test_a_downloaded_file_verifies_and_parses_to_the_rest_candles(emu, file):
    data, checksum = download(emu, file)
    verify(file, data, checksum)

    klines = parse(file, data)

    rest = emu.candles("BTC/USDT", file.interval, file.start_ms, file.end_ms)
    assert klines.ts.dtype == np.int64
    assert len(klines.values) == 5
    rows = rows_of_klines(klines)
    assert [list(row) for row in rows] == [row[:6] for row in rest]
    # Rows cut to a stretch of the file's period keep only that stretch.
    cut = klines.between(rest[1][0], rest[3][0])
    assert rows_of_klines(cut) == [tuple(row[:6]) for row in rest[1:3]]
    # What the REST path does next with a page works on the archive's rows as they are.
    checked = check_rows(rows,
                         60 * MINUTE if file.interval == "1h" else MINUTE,
                         file.start_ms, file.end_ms, NOW)
    assert len(checked.valid) == len(rest) and not checked.rejects


def test_corrupt_downloads_fail_verification_naming_the_file(emu):
    damaged, stale = ArchiveFile("BTCUSDT", "1h", 2024, 3), ArchiveFile("BTCUSDT", "1h", 2024, 4)
    emu.archive.corrupt(damaged.path, "zip")
    emu.archive.corrupt(stale.path, "checksum")

    for file in (damaged, stale):
        data, checksum = download(emu, file)
        with pytest.raises(ChecksumMismatch, match=file.name):
            verify(file, data, checksum)
    with pytest.raises(MalformedFile, match="BTCUSDT-1h-2024-03.zip: not a readable zip"):
        parse(damaged, download(emu, damaged)[0])


def test_a_truncated_download_fails_both_ways(emu):
    file = ArchiveFile("BTCUSDT", "1h", 2024, 5)
    emu.inject(Fault("truncated"), path=file.path)
    data, checksum = download(emu, file)

    with pytest.raises(ChecksumMismatch, match="BTCUSDT-1h-2024-05.zip: sha256"):
        verify(file, data, checksum)
    with pytest.raises(MalformedFile, match="BTCUSDT-1h-2024-05.zip: not a readable zip"):
        parse(file, data)


def test_a_checksum_must_name_the_file_and_look_like_sha256sum():
    data = zipped("")
    digest = hashlib.sha256(data).hexdigest()

    verify(DAY_FILE, data, f"{digest}  {DAY_FILE.name}\n")
    verify(DAY_FILE, data, f"{digest.upper()} *{DAY_FILE.name}")  # binary-mode marker
    with pytest.raises(ChecksumMismatch, match="CHECKSUM is for BTCUSDT-1h-2025-02-21.zip"):
        verify(DAY_FILE, data, f"{digest}  BTCUSDT-1h-2025-02-21.zip")
    with pytest.raises(ChecksumMismatch, match="not '<sha256>  <name>'"):
        verify(DAY_FILE, data, "<html>404</html>")


# -- hand-made files -----------------------------------------------------------------------

def test_header_and_units_are_read_from_each_file():
    ms = rows_of(DAY_FILE, 3)
    us = rows_of(DAY_FILE, 3, micro=True)
    expected = [DAY_FILE.start_ms + i * 3_600_000 for i in range(3)]

    for lines in (ms, us, [HEADER, *ms], [HEADER, *us]):
        klines = parse(DAY_FILE, zipped("\n".join(lines) + "\n"))
        assert klines.ts.tolist() == expected
        assert klines.values[3] == ["42050.00000000"] * 3
    # Without a final newline, with CRLF, header alone, nothing at all.
    assert len(parse(DAY_FILE, zipped("\n".join(us)))) == 3
    assert len(parse(DAY_FILE, zipped("\r\n".join(ms) + "\r\n"))) == 3
    assert len(parse(DAY_FILE, zipped(HEADER + "\n"))) == 0
    assert len(parse(DAY_FILE, zipped(""))) == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (ROW.format(1_740_009_600_000, 1) + ",7", "line 2: 13 fields, expected 12"),
        (",".join(ROW.split(",")[:11]).format(1_740_009_600_000, 1), "line 2: 11 fields"),
        ("", "line 2: 1 fields"),
        (ROW.format("1740009600000.0", 1), "line 2: field 1 '1740009600000.0' is not an integer"),
        (ROW.format(1_740_009_600_000_000, 1), "line 2: open time 1740009600000000 is in other "
                                               "units than line 1's"),
        (ROW.format(1_740_096_000_000, 1), "line 2: open time 1740096000000 ms is outside"),
    ],
    ids=["13 fields", "11 fields", "blank", "float time", "mixed units", "outside the day"],
)
def test_a_bad_row_is_rejected_naming_file_and_line(line, message):
    csv = "\n".join([rows_of(DAY_FILE, 1)[0], line, rows_of(DAY_FILE, 3)[2]]) + "\n"

    with pytest.raises(MalformedFile, match=f"^BTCUSDT-1h-2025-02-20.zip {message}"):
        parse(DAY_FILE, zipped(csv))


def test_bad_values_are_the_candle_schemas_to_judge_as_on_a_rest_page():
    lines = rows_of(DAY_FILE, 3)
    lines[1] = lines[1].replace("42050.00000000", "NaN")
    lines[2] = lines[2].replace("1.50000000", "1e3")

    klines = parse(DAY_FILE, zipped("\n".join(lines) + "\n"))
    checked = check_columns(klines.ts, klines.values, 60 * MINUTE, DAY_FILE.start_ms,
                            DAY_FILE.end_ms, NOW)

    assert [reject.ts for reject in checked.rejects] == [klines.ts[1]]
    assert "not_null" in checked.rejects[0].rule
    assert [candle[0] for candle in checked.valid] == [klines.ts[0], klines.ts[2]]
    assert checked.valid[1][5] == "1000"


def test_lines_are_counted_after_a_header_and_microseconds_must_be_whole_ms():
    us = rows_of(DAY_FILE, 2, micro=True)
    us[1] = us[1].replace("000000,", "000001,", 1)

    with pytest.raises(MalformedFile, match="line 3: open time 1740013200000001 µs is not a whole"):
        parse(DAY_FILE, zipped("\n".join([HEADER, *us])))


def test_a_zip_must_hold_one_file():
    with pytest.raises(MalformedFile, match="holds 2 files"):
        parse(DAY_FILE, zipped("", more=1))
    with pytest.raises(MalformedFile, match="not a readable zip"):
        parse(DAY_FILE, b"<html>not found</html>")

