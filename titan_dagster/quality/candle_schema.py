"""What a valid candle is: one Pandera schema, used to validate every page before it is
stored and to describe the ohlcv table's columns in the Dagster UI, so the two cannot drift.

Prices and volumes are checked as float64 (exact for the 15 significant digits exchanges
use) while the exact decimal strings are what gets stored.
"""

import numpy as np
import pandera.pandas as pa

PRICES = ("open", "high", "low", "close")
# The price-order rules: high is at least these, low at most those.
HIGH_RULE, HIGH_BOUNDS = "high_is_highest", ("open", "close", "low")
LOW_RULE, LOW_BOUNDS = "low_is_lowest", ("open", "close")


def _rule(name: str, description: str, fn, element_wise: bool = False) -> pa.Check:
    # error=name: pandera reports failures by this text, which becomes the quarantine rule.
    return pa.Check(fn, name=name, error=name, description=description,
                    element_wise=element_wise)


def candle_schema(step_ms: int, window_start: int, window_end: int, now: int,
                  offset_ms: int = 0, volume_required: bool = True) -> pa.DataFrameSchema:
    """Candles of one timeframe (`step_ms` long) fetched for [window_start, window_end) at
    `now`; `ts` is the open time in epoch ms. `offset_ms`: where the market's slot grid sits
    (US stocks' 1h candles open at :30 UTC). Without `volume_required` (a source that serves
    no volume for the series, like Twelve Data's forex) volume may be missing, never made up."""
    finite = _rule("finite", "not NaN or infinite", lambda s: np.isfinite(s))
    price_checks = [finite, _rule("price_positive", "greater than 0", lambda s: s > 0)]
    return pa.DataFrameSchema(
        {
            "ts": pa.Column("int64", unique=True, report_duplicates="all", nullable=False,
                            description="candle open time, UTC", metadata={"type": "timestamptz"},
                            checks=[
                _rule("aligned", "on the market's slot grid (a multiple of the timeframe "
                      "from 00:00 UTC, or from the session open where that is off it)",
                      lambda s: (s - offset_ms) % step_ms == 0),
                _rule("in_window", "inside the partition's days",
                      lambda s: (s >= window_start) & (s < window_end)),
                _rule("not_in_future", "not opened after the fetch", lambda s: s <= now),
            ]),
            **{price: pa.Column("float64", nullable=False, checks=price_checks,
                                description=f"{price} price, exact decimal",
                                metadata={"type": "numeric"})
               for price in PRICES},
            "volume": pa.Column("float64", nullable=not volume_required,
                                metadata={"type": "numeric"},
                                description="base-asset volume, exact decimal; NULL where "
                                            "the source has none (forex, metals)",
                                checks=[finite, _rule("volume_non_negative", "at least 0",
                                                      lambda s: s >= 0)]),
        },
        checks=[
            _rule(HIGH_RULE, "high >= open, close and low",
                  lambda df: df["high"] >= df[list(HIGH_BOUNDS)].max(axis=1)),
            _rule(LOW_RULE, "low <= open and close",
                  lambda df: df["low"] <= df[list(LOW_BOUNDS)].min(axis=1)),
        ],
        name="candle",
        strict=True,
    )

