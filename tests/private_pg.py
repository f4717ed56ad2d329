"""Servers of a test's own on 127.0.0.1: a free port, and a PostgreSQL cluster to stop,
restart and start without disturbing the shared server the other tests (and the other
pytest-xdist worker) use at the same time."""

import glob
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder, if any."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(Path(p).parent.name))
    return Path(binaries[-1]) if binaries else None


class PrivateCluster:
    """initdb will not run as root: the postgres user runs it, in a directory it owns."""

    def __init__(self, root: Path, binaries: Path):
        self.bin = binaries
        self.root, self.data, self.port = root, root / "data", free_port()
        self.server = f"postgresql://postgres@127.0.0.1:{self.port}"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/titan"

    def create(self) -> None:
        self._as_postgres(self.bin / "initdb", "-D", self.data, "-A", "trust", "-U",
                          "postgres", "--no-sync")
        self.start()
        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE titan")

    def start(self) -> None:
        self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-l", self.root / "log",
                          "-w", "-o", f"-p {self.port} -k {self.root} "
                          "-c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def restart(self) -> None:
        """As `pg_ctlcluster restart` does: a fast shutdown, then a start."""
        self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        self.start()

    def stop(self, check: bool = True) -> None:
        self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop",
                          check=check)

    def _as_postgres(self, *command, check: bool = True) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *map(str, command)], check=check,
                       capture_output=True, timeout=120)


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    binaries = postgres_binaries()
    if binaries is None:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    root = Path(tempfile.mkdtemp(prefix="titan-pg-"))
    shutil.chown(root, "postgres", "postgres")
    cluster = PrivateCluster(root, binaries)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.stop(check=False)
        shutil.rmtree(root, ignore_errors=True)
