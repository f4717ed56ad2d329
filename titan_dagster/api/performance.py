"""GET /performance: rows of `strategy_performance`, live against backtest."""

import base64
import json
import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from titan_dagster.api.models import PerformancePage
from titan_dagster.api.pages import page
from titan_dagster.api.params import Limit, Version, bad_parameter, check_range, strategy_query
from titan_dagster.api.queries import PERFORMANCE_KEY, Reads
from titan_dagster.config import TitanConfig

# A key's parts are names and a date: printable ASCII, nothing a database could choke on.
_KEY_PART = re.compile(r"[!-~]{1,64}")


def performance_router(config: TitanConfig, reads: Reads) -> APIRouter:
    Strategy = strategy_query(config)
    routes = APIRouter(tags=["performance"])

    @routes.get("/performance", response_model=PerformancePage)
    def performance(request: Request,
                    strategy: Strategy = None,
                    version: Version = None,
                    start: Annotated[date | None, Query(description="as_of from this "
                                                                    "day")] = None,
                    end: Annotated[date | None, Query(description="as_of up to this day, "
                                                                  "included")] = None,
                    after: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,2000}={0,2}$",
                                                       description="cursor, from a page's "
                                                                   "next")] = None,
                    limit: Limit = 100) -> dict:
        """Rows of strategy_performance in key order: the newest as_of of each strategy
        version and symbol, or with start or end, every day of that range."""
        check_range(request, start, end)
        rows = reads.performance(strategy=strategy, version=version, first=start, last=end,
                                 after=None if after is None else _decode(after),
                                 limit=limit + 1)
        shown, next_page = page(request, rows, limit, _encode)
        return {"performance": shown, "next": next_page}

    return routes


def _encode(row: dict) -> str:
    key = [*(row[c] for c in PERFORMANCE_KEY[:-1]), row["as_of"].isoformat()]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode(cursor: str) -> tuple:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor))
        if isinstance(key, list) and len(key) == len(PERFORMANCE_KEY) and all(
                isinstance(part, str) and _KEY_PART.fullmatch(part) for part in key):
            return (*key[:-1], date.fromisoformat(key[-1]))
    except ValueError:  # not base64, not JSON, not a date
        pass
    raise bad_parameter("after", "is not a cursor of /performance (take it from a page's "
                        "next)", cursor)
