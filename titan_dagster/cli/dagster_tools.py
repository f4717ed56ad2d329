"""How `titan` starts Dagster: the `dg` CLI of the environment titan itself runs in (found
beside its interpreter, so `.venv/bin/titan` works with nothing activated and nothing on
PATH), against a local instance that titan creates with telemetry off."""

import sys
import sysconfig
from pathlib import Path

from titan_dagster.shipped import shipped_path

CODE_LOCATION = ("-m", "titan_dagster.definitions")


def dg_command(*args: str) -> list[str]:
    """`dg ARGS` as the console script of this interpreter's environment."""
    script = Path(sysconfig.get_path("scripts")) / "dg"
    if not script.exists():  # an interpreter without a scripts folder of its own
        return [sys.executable, "-c", "from dagster_dg_cli.cli import main; main()", *args]
    return [str(script), *args]


def local_instance(home: Path) -> Path:
    """`home` as a Dagster instance with the shipped dagster.yaml: Dagster's default SQLite
    storage, runs queued one per lane (so the exchange budget holds on one machine too), no
    telemetry. An existing dagster.yaml is the user's and stays as it is."""
    settings = home / "dagster.yaml"
    if not settings.exists():
        home.mkdir(parents=True, exist_ok=True)
        settings.write_text(shipped_path("dagster.yaml").read_text())
    return home
