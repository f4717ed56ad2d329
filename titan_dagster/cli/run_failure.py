"""The one line that says why a Dagster command failed, for a terminal that shows its log only
in a file: the failed step's error from the instance's event log when a run failed, else the
last line of the log (a command that failed before any run, e.g. loading the code location,
ends its traceback with the error)."""

from pathlib import Path

import dagster as dg


def failure_line(home: Path, log: Path) -> str:
    return _run_error(home) or last_line(log) or f"failed; see {log}"


def _run_error(home: Path) -> str | None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs or runs[0].status != dg.DagsterRunStatus.FAILURE:
            return None
        run = runs[0]
        for event_type in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE):
            for record in instance.get_records_for_run(run.run_id,
                                                       of_type=event_type).records:
                event = record.event_log_entry.dagster_event
                error = getattr(event.event_specific_data, "error", None)
                if error is not None:
                    cause = error
                    while cause.cause is not None:  # the user code's own error
                        cause = cause.cause
                    return _first_line(cause.message)
                if event.message:
                    return _first_line(event.message)
    return None


def last_line(log: Path) -> str | None:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    except OSError:
        return None
    return next((line for line in reversed(lines) if line), None)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
