"""Environment settings that make Dagster's per-partition bookkeeping cheap for range runs
(figures in BENCHMARKS.md). Dagster reads them only from the environment of the process that
writes the events, so they belong in the environment of every Dagster process. The code
location sets them in every process that loads it (a `dagster asset materialize` CLI, a run
worker), `titan dev` and `titan demo` in the webserver and daemon too, which do not load
it; a service sets them in its unit or container (README "Production"). A value already in
the environment wins.
"""

import os

BOOKKEEPING_ENV = {
    # A range run writes one planned event per asset instead of one per asset and day. Dagster
    # then cannot mark the days of a failed run as failed; they show as missing, and the heal
    # sensor, which works from the warehouse's complete days, re-fetches them either way.
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
    # A range run's materializations (one per asset and day) are written in batches; on
    # dagster-postgres each batch is one INSERT.
    "DAGSTER_EVENT_BATCH_SIZE": "1000",
}


def with_bookkeeping_settings() -> dict[str, str]:
    """This process's environment plus the settings it does not set itself."""
    return {**BOOKKEEPING_ENV, **os.environ}


def apply_bookkeeping_settings() -> None:
    """Sets in this process's environment the settings it does not set itself."""
    for name, value in BOOKKEEPING_ENV.items():
        os.environ.setdefault(name, value)
