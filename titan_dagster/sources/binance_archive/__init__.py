"""Binance's public spot kline archive (data.binance.vision): where its monthly and daily
files are (layout.py) and how a downloaded file is verified and read (files.py). No HTTP,
no Dagster, no database: the backfill decides what to download and when."""

from titan_dagster.sources.binance_archive.files import (
    ArchiveError,
    ChecksumMismatch,
    MalformedFile,
    parse,
    verify,
)
from titan_dagster.sources.binance_archive.layout import BASE_URL, ArchiveFile, plan

__all__ = ["BASE_URL", "ArchiveError", "ArchiveFile", "ChecksumMismatch", "MalformedFile",
           "parse", "plan", "verify"]
