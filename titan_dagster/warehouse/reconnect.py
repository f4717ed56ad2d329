"""Riding out PostgreSQL restarts, failovers and deadlocks.

Every warehouse operation is one transaction that can be repeated without changing its
result (upserts, idempotent deletes, reads), so on a lost connection or a transaction the
server rolled back, the operation is simply run again on a fresh connection, with backoff,
until the server is back or the reconnect budget is spent.
"""

import functools
import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import psycopg
import sqlalchemy as sa

from titan_dagster.exchange.retry import RetryPolicy

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

# Connection refused or lost, server shutting down (AdminShutdown is an OperationalError).
_CONNECTION_LOST = (psycopg.OperationalError, psycopg.InterfaceError)
# Deadlocks and serialization failures: the server rolled the transaction back; a retry wins.
_ROLLED_BACK = (psycopg.errors.TransactionRollback,)
# The exchange client's backoff (full jitter spreads concurrent writers apart), on a scale
# fit for a server restart; the budget, not an attempt count, ends it.
_BACKOFF = RetryPolicy(base_delay_s=0.1, max_delay_s=5.0)


class WarehouseUnavailable(RuntimeError):
    """The warehouse database stayed unreachable for the whole reconnect budget."""


def transient(error: BaseException) -> bool:
    """Whether running the same transaction again may succeed."""
    return isinstance(_driver_error(error), _CONNECTION_LOST + _ROLLED_BACK)


def _driver_error(error: BaseException) -> BaseException:
    """psycopg's own error, from inside SQLAlchemy's wrapper if it has one."""
    if isinstance(error, sa.exc.DBAPIError) and error.orig is not None:
        return error.orig
    return error


def reconnecting(method: Callable[P, T]) -> Callable[P, T]:
    """Retries a Warehouse method on transient PostgreSQL errors for up to its
    `reconnect_timeout_s`, then raises WarehouseUnavailable naming the (masked) URL."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if self.backend != "postgresql":
            return method(self, *args, **kwargs)
        deadline = time.monotonic() + self.reconnect_timeout_s
        attempt = 0
        while True:
            attempt += 1
            try:
                return method(self, *args, **kwargs)
            except (sa.exc.DBAPIError, *_CONNECTION_LOST, *_ROLLED_BACK) as error:
                if not transient(error):
                    raise
                reason = _first_line(error)
                delay = _BACKOFF.delay_s(attempt)
                if time.monotonic() + delay > deadline:
                    raise WarehouseUnavailable(
                        f"warehouse {self.display_url} unavailable for "
                        f"{self.reconnect_timeout_s:g} s ({method.__name__}): {reason}"
                    ) from None
                log.warning("warehouse %s: %s failed (%s); retrying in %.1f s",
                            self.display_url, method.__name__, reason, delay)
                time.sleep(delay)

    return wrapper


def _first_line(error: BaseException) -> str:
    error = _driver_error(error)
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
