"""A PostgreSQL server of a test's own (initdb into a temporary directory), which the
test may stop and start again: never the shared server on 5432."""
from __future__ import annotations

import glob
import os
import pathlib
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from typing import Iterator

import psycopg

from servers import HOST, free_port

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def unavailable_reason() -> str | None:
    """Why a test cannot run its own PostgreSQL here (None: it can)."""
    if not BINARIES or not os.path.exists(os.path.join(BINARIES[-1], "initdb")):
        return "initdb is not installed (no /usr/lib/postgresql/*/bin/initdb)"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root without runuser: initdb refuses root"
    return None


class OwnPostgres:
    def __init__(self, directory: pathlib.Path, port: int):
        self.directory, self.port = directory, port
        self.data = directory / "data"
        self.url = f"postgresql://postgres@{HOST}:{port}/flexigift"

    def _run(self, *command: str) -> None:
        tool = os.path.join(BINARIES[-1], command[0])
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + [tool, *command[1:]], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        with psycopg.connect(f"host={HOST} port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute("CREATE DATABASE flexigift")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "postgres.log"), "-w",
                  "-o", f"-p {self.port} -k {self.directory} -c listen_addresses={HOST} -c fsync=off",
                  "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A fresh PostgreSQL server holding an empty ``flexigift`` database, stopped at the end."""
    with tempfile.TemporaryDirectory(prefix="fg-pg-") as name:
        directory = pathlib.Path(name)
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        server = OwnPostgres(directory, free_port())
        server.init()
        try:
            yield server
        finally:
            if server.running():
                server.stop()
