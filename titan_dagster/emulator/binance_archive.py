"""Binance's public kline archive (data.binance.vision) as the Binance emulator serves it:
monthly and daily zips of the very rows its REST klines serve, each with a CHECKSUM, in
the archive's own layout and formats (see titan_dagster/sources/binance_archive/files.py
for what the real archive was verified to be)."""

import hashlib
import io
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from titan_dagster.emulator.candles import INTERVALS
from titan_dagster.emulator.venue import Reply
from titan_dagster.sources.binance_archive.layout import MICROSECONDS_FROM, ArchiveFile

PREFIX = "/data/"
CSV_HEADER = (b"open_time,open,high,low,close,volume,close_time,quote_volume,count,"
              b"taker_buy_volume,taker_buy_quote_volume,ignore\n")
CORRUPTIONS = frozenset({"zip", "checksum", "values"})
# A month of 1m zipped is ~2 MB: enough files for a few symbols' backfill, not for years.
CACHED_FILES = 32
_NOT_FOUND = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
              '<Message>The specified key does not exist.</Message><Key>{}</Key></Error>')


def _no_header(file: ArchiveFile) -> bool:
    return False


@dataclass(frozen=True)
class ArchiveSettings:
    """How the emulated archive publishes. A daily file appears `daily_delay_ms` after its
    day ends, a monthly one `monthly_delay_ms` after its month ends (the real archive: the
    next day, early in the next month). `header` picks the files whose CSV starts with the
    column names (most real spot files have none); files of days from `microseconds_from`
    on hold µs times, as the real spot archive does from 2025-01-01."""

    daily_delay_ms: int = 0
    monthly_delay_ms: int = 0
    header: Callable[[ArchiveFile], bool] = _no_header
    microseconds_from: int = MICROSECONDS_FROM
    cached_files: int = CACHED_FILES  # built files kept (a benchmark keeps all it serves)


@dataclass
class _Built:
    data: bytes
    sha256: str


@dataclass
class ArchiveTree:
    """The archive's files, built on demand from the rows a `candles(symbol, interval,
    start, end)` function gives (the emulator's REST truth), with test hooks: paths hidden
    (404) and files corrupted."""

    settings: ArchiveSettings
    _hidden: set[str] = field(default_factory=set)
    _corrupt: dict[str, str] = field(default_factory=dict)  # zip path -> kind
    _cache: OrderedDict[tuple, _Built] = field(default_factory=OrderedDict)
    # Handler threads share the cache; files are built outside the lock.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hide(self, path: str) -> None:
        """The path answers 404; a zip's path hides its CHECKSUM too (the file is not there),
        a CHECKSUM's only itself (published without one)."""
        with self._lock:
            self._hidden.add(path)

    def corrupt(self, zip_path: str, kind: str) -> None:
        """'zip': the zip's bytes are damaged in transit (neither its CHECKSUM nor its own
        CRC match); 'checksum': the CHECKSUM holds another file's hash; 'values': the file
        was published with the close of its middle candle unlike REST's (still a valid
        candle, and its CHECKSUM matches: only a comparison with REST can tell)."""
        if kind not in CORRUPTIONS:
            raise ValueError(f"unknown corruption {kind!r} (known: {sorted(CORRUPTIONS)})")
        with self._lock:
            self._corrupt[zip_path] = kind

    def reply(self, path: str, symbol: str | None, now: int, revision: int,
              candles: Callable[[str, str, int, int], list[list]]) -> Reply:
        parsed = ArchiveFile.from_path(path)
        if parsed is None or symbol is None:
            return _not_found(path)
        file, is_checksum = parsed
        if file.interval not in INTERVALS:
            return _not_found(path)
        delay = self.settings.monthly_delay_ms if file.day is None else self.settings.daily_delay_ms
        with self._lock:
            hidden = path in self._hidden or file.path in self._hidden
            kind = self._corrupt.get(file.path)
        if hidden or file.end_ms + delay > now:
            return _not_found(path)
        built = self._built(file, symbol, revision, candles, altered=kind == "values")
        if built is None:
            return _not_found(path)
        if is_checksum:
            digest = hashlib.sha256(built.sha256.encode()).hexdigest() if kind == "checksum" \
                else built.sha256
            return Reply(200, f"{digest}  {file.name}\n".encode(), "text/plain")
        data = built.data
        if kind == "zip":
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
        return Reply(200, data, "application/zip")

    def _built(self, file: ArchiveFile, symbol: str, revision: int,
               candles: Callable[[str, str, int, int], list[list]],
               altered: bool = False) -> _Built | None:
        """The file's bytes (None when it holds no candle: not listed then), cached until the
        market changes."""
        header = self.settings.header(file)
        micro = file.start_ms >= self.settings.microseconds_from
        key = (file, revision, header, micro, altered)
        with self._lock:
            built = self._cache.get(key)
            if built is not None:
                self._cache.move_to_end(key)
                return built
        rows = candles(symbol, file.interval, file.start_ms, file.end_ms)
        if not rows:
            return None
        if altered:
            rows = _with_other_close(rows)
        data = _zipped(file, _csv(rows, micro, header))
        built = _Built(data, hashlib.sha256(data).hexdigest())
        with self._lock:
            self._cache[key] = built
            if len(self._cache) > self.settings.cached_files:
                self._cache.popitem(last=False)
        return built


def altered_row(rows: list[list]) -> int:
    """Which row a 'values' corruption changes: the middle one."""
    return len(rows) // 2


def _with_other_close(rows: list[list]) -> list[list]:
    """The middle candle closes at its low instead (at its high where those are the same)."""
    i = altered_row(rows)
    row = list(rows[i])
    row[4] = row[3] if row[3] != row[4] else row[2]
    return [*rows[:i], row, *rows[i + 1:]]


def _csv(rows: list[list], micro: bool, header: bool) -> bytes:
    """The REST rows as the archive's CSV; in µs a close time is the last µs of the candle,
    as the real archive writes it (…600999999, not …600999000)."""
    scale, last = (1000, 999) if micro else (1, 0)
    lines = [f"{r[0] * scale},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{r[6] * scale + last},"
             f"{r[7]},{r[8]},{r[9]},{r[10]},{r[11]}\n" for r in rows]
    return (CSV_HEADER if header else b"") + "".join(lines).encode()


def _zipped(file: ArchiveFile, csv: bytes) -> bytes:
    # A fixed timestamp keeps the bytes, and so the CHECKSUM, a function of the candles.
    member = zipfile.ZipInfo(file.name.removesuffix(".zip") + ".csv", (1980, 1, 1, 0, 0, 0))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        # Level 1: a third of the default's time for a month of 1m, and still deflate.
        archive.writestr(member, csv, zipfile.ZIP_DEFLATED, 1)
    return out.getvalue()


def _not_found(path: str) -> Reply:
    return Reply(404, _NOT_FOUND.format(path.lstrip("/")).encode(), "application/xml")
