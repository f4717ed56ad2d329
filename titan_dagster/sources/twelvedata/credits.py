"""Twelve Data's plan limits, shared by every run: credits per minute and per UTC day.

Runs are separate processes. Per minute, each paces itself to its share of the plan (the
backfill half, the minute refresh a quarter), so together they stay under the limit in every
minute. Per day, each request first reserves a credit in the warehouse (one atomic update),
so all runs draw on one count; a run may use its share of what was left when it started, so
a long backfill never takes the credits the day's refreshes need.
"""

import asyncio
import math
from datetime import UTC, date, datetime
from typing import Protocol

from titan_dagster.exchange.pacing import Pacer
from titan_dagster.sources.twelvedata.answers import CreditsExhausted


class CreditLedger(Protocol):
    def credits_used(self, source: str, day: date) -> int: ...

    def spend_credit(self, source: str, day: date, limit: int) -> bool: ...


class CreditBudget:
    def __init__(self, source: str, per_minute: int, per_day: int, share: float,
                 ledger: CreditLedger):
        self.source, self.per_day, self.share, self.ledger = source, per_day, share, ledger
        # Whole credits per minute: 8 x 0.25 is 2, and the shares' sum stays within the plan.
        self.per_minute = max(1, math.floor(per_minute * share))
        self._pacer = Pacer(self.per_minute / 60)
        self._day: date | None = None
        self._allowance = self.spent_today = 0

    async def pace(self) -> None:
        """Until this run's next turn within its share of the minute's credits."""
        await self._pacer.wait()

    async def reserve(self) -> None:
        """One of the day's credits for the request about to go, or CreditsExhausted."""
        today = datetime.now(UTC).date()
        if today != self._day:
            used = await asyncio.to_thread(self.ledger.credits_used, self.source, today)
            self._day, self.spent_today = today, 0
            self._allowance = math.floor(self.share * max(0, self.per_day - used))
        if self.spent_today >= self._allowance:
            raise CreditsExhausted(
                f"{self.source}: this run's share of the day's credits is used up "
                f"({self.spent_today} of {self._allowance}: {self.share:.0%} of what was left "
                f"of {self.per_day} when it started); the rest is fetched later")
        if not await asyncio.to_thread(self.ledger.spend_credit, self.source, today,
                                       self.per_day):
            raise CreditsExhausted(f"{self.source}: the day's {self.per_day} credits are used "
                                   "up by all runs together; the rest is fetched tomorrow")
        self.spent_today += 1
