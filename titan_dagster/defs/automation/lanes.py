"""Run tags that keep the exchange budget honest across runs.

dagster.yaml limits runs per unique `titan/lane` value to one, so per exchange at most one
backfill-type run and one refresh run hold the exchange at a time, each within its share.
"""

import dagster as dg

LANE_TAG = "titan/lane"
# Finished runs carrying this tag are deleted by housekeeping once old enough.
EPHEMERAL_TAG = "titan/ephemeral"


def backfill_lane(exchange: str) -> dict[str, str]:
    return {LANE_TAG: f"{exchange}/backfill"}


def refresh_lane(exchange: str) -> dict[str, str]:
    return {LANE_TAG: f"{exchange}/refresh", EPHEMERAL_TAG: "true"}


_ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
           dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def run_active(instance: dg.DagsterInstance, tags: dict[str, str]) -> bool:
    """Whether a run carrying `tags` is queued or running."""
    return bool(instance.get_run_ids(dg.RunsFilter(tags=tags, statuses=_ACTIVE), limit=1))
