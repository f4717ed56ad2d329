"""Item 8: every documented way of starting the webserver binds it to 127.0.0.1."""

import re
from pathlib import Path

from titan_dagster.cli.dev import dev_command

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_titan_dev_listens_on_this_machine_only():
    assert dev_command(["-p", "3001"])[:4] == ["dagster", "dev", "-h", "127.0.0.1"]


def test_every_documented_webserver_command_binds_to_127_0_0_1():
    # The commands with options; "`dagster dev`" alone names the tool in a sentence.
    launches = re.findall(r"(?:dagster dev|dagster-webserver)(?: -[^`\n]*)", README)
    assert len(launches) >= 4, launches
    for command in launches:
        assert "-h 127.0.0.1" in command, command
