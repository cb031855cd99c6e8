"""A real ``flexigift serve`` for the browser tests, and screenshots of what they see."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from servers import REPOSITORY, call, free_port

OUTPUT = pathlib.Path(os.environ.get("FLEXIGIFT_TEST_OUTPUT", REPOSITORY / "test-output"))
START_TIMEOUT = 30.0


def screenshot(page, name: str) -> pathlib.Path:
    """Save a screenshot of ``page`` as ``test-output/<name>.png``."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class LiveServer:
    """A ``flexigift serve`` process: its base URL and database."""

    url: str
    database_url: str

    def cli(self, *args: str) -> str:
        """Run a ``flexigift`` command against the server's database; its standard output."""
        done = subprocess.run([sys.executable, "-m", "flexigift.cli", *args], cwd=REPOSITORY,
                              env={**os.environ, "DATABASE_URL": self.database_url},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def api(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return call(method, f"{self.url}{path}", body, headers)


@contextmanager
def flexigift_serve(database_url: str, *options: str) -> Iterator[LiveServer]:
    """``flexigift serve`` on a free loopback port, stopped when the block ends."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEXIGIFT_")}
    env["DATABASE_URL"] = database_url
    with tempfile.TemporaryDirectory() as directory:
        log = pathlib.Path(directory) / "serve.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "flexigift.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                 *options], cwd=REPOSITORY, env=env, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
            server = LiveServer(f"http://127.0.0.1:{port}", database_url)
            try:
                _wait(process, server, log)
                yield server
            finally:
                _stop(process)


def _wait(process: subprocess.Popen, server: LiveServer, log: pathlib.Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"flexigift serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if call("GET", f"{server.url}/static/flexigift.css")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"flexigift serve did not answer within {START_TIMEOUT}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, 15)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=15)
