"""A real multi-process Flexigift server for concurrency tests: ``gunicorn -w 4``
on 127.0.0.1, serving ``wsgi:app`` on a given database, stopped (and killed if
need be) when the block ends. Every wait is bounded in time.
"""
from __future__ import annotations

import http.client
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 60.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    """One HTTP request; its status and body (error statuses included)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Accept": "application/json", "Content-Type": "application/json", **(headers or {})})
    try:
        with _OPENER.open(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_until_serving(process: subprocess.Popen, url: str, log: pathlib.Path, status: int = 200) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if call("GET", url)[0] == status:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within {START_TIMEOUT}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and every process it started (it leads its own process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextmanager
def serving(command: list[str], env: dict[str, str], ready_url: str, ready_status: int = 200) -> Iterator[None]:
    """Run ``command`` (a server) until the block ends, once ``ready_url`` answers ``ready_status``."""
    with tempfile.TemporaryDirectory() as directory:
        log = pathlib.Path(directory) / "server.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(command, cwd=REPOSITORY, env=env, stdout=output,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
            try:
                _wait_until_serving(process, ready_url, log, ready_status)
                yield
            except BaseException:
                # A failing test shows what the server said (pytest prints captured output).
                _stop(process)
                print(f"--- the log of {' '.join(command[:4])} ---")
                print(log.read_text(errors="replace")[-20_000:])
                raise
            finally:
                _stop(process)


@contextmanager
def gunicorn(database_url: str, ready_path: str, workers: int = 4, threads: int = 4,
             env: dict[str, str] | None = None, ready_status: int = 200,
             log_level: str = "info") -> Iterator[str]:
    """Serve ``database_url`` with ``workers`` processes; the base URL, once ``ready_path``
    answers ``ready_status``. Authentication is off unless ``env`` says otherwise."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "FLEXIGIFT_AUTH": "off", **(env or {})}
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
               "--bind", f"{HOST}:{port}", "--chdir", str(REPOSITORY), "--graceful-timeout", "5",
               "--log-level", log_level, "wsgi:app"]
    with serving(command, env, base + ready_path, ready_status):
        yield base


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
def flexigift_serve(database_url: str, *options: str, settings: dict[str, str] | None = None
                    ) -> Iterator[LiveServer]:
    """``flexigift serve`` on a free loopback port, stopped when the block ends (``settings``:
    the only ``FLEXIGIFT_*`` variables it sees)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEXIGIFT_")}
    env.update(settings or {})
    env["DATABASE_URL"] = database_url
    server = LiveServer(f"http://127.0.0.1:{port}", database_url)
    command = [sys.executable, "-m", "flexigift.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               *options]
    with serving(command, env, f"{server.url}/static/flexigift.css"):
        yield server


# -- the servers README.rst recommends ------------------------------------------------
#: ``flexigift serve`` (granian); granian, gunicorn and waitress serving ``wsgi:app`` as
#: README.rst shows them (two granian workers here, for the test machine's cores).
RECOMMENDED = ("serve", "granian", "gunicorn", "waitress")


def recommended_command(name: str, port: int, database_url: str) -> list[str]:
    python = [sys.executable, "-m"]
    return {
        "serve": [*python, "flexigift.cli", "serve", "--host", HOST, "--port", str(port),
                  "--database-url", database_url, "--workers", "2"],
        "granian": [*python, "granian", "--interface", "wsgi", "--host", HOST, "--port", str(port),
                    "--workers", "2", "--blocking-threads", "4", "wsgi:app"],
        "gunicorn": [*python, "gunicorn", "-w", "4", "--threads", "16", "--bind", f"{HOST}:{port}",
                     "wsgi:app"],
        "waitress": [*python, "waitress", "--listen", f"{HOST}:{port}", "wsgi:app"],
    }[name]


@contextmanager
def recommended_server(name: str, database_url: str) -> Iterator[str]:
    """One of the :data:`RECOMMENDED` servers on a free port, serving ``database_url``
    (migrated first, as README.rst says) with authentication off; its base URL."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEXIGIFT_")}
    env.update(DATABASE_URL=database_url, FLEXIGIFT_AUTH="off", FLEXIGIFT_SERVE_DELIVERER="off")
    if name == "serve":
        del env["FLEXIGIFT_AUTH"]  # on a loopback address it is off by itself
    subprocess.run([sys.executable, "-m", "flexigift.cli", "init-db"], cwd=REPOSITORY, env=env,
                   capture_output=True, check=True, timeout=60)
    base = f"http://{HOST}:{port}"
    with serving(recommended_command(name, port, database_url), env, base + "/users"):
        yield base


def exchange(base: str, head: bytes, body_parts=(), timeout: float = 10.0) -> "http.client.HTTPResponse":
    """Send ``head`` (request line and headers, up to the blank line) then ``body_parts``
    over a fresh socket, as they are (chunk framing included); the response, read whole.
    A server may answer and close before the body is all sent: that is not an error here."""
    host, port = base.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        try:
            connection.sendall(head)
            for part in body_parts:
                connection.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = http.client.HTTPResponse(connection)
        response.begin()
        response.body = response.read()
        return response
    finally:
        connection.close()


def chunked(body: bytes, size: int) -> list[bytes]:
    """``body`` framed as HTTP/1.1 chunks of ``size`` bytes, with the last, empty chunk."""
    parts = [b"%x\r\n%s\r\n" % (len(body[at:at + size]), body[at:at + size]) for at in range(0, len(body), size)]
    return [*parts, b"0\r\n\r\n"]
