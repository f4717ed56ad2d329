"""Query parameter types. The OpenAPI document and the checking of a request both come from
these annotations, so the two cannot drift apart; a rejected value gets a 422 whose body
names the parameter (FastAPI's `detail[].loc`), and so do the checks that span two
parameters (`bad_parameter`)."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

from titan_dagster.timeframes import to_ms

OUTCOME_STATUSES = ("pending", "open", "tp1", "tp2", "stopped", "breakeven", "expired",
                    "not_filled")
# Four-digit years and no time before the epoch: what the warehouse's times can hold.
_EARLIEST, _LATEST = (to_ms(datetime(year, 1, 1, tzinfo=UTC)) for year in (1970, 9999))
MAX_ID = 2**63 - 1  # bigint: a larger id is no id, not a database error

Limit = Annotated[int, Query(ge=1, le=1000, description="rows per page")]
Version = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                                      description="a strategy version (default: all)")]


def one_of(names: Iterable[str], what: str):
    """A type that takes only `names` (the OpenAPI document lists them)."""
    names = tuple(dict.fromkeys(names))
    if names:
        return Literal[names]

    def none_configured(value: str) -> str:
        raise ValueError(f"no {what} is configured in titan.yaml")

    return Annotated[str, AfterValidator(none_configured)]


def strategy_query(config) -> type:
    """The optional `strategy` parameter: a strategy of the config."""
    names = one_of((s.name for s in config.strategies), "strategy")
    return Annotated[names | None, Query(description="a strategy of titan.yaml")]


def _epoch_ms(moment: datetime) -> int:
    ms = to_ms(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    if not _EARLIEST <= ms < _LATEST:
        raise ValueError("must be from 1970-01-01 to 9998-12-31 (UTC)")
    return ms


# ISO-8601; without an offset, UTC. The value the route sees is epoch ms.
Timestamp = Annotated[datetime, AfterValidator(_epoch_ms)]


def bad_parameter(name: str, message: str, value) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("query", name),
                                    "msg": message, "input": value}])


def check_range(request: Request, start, end) -> None:
    """A start after the end is a mistake to point out, not a range to answer empty."""
    if start is not None and end is not None and start > end:
        raise bad_parameter("start", f"is after end ({request.query_params['end']})",
                            request.query_params["start"])
