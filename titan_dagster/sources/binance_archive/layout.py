"""Where a file of Binance's spot kline archive lives and which stretch of time it holds."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from titan_dagster.timeframes import DAY_MS, day_of_ms, day_start_ms, timeframe_ms

BASE_URL = "https://data.binance.vision"
# The archive's spot files hold microseconds from this day on (milliseconds before).
MICROSECONDS_FROM = day_start_ms(date(2025, 1, 1))

_PATH = re.compile(
    r"/?data/spot/(?P<kind>monthly|daily)/klines/(?P<symbol>[A-Z0-9]+)/(?P<interval>\w+)/"
    r"(?P=symbol)-(?P=interval)-(?P<year>[0-9]{4})-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?"
    r"\.zip(?P<checksum>\.CHECKSUM)?")


@dataclass(frozen=True)
class ArchiveFile:
    """One monthly (`day` None) or daily kline file of a market ('BTCUSDT') and interval."""

    market_id: str
    interval: str
    year: int
    month: int
    day: int | None = None

    def __post_init__(self) -> None:
        timeframe_ms(self.interval)  # the project's timeframes only: whole divisors of a day
        date(self.year, self.month, self.day or 1)  # rejects 2024-02-30

    @property
    def name(self) -> str:
        period = f"{self.year:04d}-{self.month:02d}"
        if self.day is not None:
            period += f"-{self.day:02d}"
        return f"{self.market_id}-{self.interval}-{period}.zip"

    @property
    def path(self) -> str:
        kind = "monthly" if self.day is None else "daily"
        return f"/data/spot/{kind}/klines/{self.market_id}/{self.interval}/{self.name}"

    @property
    def checksum_path(self) -> str:
        return self.path + ".CHECKSUM"

    @property
    def start_ms(self) -> int:
        return day_start_ms(date(self.year, self.month, self.day or 1))

    @property
    def end_ms(self) -> int:
        """Where the file's [start_ms, end_ms) ends: the next day or the next month."""
        if self.day is not None:
            return self.start_ms + DAY_MS
        following = _next_month(self)
        return day_start_ms(date(following.year, following.month, 1))

    def url(self, base_url: str = BASE_URL) -> str:
        return base_url.rstrip("/") + self.path

    def days(self) -> list["ArchiveFile"]:
        """The daily files of a monthly file's month (itself for a daily file): what to take
        instead of a monthly file that is not published yet."""
        if self.day is not None:
            return [self]
        first = date(self.year, self.month, 1)
        count = (self.end_ms - self.start_ms) // DAY_MS
        return [self._on(first + timedelta(days=i)) for i in range(count)]

    def _on(self, day: date) -> "ArchiveFile":
        return ArchiveFile(self.market_id, self.interval, day.year, day.month, day.day)

    @classmethod
    def from_path(cls, path: str) -> tuple["ArchiveFile", bool] | None:
        """The file a URL path names and whether it is the file's CHECKSUM; None when the
        path is not a spot kline file of the archive's layout."""
        match = _PATH.fullmatch(path)
        if match is None or (match["kind"] == "daily") != (match["day"] is not None):
            return None
        try:
            file = cls(match["symbol"], match["interval"], int(match["year"]),
                       int(match["month"]), None if match["day"] is None else int(match["day"]))
        except ValueError:
            return None
        return file, match["checksum"] is not None


def plan(market_id: str, interval: str, start_ms: int, end_ms: int,
         published_until_ms: int) -> list[ArchiveFile]:
    """The files that cover [start_ms, end_ms) as far as the archive holds it, in time order:
    a monthly file for each month over by `published_until_ms`, and daily files for the days
    over by then of the month that is not. `published_until_ms` is 'now' less the archive's
    publication delay (a day is published the next day, a month early in the next month):
    the caller knows how far behind the archive is; the REST API covers the rest.

    A file is planned when it overlaps the range; its rows outside it are the caller's to
    drop."""
    files: list[ArchiveFile] = []
    first = day_of_ms(start_ms)
    month = ArchiveFile(market_id, interval, first.year, first.month)
    while month.start_ms < end_ms:
        if month.end_ms <= published_until_ms:
            files.append(month)
        else:
            files += [day for day in month.days() if day.end_ms <= published_until_ms
                      and day.start_ms < end_ms and start_ms < day.end_ms]
        month = _next_month(month)
    return files


def _next_month(file: ArchiveFile) -> ArchiveFile:
    year, month = divmod(file.year * 12 + file.month, 12)  # month 0-based here
    return ArchiveFile(file.market_id, file.interval, year, month + 1)
