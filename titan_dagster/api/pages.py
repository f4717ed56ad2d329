"""Keyset pagination: each page asks for one row more than it shows, so a `next` is given
only when there really is a next page, and that page starts where this one ended, however
many rows were written in between."""

from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request


def page(request: Request, rows: list[dict], limit: int,
         cursor: Callable[[dict], str | int]) -> tuple[list[dict], str | None]:
    """The first `limit` of `rows` (queried with limit + 1) and the path and query of the
    next page: the request's own, with `after` set to the cursor of the last row shown."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    url = request.url.include_query_params(after=cursor(rows[-1]))
    return rows, f"{url.path}?{url.query}"


def iso_z(moment: datetime) -> str:
    """A UTC time as the API writes it: whole seconds unless it has milliseconds."""
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")
