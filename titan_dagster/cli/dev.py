"""`titan dev`: `dagster dev` with a persistent local instance."""

import subprocess

import yaml

from titan_dagster.dagster_env import with_bookkeeping_settings
from titan_dagster.shipped import shipped_path
from titan_dagster.state import state_dir


# The local instance keeps Dagster's default SQLite storage but queues runs like the shipped
# dagster.yaml, one per lane, so the exchange budget holds on one machine too.
def _local_instance() -> str:
    shipped = yaml.safe_load(shipped_path("dagster.yaml").read_text())
    return yaml.safe_dump({key: shipped[key] for key in ("run_coordinator", "telemetry")})


def dev_command(dagster_args: list[str]) -> list[str]:
    """The webserver has no login: it listens on this machine only (README: exposing it)."""
    return ["dagster", "dev", "-h", "127.0.0.1", *dagster_args]


def run_dev(dagster_args: list[str]) -> int:
    env = with_bookkeeping_settings()
    if "DAGSTER_HOME" not in env:
        home = state_dir("dagster")
        if not (home / "dagster.yaml").exists():
            (home / "dagster.yaml").write_text(_local_instance())
        env["DAGSTER_HOME"] = str(home)
    command = dev_command(dagster_args)
    print(f"DAGSTER_HOME={env['DAGSTER_HOME']} {' '.join(command)}", flush=True)
    return subprocess.call(command, env=env)
