import pytest

from titan_dagster.state import STATE_DIR_ENV


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    """Reports and other state files of a test go to its own directory, not the repo's."""
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    return tmp_path / "state"
