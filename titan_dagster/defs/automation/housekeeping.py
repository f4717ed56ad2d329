"""Keeps Dagster's event log bounded: a run a minute is 1440 runs a day, and Dagster never
deletes runs by itself. Finished runs tagged ephemeral (refreshes, live strategy runs,
housekeeping) are deleted once older than `keep_hours`; backfills and heal runs are kept."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from pydantic import Field

from titan_dagster.defs.automation.lanes import EPHEMERAL_TAG

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED]


class HousekeepingConfig(dg.Config):
    keep_hours: float = Field(default=24, ge=0,
                              description="Delete finished refresh and live strategy runs "
                                          "older than this.")


def delete_old_ephemeral_runs(instance: dg.DagsterInstance, older_than: datetime,
                              batch: int = 500) -> int:
    deleted = 0
    while True:
        records = instance.get_run_records(
            dg.RunsFilter(tags={EPHEMERAL_TAG: "true"}, statuses=FINISHED,
                          updated_before=older_than), limit=batch)
        run_ids = [record.dagster_run.run_id for record in records]
        for run_id in run_ids:
            instance.delete_run(run_id)
        _delete_check_executions(instance, run_ids)
        deleted += len(records)
        if len(records) < batch:
            return deleted


def _delete_check_executions(instance: dg.DagsterInstance, run_ids: list[str]) -> None:
    """Dagster's delete_run leaves a run's rows in asset_check_executions (one per check and
    partition: the minute refresh of 20 symbols adds ~29k a day). There is no public API for
    them, so they go through the event log storage's own table."""
    storage = instance.event_log_storage
    if run_ids and isinstance(storage, SqlEventLogStorage):
        with storage.index_transaction() as conn:
            conn.execute(AssetCheckExecutionsTable.delete().where(
                AssetCheckExecutionsTable.c.run_id.in_(run_ids)))


@dg.op
def delete_old_refresh_runs(context: dg.OpExecutionContext, config: HousekeepingConfig) -> int:
    cutoff = datetime.now(UTC) - timedelta(hours=config.keep_hours)
    deleted = delete_old_ephemeral_runs(context.instance, cutoff)
    context.log.info(f"deleted {deleted} finished ephemeral runs older than "
                     f"{cutoff:%Y-%m-%d %H:%M}")
    return deleted


@dg.job(tags={EPHEMERAL_TAG: "true"}, executor_def=dg.in_process_executor,
        description="Deletes finished minute-refresh and live strategy runs older than "
                    "keep_hours (default 24).")
def titan_housekeeping():
    delete_old_refresh_runs()


housekeeping_schedule = dg.ScheduleDefinition(
    name="titan_housekeeping_hourly", job=titan_housekeeping, cron_schedule="17 * * * *",
    execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING)
