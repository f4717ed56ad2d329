"""What the API answers, as the OpenAPI document describes it. Prices and volumes are exact
decimal text; times are ISO-8601 UTC (`Z`)."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

Price = Annotated[str, Field(description="exact decimal text, as stored",
                             examples=["42123.45"])]
Next = Annotated[str | None, Field(description="the path and query of the next page; null on "
                                               "the last page")]


class Candle(BaseModel):
    ts: datetime = Field(description="open time")
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Price | None = Field(description="null where the source has none (forex, metals)")
    closed: bool = Field(description="false for the still-open candle (include_open=true)")


class CandlePage(BaseModel):
    exchange: str
    symbol: str
    timeframe: str
    candles: list[Candle]
    next: Next


class Leg(BaseModel):
    ts: datetime = Field(description="open time of the candle the leg exited in")
    price: Price
    fraction: float
    reason: str = Field(description="tp1, tp2, stop, breakeven or expiry")


class Outcome(BaseModel):
    status: str = Field(description="pending, open, tp1, tp2, stopped, breakeven, expired or "
                                    "not_filled")
    entry_fill_ts: datetime | None
    entry_fill_price: Price | None
    tp1_hit: bool
    tp1_hit_ts: datetime | None
    tp2_hit: bool
    tp2_hit_ts: datetime | None
    sl_hit: bool
    sl_hit_ts: datetime | None
    expired: bool
    expired_ts: datetime | None
    exit_legs: list[Leg]
    r_gross: float | None
    r_net: float | None
    ambiguous: bool
    resolved_by: str | None = Field(description="1m or rule, where a candle touched both "
                                                "stop and target")
    updated_at: datetime


class Signal(BaseModel):
    id: int
    strategy: str
    strategy_version: str
    exchange: str
    symbol: str
    timeframe: str
    signal_ts: datetime = Field(description="close time of the candle that gave the signal")
    direction: str = Field(description="long or short")
    reference_price: Price
    entry: Price
    stop_loss: Price
    take_profit_1: Price
    take_profit_2: Price
    confidence: float
    valid_until: datetime
    created_at: datetime
    outcome: Outcome | None = Field(description="null until the signal is first evaluated")


class SignalPage(BaseModel):
    signals: list[Signal]
    next: Next


class Performance(BaseModel):
    """A strategy version's record on one symbol as of the end of `as_of`: live (signals
    since live_since) beside its backtest (signals before)."""
    strategy: str
    strategy_version: str
    exchange: str
    symbol: str
    timeframe: str
    as_of: date
    live_since: datetime
    live_trades: int
    live_win_rate: float | None
    live_expectancy_r: float | None
    live_profit_factor: float | None
    live_max_drawdown_r: float
    backtest_trades: int
    backtest_win_rate: float | None
    backtest_expectancy_r: float | None
    backtest_profit_factor: float | None
    backtest_max_drawdown_r: float
    expectancy_floor_r: float | None
    degraded: bool
    reason: str
    computed_at: datetime


class PerformancePage(BaseModel):
    performance: list[Performance]
    next: Next
