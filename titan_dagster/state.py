"""Where titan_dagster keeps its own files beside the warehouse: the demo, the local Dagster
instance, backtest reports. `.titan/` in the working directory, or $TITAN_STATE_DIR."""

import os
from pathlib import Path

STATE_DIR_ENV = "TITAN_STATE_DIR"


def state_dir(*parts: str) -> Path:
    path = Path(os.environ.get(STATE_DIR_ENV) or ".titan").joinpath(*parts).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
