"""`titan dev`: `dg dev` (webserver and daemon) with a persistent local instance, or with
`--demo` on the demo's warehouse and instance, its emulators serving again. The terminal
shows where the UI is once it answers; Dagster's own log goes to .titan/dev.log."""

import signal
import subprocess
import sys
import urllib.error
import urllib.request

from rich.console import Console

from titan_dagster.cli.dagster_tools import CODE_LOCATION, dg_command, local_instance
from titan_dagster.cli.demo_world import DemoFiles, NoDemo, demo_world
from titan_dagster.cli.run_failure import last_line
from titan_dagster.config import ConfigError, load_config
from titan_dagster.dagster_env import with_bookkeeping_settings
from titan_dagster.state import state_dir

READY_POLL_S = 0.5


def dev_command(dagster_args: list[str]) -> list[str]:
    """The webserver has no login: it listens on this machine only (README: exposing it)."""
    return dg_command("dev", "-h", "127.0.0.1", *CODE_LOCATION, *dagster_args)


def run_dev(dagster_args: list[str], demo: bool = False) -> int:
    try:
        config = load_config()  # the code location would fail on it, deep in the log
        if not demo:
            env = with_bookkeeping_settings()
            env.setdefault("DAGSTER_HOME", str(local_instance(state_dir("dagster"))))
            return _serve(dagster_args, env)
        files = DemoFiles.here()
        # The emulators serve again, so the schedules and sensors keep the demo current.
        with demo_world(config, files.start(), files):
            return _serve(dagster_args, files.environment(), f", the demo's: {files.database}")
    except (ConfigError, NoDemo) as error:
        print(f"titan dev: {error}", file=sys.stderr)
        return 2


def _serve(dagster_args: list[str], env: dict[str, str], what: str = "") -> int:
    # Ctrl-C and a supervisor's SIGTERM both stop dg dev cleanly, also where titan was started
    # with SIGINT ignored (a background job): dg dev would inherit that and ignore both.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    log = state_dir() / "dev.log"
    url = f"http://127.0.0.1:{_port(dagster_args)}"
    print(f"titan dev: Dagster webserver and daemon, instance {env['DAGSTER_HOME']}{what}\n"
          f"  Dagster log {log}", flush=True)
    with log.open("w") as output:
        server = subprocess.Popen(dev_command(dagster_args), env=env, stdout=output,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            with Console().status("starting Dagster"):
                code = _wait_until_ready(server, url)
            if code is None:
                print(f"Dagster UI on {url} (Ctrl-C stops it)", flush=True)
                code = server.wait()
        except KeyboardInterrupt:
            # A terminal's Ctrl-C reached dg dev too; a signal to titan alone did not.
            server.send_signal(signal.SIGINT)
            server.wait()
            print("titan dev: stopped")
            return 0
    if code:
        print(f"titan dev: {last_line(log) or 'Dagster stopped'}\n  (Dagster's log: {log})",
              file=sys.stderr)
    return code


def _wait_until_ready(server: subprocess.Popen, url: str) -> int | None:
    """None once the webserver answers; the exit code if it stopped first."""
    while True:
        try:
            return server.wait(timeout=READY_POLL_S)
        except subprocess.TimeoutExpired:
            pass
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=READY_POLL_S):
                return None
        except (urllib.error.URLError, OSError):
            continue


def _port(dagster_args: list[str]) -> str:
    for i, arg in enumerate(dagster_args):
        if arg in ("-p", "--port") and i + 1 < len(dagster_args):
            return dagster_args[i + 1]
        if arg.startswith("--port="):
            return arg.split("=", 1)[1]
    return "3000"
