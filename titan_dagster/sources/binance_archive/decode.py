"""What a worker process makes of a downloaded archive file: verified against its CHECKSUM,
parsed, cut to the stretch the backfill asked for and checked against the candle schema,
ready for the warehouse. Parsing and validating a month of 1m is most of a backfill's CPU;
in worker processes it runs beside the writes instead of taking turns with them for one
interpreter."""

import hashlib
from dataclasses import dataclass

from titan_dagster.quality.validation import CheckedRows, check_columns
from titan_dagster.sources.binance_archive.files import parse, verify
from titan_dagster.sources.binance_archive.layout import ArchiveFile


@dataclass(frozen=True)
class CandleRules:
    """The candle schema's parameters for one series (see quality/candle_schema.py)."""
    step_ms: int
    offset_ms: int = 0
    volume_required: bool = True


@dataclass(frozen=True)
class Decoded:
    file: ArchiveFile
    sha256: str
    checked: CheckedRows  # the candles opened in [start_ms, end_ms), split as a page's are
    first_seen: int | None  # the first open time in that stretch, valid or not
    candles_in_file: int


def decode(file: ArchiveFile, data: bytes, checksum_text: str, rules: CandleRules,
           start_ms: int, end_ms: int, now_ms: int) -> Decoded:
    """Raises ChecksumMismatch or MalformedFile (files.py) for a file not to be used."""
    verify(file, data, checksum_text)
    klines = parse(file, data)
    part = klines.between(start_ms, end_ms)
    checked = check_columns(part.ts, part.values, rules.step_ms, start_ms, end_ms, now_ms,
                            offset_ms=rules.offset_ms, volume_required=rules.volume_required)
    return Decoded(file, hashlib.sha256(data).hexdigest(), checked,
                   int(part.ts.min()) if len(part) else None, len(klines))
