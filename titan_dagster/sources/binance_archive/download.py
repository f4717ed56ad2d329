"""Downloads archive files and their CHECKSUMs, concurrently up to a bound shared by every
symbol of a run, and hands back their verified candles, or MISSING or UNUSABLE where the
candles have to come from elsewhere: a file not published (404); one that stays corrupt,
cannot be read or holds nothing. Nothing here decides what a missing file means: the
backfill takes a month's daily files or asks REST instead (ingest/archived.py)."""

import asyncio
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import aiohttp

from titan_dagster.exchange.retry import RetryPolicy
from titan_dagster.sources.binance_archive.decode import CandleRules, Decoded, decode
from titan_dagster.sources.binance_archive.files import ArchiveError, ChecksumMismatch
from titan_dagster.sources.binance_archive.layout import ArchiveFile
from titan_dagster.timeframes import now_ms

# Downloads in flight at once for a run; the archive is a CDN with no published rate limit,
# and a few connections already fill the bandwidth a month of 1m needs (~2 MB a file).
MAX_CONCURRENT_DOWNLOADS = 8
# A mismatch is downloaded again this many times before REST stands in (a partial download
# matches the second time; a stale CHECKSUM never will).
MISMATCH_RETRIES = 1
# Processes decoding files: one per core, up to a few (the warehouse and the run's own
# process need cores too).
DECODE_WORKERS = max(1, min(4, os.cpu_count() or 1))


# What candles() answers for a file REST has to stand in for: not published (404), or
# published but not to be used (corrupt, unreadable, empty, failing to download).
MISSING, UNUSABLE = "missing", "unusable"


class _DownloadFailed(Exception):
    """A download that did not succeed: refused, or still failing after the retries."""


class ArchiveDownloads:
    """One run's downloads from an archive base URL (data.binance.vision or a mirror)."""

    def __init__(self, base_url: str, *, retry: RetryPolicy | None = None,
                 timeout_ms: int = 30_000, logger: logging.Logger | None = None,
                 max_concurrent: int = MAX_CONCURRENT_DOWNLOADS,
                 workers: int = DECODE_WORKERS):
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = aiohttp.ClientTimeout(total=timeout_ms / 1000)
        self.log = logger or logging.getLogger(__name__)
        self._slots = asyncio.Semaphore(max_concurrent)
        self._session: aiohttp.ClientSession | None = None
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self.downloaded = 0  # zips fetched whole, whatever their verdict
        self.downloaded_bytes = 0
        # Seconds summed over files (downloads overlap, so more than the wall time).
        self.download_s = 0.0
        self.decode_s = 0.0
        self.unusable = 0  # files published but not used (each warned about)

    async def __aenter__(self) -> "ArchiveDownloads":
        self._session = aiohttp.ClientSession(timeout=self.timeout)
        # Spawned, not forked: the run's process has threads (Dagster's, the fetch loop's).
        self._pool = ProcessPoolExecutor(self._workers, multiprocessing.get_context("spawn"))
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._session.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def candles(self, file: ArchiveFile, start_ms: int, end_ms: int,
                      rules: CandleRules) -> Decoded | str:
        """The file's candles opened in [start_ms, end_ms), verified and checked against the
        candle schema; MISSING or UNUSABLE (logged) when REST must stand in."""
        for attempt in range(1 + MISMATCH_RETRIES):
            try:
                data, checksum = await self._both(file)
                if data is None:
                    return MISSING
                if checksum is None:
                    return self._fall_back(file, f"{file.name}: published without its CHECKSUM")
                decoded = await self._decode(file, data, checksum, rules, start_ms, end_ms)
            except ChecksumMismatch as error:
                if attempt < MISMATCH_RETRIES:
                    self.log.warning("binance archive: %s; downloading it again", error)
                    continue
                return self._fall_back(file, str(error))
            except ArchiveError as error:
                return self._fall_back(file, str(error))
            except _DownloadFailed as error:
                return self._fall_back(file, f"{file.name}: {error}")
            if not decoded.candles_in_file:
                # An empty file says nothing a request would; REST answers for the period.
                return self._fall_back(file, f"{file.name}: holds no candle")
            return decoded
        raise AssertionError("unreachable")  # the loop returns on its last attempt

    async def _decode(self, file: ArchiveFile, data: bytes, checksum: str, rules: CandleRules,
                      start_ms: int, end_ms: int) -> Decoded:
        started = time.perf_counter()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, decode, file, data, checksum, rules, start_ms, end_ms, now_ms())
        finally:
            self.decode_s += time.perf_counter() - started

    def summary(self) -> str:
        return (f"{self.downloaded} archive files ({self.downloaded_bytes / 1e6:.1f} MB), "
                f"downloads {self.download_s:.2f} s and decoding {self.decode_s:.2f} s summed "
                f"over files ({self._workers} processes); {self.unusable} unusable")

    def _fall_back(self, file: ArchiveFile, why: str) -> str:
        self.log.warning("binance archive: %s; taking its candles from elsewhere (its daily "
                         "files or REST)", why)
        self.unusable += 1
        return UNUSABLE

    async def _both(self, file: ArchiveFile) -> tuple[bytes | None, str | None]:
        started = time.perf_counter()
        data, checksum = await asyncio.gather(self._get(file.path), self._get(file.checksum_path))
        self.download_s += time.perf_counter() - started
        if data is not None:
            self.downloaded += 1
            self.downloaded_bytes += len(data)
        return data, None if checksum is None else checksum.decode(errors="replace")

    async def _get(self, path: str) -> bytes | None:
        """The body at `path`, None for 404 (not published); transient failures are retried
        with the REST path's backoff."""
        last = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                async with self._slots, self._session.get(self.base_url + path) as answer:
                    if answer.status == 200:
                        return await answer.read()
                    if answer.status in (403, 404):  # S3 answers 403 for some missing keys
                        return None
                    last = f"HTTP {answer.status}"
                    if answer.status < 500 and answer.status != 429:
                        raise _DownloadFailed(f"{path}: {last}")  # asking again won't help
            except (TimeoutError, aiohttp.ClientError) as error:
                last = f"{type(error).__name__}: {error}"
            if attempt < self.retry.max_attempts:
                await asyncio.sleep(self.retry.delay_s(attempt))
        raise _DownloadFailed(f"{path}: failed after {self.retry.max_attempts} attempts ({last})")
