"""Item 8: every documented way of starting the webserver binds it to 127.0.0.1."""

import re
from pathlib import Path

from titan_dagster.cli.dev import dev_command

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_titan_dev_listens_on_this_machine_only():
    command = dev_command(["-p", "3001"])
    assert Path(command[0]).name == "dg"
    assert command[1:4] == ["dev", "-h", "127.0.0.1"]


def test_every_documented_webserver_command_binds_to_127_0_0_1():
    # The commands with options; "`dg dev`" alone names the tool in a sentence.
    launches = re.findall(r"(?:dg dev|dagster dev|dagster-webserver)(?: -[^`\n]*)", README)
    assert len(launches) >= 4, launches
    for command in launches:
        assert "-h 127.0.0.1" in command, command
