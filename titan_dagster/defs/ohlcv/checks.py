"""Asset checks of every OHLCV asset, evaluated in the same step right after the symbol is
stored, over the days that run materialized. Non-blocking: a failing check never stops the
valid candles from being stored."""

from datetime import date

import dagster as dg

from titan_dagster.quality import assessments
from titan_dagster.quality.assessments import Assessment
from titan_dagster.timeframes import now_ms
from titan_dagster.warehouse import Warehouse

CHECKS = {
    "valid_candles": "No row the exchange served for these days broke the candle schema "
                     "(broken rows sit in ohlcv_rejects, never in ohlcv). Error.",
    "no_gaps": "Every closed candle the market's calendar expects since the symbol's first "
               "is stored (forex, metals and US stocks close; crypto never does). Error while "
               "a hole could be re-fetched; warning for gaps the exchange confirmed it does not "
               "have and for candles its REST API no longer serves (Kraken: only its last 720).",
    "no_price_jumps": "No open jumps from the previous close, and no close spikes away from "
                      "both neighbours, by more than quality.max_price_jump. Warning.",
    "fresh": "The candle each timeframe's market calendar expects after the newest stored "
             "one closed less than a minute ago (24/7: the newest opened at most two "
             "timeframes and a minute ago). While the market is closed it says since when. "
             "Error.",
}
# Only where candles come from an exchange's archive files as well as its REST API.
ARCHIVE_CHECK = "archive_matches_rest"
ARCHIVE_DESCRIPTION = ("A sample of the days stored from the exchange's archive files is "
                       "re-fetched over REST each run and compared candle by candle. Warning "
                       "on any difference: REST's candle is stored, and each difference is in "
                       "ohlcv_archive_differences.")


def check_specs(key: dg.AssetKey, archived: bool) -> list[dg.AssetCheckSpec]:
    """`archived`: the exchange's candles come from its archive too."""
    described = {**CHECKS, ARCHIVE_CHECK: ARCHIVE_DESCRIPTION} if archived else CHECKS
    return [dg.AssetCheckSpec(name, asset=key, description=description, blocking=False)
            for name, description in described.items()]


def evaluate(names: set[str], store: Warehouse, exchange: str, symbol: str,
             timeframes: tuple[str, ...], window: dg.TimeWindow, first_day: date,
             last_day: date, max_price_jump: float) -> dict[str, Assessment]:
    """The checks in `names` (a run may select only some, like the refresh's `fresh`)."""
    now = now_ms()
    start, end = (int(moment.timestamp() * 1000) for moment in (window.start, window.end))
    assess = {
        "valid_candles": lambda: assessments.invalid_rows(store, exchange, symbol, first_day,
                                                          last_day),
        "no_gaps": lambda: assessments.missing_candles(store, exchange, symbol, timeframes,
                                                       start, end, now),
        "no_price_jumps": lambda: assessments.price_outliers(
            store, exchange, symbol, timeframes, window.start, window.end, max_price_jump),
        "fresh": lambda: assessments.staleness(store, exchange, symbol, timeframes, now),
        ARCHIVE_CHECK: lambda: assessments.archive_agreement(
            store, exchange, symbol, first_day, last_day, window.start, window.end),
    }
    return {name: check() for name, check in assess.items() if name in names}


def check_result(key: dg.AssetKey, name: str, assessment: Assessment,
                 first_day: date, last_day: date) -> dg.AssetCheckResult:
    metadata: dict = {**assessment.numbers, "summary": assessment.summary,
                      "days": f"{first_day} to {last_day}"}
    if assessment.sample:
        metadata["sample"] = dg.MetadataValue.table(
            [dg.TableRecord(row) for row in assessment.sample])
    return dg.AssetCheckResult(
        asset_key=key, check_name=name, passed=assessment.passed, metadata=metadata,
        severity=dg.AssetCheckSeverity.WARN if assessment.warn_only
        else dg.AssetCheckSeverity.ERROR,
        description=assessment.summary)
