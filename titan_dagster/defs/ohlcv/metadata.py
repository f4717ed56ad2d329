"""What a materialization of an OHLCV asset tells the UI about the range it covered."""

import dagster as dg
from dagster import TimeWindow

from titan_dagster.ingest.backfill import SymbolOutcome
from titan_dagster.quality.assessments import not_served
from titan_dagster.timeframes import to_datetime
from titan_dagster.warehouse import TimeframeSummary


def materialization_metadata(outcome: SymbolOutcome, stored: dict[str, TimeframeSummary],
                             timeframes: tuple[str, ...], window: TimeWindow,
                             first_stored_ms: int | None) -> dict:
    total = sum(summary.candles for summary in stored.values())
    metadata: dict = {
        "dagster/row_count": total,
        "requests": outcome.requests,
        "candles_written": sum(t.candles_written for t in outcome.timeframes.values()),
        "days_skipped_complete": sum(t.days_skipped for t in outcome.timeframes.values()),
        "days_completed": sum(t.days_completed for t in outcome.timeframes.values()),
        "rows_quarantined": sum(t.invalid_rows for t in outcome.timeframes.values()),
        "exchange_gap_candles_found": sum(t.exchange_gap_candles
                                          for t in outcome.timeframes.values()),
    }
    archived = sum(len(t.archived_days) for t in outcome.timeframes.values())
    if archived:
        checks = [check for t in outcome.timeframes.values() for check in t.archive_checks]
        metadata["days_from_archive"] = archived
        metadata["archive_days_compared_with_rest"] = len(checks)
        metadata["archive_candles_differing_from_rest"] = sum(len(c.differences) for c in checks)
    unserved = {tf: t.unserved_candles for tf, t in outcome.timeframes.items()
                if t.unserved_candles}
    if unserved:
        metadata["unserved_candles"] = sum(unserved.values())
        metadata["not_served"] = "; ".join(f"{tf}: {n} candles {not_served(outcome.exchange)}"
                                           for tf, n in unserved.items())
    for timeframe in timeframes:
        metadata[f"candles_{timeframe}"] = stored.get(timeframe, TimeframeSummary(0, None, None)
                                                      ).candles
    firsts = [s.first_ms for s in stored.values() if s.first_ms is not None]
    lasts = [s.last_ms for s in stored.values() if s.last_ms is not None]
    if firsts:
        metadata["first_candle"] = dg.MetadataValue.timestamp(to_datetime(min(firsts)))
        metadata["last_candle"] = dg.MetadataValue.timestamp(to_datetime(max(lasts)))
    elif unserved:
        metadata["empty"] = f"no candles: {not_served(outcome.exchange)}"
    else:
        known = [ms for ms in (first_stored_ms, outcome.first_seen) if ms is not None]
        metadata["empty"] = _why_empty(window, min(known, default=None))
    return metadata


def _why_empty(window: TimeWindow, first_candle_ms: int | None) -> str:
    if first_candle_ms is None:
        return "no candles: the exchange has none for this symbol from this range on"
    first = to_datetime(first_candle_ms)
    if first < window.start:
        return "no candles: the exchange has none in this range (a gap on the exchange's side)"
    return (f"no candles: the range ends before the symbol's first candle "
            f"({first:%Y-%m-%d %H:%M} UTC)")
