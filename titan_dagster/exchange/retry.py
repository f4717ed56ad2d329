"""Exponential backoff with full jitter, honouring the exchange's Retry-After."""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay_s(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Wait before retry number `attempt` (1-based). Full jitter spreads concurrent
        clients apart; an explicit Retry-After is a floor, never shortened."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return max(random.uniform(0, ceiling), retry_after_s or 0.0)


def parse_retry_after(headers: dict | None) -> float | None:
    """Seconds from a Retry-After header (Binance sends seconds; HTTP dates are not used)."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None
