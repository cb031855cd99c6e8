"""A real ``flexigift serve`` for the browser tests, and screenshots of what they see."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from servers import REPOSITORY, call, free_port, serving

OUTPUT = pathlib.Path(os.environ.get("FLEXIGIFT_TEST_OUTPUT", REPOSITORY / "test-output"))


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
    server = LiveServer(f"http://127.0.0.1:{port}", database_url)
    command = [sys.executable, "-m", "flexigift.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               *options]
    with serving(command, env, f"{server.url}/static/flexigift.css"):
        yield server
