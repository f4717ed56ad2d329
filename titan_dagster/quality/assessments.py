"""The quality questions asked of a symbol's stored candles, without Dagster: how many rows
were quarantined, which candles are missing and whose fault that is, which prices jump,
how stale the newest candle is. Each answer carries numbers worth plotting over time."""

from dataclasses import dataclass, field
from datetime import date, datetime

from titan_dagster.calendars import calendar_of
from titan_dagster.calendars.freshness import freshness
from titan_dagster.exchange.paging import paging_of
from titan_dagster.quality.holes import quarantined_slots, split_missing
from titan_dagster.ranges import intersect, merged, subtract, total
from titan_dagster.timeframes import day_of_ms, floor_ms, timeframe_ms, to_datetime
from titan_dagster.warehouse import Warehouse

SAMPLE_ROWS = 20


@dataclass
class Assessment:
    passed: bool
    warn_only: bool = False  # failed, but on the exchange's side or worth a look, not wrong data
    numbers: dict[str, float] = field(default_factory=dict)
    sample: list[dict] = field(default_factory=list)
    summary: str = ""


def invalid_rows(warehouse: Warehouse, exchange: str, symbol: str, first: date,
                 last: date) -> Assessment:
    rejects = warehouse.rejects(exchange, symbol, first, last)
    by_rule = rejects["rule"].str.split(",").explode().value_counts().to_dict() \
        if len(rejects) else {}
    sample = rejects.head(SAMPLE_ROWS).astype(str).to_dict("records")
    return Assessment(
        passed=rejects.empty, numbers={"invalid_count": len(rejects)}, sample=sample,
        summary=", ".join(f"{rule}: {n}" for rule, n in sorted(by_rule.items())) or "none")


def missing_candles(warehouse: Warehouse, exchange: str, symbol: str,
                    timeframes: tuple[str, ...], start_ms: int, end_ms: int,
                    now_ms: int, sample_rows: int = SAMPLE_ROWS) -> Assessment:
    """Candles missing in [start_ms, end_ms) up to the last closed candle, after the first
    stored one. Slots whose row was quarantined are the invalid check's business; confirmed
    exchange-side gaps only warn; anything else is an error until re-fetched."""
    healable_total = exchange_total = unserved_total = 0
    sample = []
    rejects = warehouse.rejects(exchange, symbol, day_of_ms(start_ms), day_of_ms(end_ms - 1))
    calendar = calendar_of(exchange, symbol)
    for timeframe in timeframes:
        step = timeframe_ms(timeframe)
        offset = calendar.offset(step)
        end = min(end_ms, floor_ms(now_ms, step, offset) - step)
        # Recorded per day; one row per stretch reads better.
        unserved = merged(intersect(warehouse.unserved_ranges(exchange, symbol, timeframe,
                                                              start_ms, end), [(start_ms, end)]))
        unserved_total += total(unserved, step)
        sample += _sample_rows(timeframe, step, "not served", unserved)
        missing = subtract(warehouse.missing_ranges(exchange, symbol, timeframe, start_ms, end),
                           unserved)
        if not missing:
            continue
        quarantined = quarantined_slots(
            (ts for tf, ts in zip(rejects["timeframe"], rejects["ts_ms"], strict=True)
             if tf == timeframe), step, offset)
        confirmed = warehouse.exchange_gaps(exchange, symbol, timeframe, start_ms, end)
        healable, on_exchange = split_missing(missing, quarantined, confirmed)
        healable_total += total(healable, step)
        exchange_total += total(on_exchange, step)
        sample += _sample_rows(timeframe, step, "healable", healable)
        sample += _sample_rows(timeframe, step, "exchange gap", on_exchange)
    sample.sort(key=lambda row: (row["timeframe"], row["from"]))
    summary = f"{healable_total} healable, {exchange_total} confirmed exchange-side"
    if unserved_total:
        summary += f"; {unserved_total} {not_served(exchange)}"
    return Assessment(
        passed=healable_total + exchange_total + unserved_total == 0,
        warn_only=healable_total == 0,
        numbers={"missing_count": healable_total + exchange_total,
                 "healable_missing_count": healable_total,
                 "exchange_gap_count": exchange_total,
                 "unserved_count": unserved_total},
        sample=sample[:sample_rows], summary=summary)


def not_served(exchange: str) -> str:
    """Why slots are missing that no request can fetch any more."""
    paging = paging_of(exchange)
    reach = f": only the last {paging.reach} candles" if paging and paging.reach else ""
    return f"not served by {exchange}{reach}"


def _sample_rows(timeframe: str, step: int, kind: str,
                 ranges: list[tuple[int, int]]) -> list[dict]:
    return [{"timeframe": timeframe, "from": to_datetime(a).isoformat(),
             "to": to_datetime(b).isoformat(), "candles": (b - a) // step, "kind": kind}
            for a, b in ranges]


def price_outliers(warehouse: Warehouse, exchange: str, symbol: str,
                   timeframes: tuple[str, ...], start: datetime, end: datetime,
                   threshold: float) -> Assessment:
    """Jumps: an open away from the previous close by more than `threshold` (a fraction).
    Spikes: a close beyond `threshold` from both neighbouring closes, in the same direction."""
    jumps = spikes = 0
    sample = []
    for timeframe in timeframes:
        flagged = warehouse.price_outliers(exchange, symbol, timeframe, start, end, threshold)
        jumps += sum(jump for *_, jump, _ in flagged)
        spikes += sum(spike for *_, spike in flagged)
        sample += [{"timeframe": timeframe, "ts": to_datetime(ts).isoformat(), "open": str(o),
                    "close": str(c), "previous_close": str(p),
                    "kind": "spike" if spike else "jump"}
                   for ts, o, c, p, _, spike in flagged[:SAMPLE_ROWS]]
    return Assessment(passed=jumps + spikes == 0, warn_only=True,
                      numbers={"price_jump_count": jumps, "price_spike_count": spikes},
                      sample=sample[:SAMPLE_ROWS],
                      summary=f"{jumps} jumps and {spikes} spikes beyond {threshold:.0%}")


def staleness(warehouse: Warehouse, exchange: str, symbol: str, timeframes: tuple[str, ...],
              now_ms: int) -> Assessment:
    """Fails when a timeframe's next candle after its newest stored one (by the market's
    calendar) closed more than a minute ago. While the market is closed the newest candle
    ages without being stale, and the summary says since when it is closed."""
    calendar = calendar_of(exchange, symbol)
    ages, stale = {}, []
    for timeframe in timeframes:
        newest = warehouse.last_candle_ms(exchange, symbol, timeframe)
        verdict = freshness(calendar, timeframe_ms(timeframe), newest, now_ms)
        ages[f"age_s_{timeframe}"] = verdict.age_s if verdict.age_s is not None else -1
        if verdict.stale:
            stale.append(f"{timeframe}: " + ("no candle" if newest is None else
                                             f"newest opened {to_datetime(newest):%Y-%m-%d %H:%M}"))
    closed_since = calendar.closed_since(now_ms)
    if stale:
        summary = "; ".join(stale)
    elif closed_since is not None:
        summary = f"market closed since {to_datetime(closed_since):%Y-%m-%d %H:%M} UTC"
    else:
        summary = "fresh"
    return Assessment(passed=not stale, numbers=ages, summary=summary)


def archive_agreement(warehouse: Warehouse, exchange: str, symbol: str, first: date,
                      last: date, start: datetime, end: datetime) -> Assessment:
    """How the days stored from archive files compared with REST where a run re-fetched
    them. A difference warns: REST's candle is the one stored, but the archive that a
    backfill trusts for speed disagreed with the exchange's API."""
    days = warehouse.archive_days(exchange, symbol, first, last)
    compared = days[days["rest_candles"].notna()]
    differing = int(compared["rest_differences"].sum())
    numbers = {"archived_days": len(days), "compared_days": len(compared),
               "compared_candles": int(compared["rest_candles"].sum()),
               "differing_candles": differing}
    if days.empty:
        summary = "no day of these was stored from archive files"
    else:
        verdict = f"{differing} candles differed (REST's stored)" if differing \
            else "no candle differed"
        per_timeframe = ", ".join(f"{timeframe}: {n}" for timeframe, n
                                  in days["timeframe"].value_counts().sort_index().items())
        summary = (f"{len(days)} days from archive files ({per_timeframe}), {len(compared)} of "
                   f"them re-fetched over REST ({numbers['compared_candles']} candles): "
                   f"{verdict}")
    sample = warehouse.archive_differences(exchange, symbol, start, end, SAMPLE_ROWS) \
        if differing else []
    return Assessment(passed=not differing, warn_only=True, numbers=numbers, sample=sample,
                      summary=summary)
