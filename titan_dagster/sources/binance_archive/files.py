"""A downloaded archive file checked against its CHECKSUM and read into the candles the REST
path gives: open time in epoch ms UTC and open, high, low, close, volume as the decimal
text served (the ingest path's exact representation; never floats).

What the real archive (https://data.binance.vision) is, as verified, and where from:
- Layout: data/spot/monthly/klines/<SYMBOL>/<interval>/<SYMBOL>-<interval>-<YYYY>-<MM>.zip
  and data/spot/daily/klines/.../<SYMBOL>-<interval>-<YYYY>-<MM>-<DD>.zip, each beside a
  <file>.zip.CHECKSUM checked with `sha256sum -c` ("<sha256 hex>  <file name>"): the
  README of github.com/binance/binance-public-data (sections "Where do I access it",
  "CHECKSUM"); freqtrade's freqtrade/exchange/binance_public_data.py builds the same daily
  URLs. One zip holds one CSV of the 12 columns of /api/v3/klines (README, "Klines").
- Publication: "daily data becoming available the next day and monthly data at the
  beginning of next month" (README; a later README says "the first monday of the month").
  freqtrade takes days up to two days ago only; a missing file answers 404 (freqtrade's
  Http404 handling).
- Spot timestamps are microseconds from 2025-01-01 on (README note; issue #386 shows
  1735689600000000 and close time 1735689600999999, i.e. (open + interval) µs - 1).
  freqtrade tells the units apart by value (> 1e13); so does this module.
- Header row: spot klines CSVs have none, futures ones have
  "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,
  taker_buy_quote_volume,ignore" (issue #283); futures files before 2022 have none (issue
  #246). freqtrade detects it by the first byte not being a digit, as this module does.
Uncertain: whether any spot kline file has a header (read either way here); the exact 404
body (S3's XML NoSuchKey is assumed by the emulator); that a CHECKSUM always matches its
zip (issue #405 reports stale CHECKSUMs after files were replaced in 2023, hence
ChecksumMismatch being its own error, for the caller to retry or fall back on).
"""

import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from titan_dagster.sources.binance_archive.layout import ArchiveFile

FIELDS = 12  # the REST klines row: open time ... ignore
# A microsecond time below this would be in 1973, a millisecond one above it in 5138.
_MICROSECONDS_ABOVE = 10**14
# The time column is checked at once: its values joined by newlines must match.
_TIMES = re.compile(r"(?:[0-9]{1,18}\n)*")


class ArchiveError(ValueError):
    """A file that cannot be used as it is; the message names it."""


class ChecksumMismatch(ArchiveError):
    """The bytes are not what the CHECKSUM says: a damaged or partial download (or a stale
    CHECKSUM), worth downloading again."""


class MalformedFile(ArchiveError):
    """The bytes are what was published, but not a kline file this parser can trust."""


def verify(file: ArchiveFile, data: bytes, checksum_text: str) -> None:
    """Raises ChecksumMismatch unless `checksum_text` ("<sha256 hex>  <file name>", as
    sha256sum writes it) names `file` and its hash is that of `data`."""
    fields = checksum_text.split()
    if len(fields) != 2 or not re.fullmatch(r"[0-9a-fA-F]{64}", fields[0]):
        raise ChecksumMismatch(f"{file.name}: its CHECKSUM is not '<sha256>  <name>': "
                               f"{checksum_text[:200]!r}")
    expected, named = fields[0].lower(), fields[1].removeprefix("*")  # '*': binary mode
    if named != file.name:
        raise ChecksumMismatch(f"{file.name}: its CHECKSUM is for {named}")
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ChecksumMismatch(f"{file.name}: sha256 {actual} of {len(data)} bytes, its "
                               f"CHECKSUM says {expected}")


@dataclass(frozen=True)
class Klines:
    """A file's candles as columns, in file order: open times in epoch ms, and open, high,
    low, close and volume as the decimal text served."""
    ts: np.ndarray  # int64
    values: tuple[list[str], ...]

    def __len__(self) -> int:
        return len(self.ts)

    def between(self, start_ms: int, end_ms: int) -> "Klines":
        """The candles opened in [start_ms, end_ms)."""
        keep = np.flatnonzero((self.ts >= start_ms) & (self.ts < end_ms))
        if len(keep) == len(self.ts):
            return self
        picked = keep.tolist()
        return Klines(self.ts[keep], tuple([column[i] for i in picked] for column in self.values))


def parse(file: ArchiveFile, data: bytes) -> Klines:
    """The candles of a kline zip. Raises MalformedFile, naming the file and line, for
    anything but one CSV of 12-field rows with integer open times inside the file's period.
    Values are not judged here: the candle checks of the REST path apply to them."""
    text = _csv(file, data)
    # Older files start with a row of column names, most spot files have none.
    header = 1 if text[:1] and not text[:1].isdigit() else 0
    body = text.partition(b"\n")[2] if header else text
    body = body.replace(b"\r\n", b"\n")
    if body and not body.endswith(b"\n"):
        body += b"\n"
    _check_fields(file, body, header)
    if not body:
        return Klines(np.empty(0, np.int64), ([],) * 5)
    try:
        fields = body.decode("ascii").replace("\n", ",").split(",")[:-1]
    except UnicodeDecodeError as error:
        line = body[:error.start].count(b"\n") + 1 + header
        raise MalformedFile(f"{file.name} line {line}: a byte that is not ASCII") from None
    # Every line has FIELDS fields (checked above), so a column is every FIELDS-th field.
    texts = [fields[i::FIELDS] for i in range(6)]
    # Values are judged by the candle schema, as a REST page's are: a bad one is quarantined
    # with its row, not a reason to distrust the whole file. Without a time a row has no
    # place at all.
    if not _TIMES.fullmatch("\n".join(texts[0]) + "\n"):
        bad = next(n for n, v in enumerate(texts[0]) if not _TIMES.fullmatch(v + "\n"))
        raise MalformedFile(f"{file.name} line {bad + 1 + header}: field 1 {texts[0][bad]!r} "
                            "is not an integer time")
    ts = _milliseconds(file, np.array(texts[0], dtype=np.int64), header)
    return Klines(ts, tuple(texts[1:]))


def _csv(file: ArchiveFile, data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.namelist()
            if len(members) != 1:
                raise MalformedFile(f"{file.name}: holds {len(members)} files, not one CSV")
            return archive.read(members[0])  # checks the member's CRC
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise MalformedFile(f"{file.name}: not a readable zip ({error})") from error


def _check_fields(file: ArchiveFile, body: bytes, header: int) -> None:
    """Every line holds 12 fields, counted for all lines at once (the CSV reader would pad
    short rows and drop blank lines without a word)."""
    chars = np.frombuffer(body, np.uint8)
    ends = np.flatnonzero(chars == ord("\n"))
    commas = np.bincount(np.searchsorted(ends, np.flatnonzero(chars == ord(","))),
                         minlength=len(ends))
    wrong = np.flatnonzero(commas != FIELDS - 1)
    if len(wrong):
        line = int(wrong[0])
        raise MalformedFile(f"{file.name} line {line + 1 + header}: {commas[line] + 1} fields, "
                            f"expected {FIELDS}")


def _milliseconds(file: ArchiveFile, ts: np.ndarray, header: int) -> np.ndarray:
    """Open times in ms, from a file in ms or in µs (the unit read from the values: the
    date Binance switched on is not a rule this parser should rely on)."""
    micro = ts >= _MICROSECONDS_ABOVE
    if micro.any() != micro.all():
        line = int(np.flatnonzero(micro != micro[0])[0])
        raise MalformedFile(f"{file.name} line {line + 1 + header}: open time {ts[line]} is "
                            f"in other units than line {1 + header}'s {ts[0]}")
    if micro[0]:
        split = np.flatnonzero(ts % 1000)
        if len(split):
            line = int(split[0])
            raise MalformedFile(f"{file.name} line {line + 1 + header}: open time {ts[line]} "
                                "µs is not a whole millisecond")
        ts = ts // 1000
    outside = np.flatnonzero((ts < file.start_ms) | (ts >= file.end_ms))
    if len(outside):
        line = int(outside[0])
        raise MalformedFile(f"{file.name} line {line + 1 + header}: open time {ts[line]} ms is "
                            f"outside the file's [{file.start_ms}, {file.end_ms})")
    return ts
