"""What the HTTP benchmarks share: test data, server processes and a load client.

Everything stays on 127.0.0.1. Every server is a subprocess that the caller
stops (``stop_all`` in a ``finally``); every load loop ends after a number of
requests or a number of seconds, whichever comes first.
"""
from __future__ import annotations

import dataclasses
import datetime
import http.client
import json
import os
import pathlib
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Callable

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
HAL = "application/hal+json"
STARTED_AT = datetime.datetime(2026, 1, 1, 12, 0, 0)


# -- test data ----------------------------------------------------------------
def user_rows(count: int, first_id: int = 1) -> list[dict]:
    """``count`` users with ids ``first_id``.., the same for every target."""
    return [
        {
            "id": number,
            "user_id": f"user{number:04d}",
            "amazon_id": f"amz{100000 + number}",
            "name": f"Shopper Number {number}",
            "email": f"shopper{number}@example.com",
            "date_created": STARTED_AT + datetime.timedelta(seconds=number),
            "date_modified": STARTED_AT + datetime.timedelta(seconds=number),
        }
        for number in range(first_id, first_id + count)
    ]


def create_database(path: pathlib.Path, users: list[dict], *, before: Callable[[], None] | None = None,
                    after: Callable[[], None] | None = None) -> None:
    """A Flexigift SQLite database at ``path`` (schema by its migrations) holding ``users``.

    ``before`` and ``after`` run before and after the users are inserted, in the
    same connection (e.g. to load the demo data, or to create gift cards).
    """
    from flexigift.app import create_app
    from flexigift.config import Config
    from flexigift.models import User

    app = create_app(Config(database_url=f"sqlite:///{path}", auth=False))
    db = app.extensions["flexigift_db"]
    with db.connection_context():
        if before is not None:
            before()
        with db.atomic():
            for start in range(0, len(users), 200):
                User.insert_many(users[start:start + 200]).execute()
        if after is not None:
            after()
    db.close_all()


def json_server_document(users: list[dict]) -> str:
    """db.json for json-server: the same users, dates as ISO text."""
    rows = [{key: value.isoformat() if isinstance(value, datetime.datetime) else value
             for key, value in user.items()} for user in users]
    return json.dumps({"users": rows})


# -- server processes ---------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class Server:
    """One server subprocess listening on ``HOST:port``."""

    name: str
    process: subprocess.Popen
    port: int
    log: pathlib.Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, probe_path: str, timeout: float = 60.0) -> None:
        """Return once ``GET probe_path`` answers 200; raise if the process dies or it takes too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; "
                                   f"its log:\n{self.log.read_text(errors='replace')[-2000:]}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
                connection.request("GET", probe_path, headers={"Accept": HAL})
                status = connection.getresponse().status
                connection.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(name: str, command: list[str], port: int, workdir: pathlib.Path) -> Server:
    log = workdir / f"{name}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd=workdir)
    return Server(name, process, port, log)


def start_python_app(app: str, database: pathlib.Path, threads: int, workdir: pathlib.Path) -> Server:
    """``app`` ("flexigift" or "minimal") under waitress, with the settings of ``_serve.py``."""
    port = free_port()
    command = [sys.executable, str(HERE / "_serve.py"), app, "--database", str(database),
               "--port", str(port), "--threads", str(threads)]
    return start_server(app, command, port, workdir)


def stop_all(servers: list[Server]) -> None:
    for server in servers:
        try:
            server.stop()
        except Exception as error:  # keep stopping the others
            print(f"  could not stop {server.name} (pid {server.pid}): {error}", file=sys.stderr)


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of ``pid`` in KiB, from /proc/<pid>/status."""
    values = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


# -- a load client in Python --------------------------------------------------
#: A request to send: (method, path, JSON body or None).
Request = tuple[str, str, "dict | None"]


@dataclasses.dataclass
class LoadResult:
    requests: int
    seconds: float
    statuses: Counter
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def python_load(port: int, next_request: Callable[[random.Random, int, int], Request], *,
                connections: int, max_requests: int, max_seconds: float, seed: int = 1) -> LoadResult:
    """Send requests from ``connections`` threads, one keep-alive connection each.

    ``next_request(rng, thread_index, sequence)`` says what to send. Stops after
    ``max_requests`` in all or ``max_seconds``, whichever comes first.
    """
    shares = [max_requests // connections + (1 if index < max_requests % connections else 0)
              for index in range(connections)]
    results: list[tuple[int, Counter, int]] = [(0, Counter(), 0)] * connections
    deadline = time.monotonic() + max_seconds

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        statuses: Counter = Counter()
        done = errors = 0
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            while done < shares[index] and time.monotonic() < deadline:
                method, path, body = next_request(rng, index, done)
                headers = {"Accept": HAL}
                payload = None
                if body is not None:
                    payload = json.dumps(body).encode()
                    headers["Content-Type"] = "application/json"
                try:
                    connection.request(method, path, body=payload, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    statuses[response.status] += 1
                except (OSError, http.client.HTTPException):
                    errors += 1
                    connection.close()
                    connection = http.client.HTTPConnection(HOST, port, timeout=30)
                done += 1
        finally:
            connection.close()
        results[index] = (done, statuses, errors)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(index,), daemon=True) for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max_seconds + 60)
    elapsed = time.perf_counter() - started
    total = sum(done for done, _, _ in results)
    statuses = sum((counter for _, counter, _ in results), Counter())
    errors = sum(error for _, _, error in results)
    return LoadResult(total, elapsed, statuses, errors)


# -- a lean load client: asyncio over raw sockets ----------------------------------
def socket_load(port: int, next_request: Callable[[random.Random, int, int], Request], *,
                connections: int, max_seconds: float, seed: int = 1,
                max_requests: int | None = None) -> LoadResult:
    """:func:`python_load` for a server that must not share its cores with a heavy client:
    one thread, ``connections`` keep-alive connections multiplexed by asyncio, each
    request written as bytes and its response read by ``Content-Length`` (or chunks).
    One request at a time per connection (no pipelining), as a real client sends them.
    Stops after ``max_seconds``, or once ``max_requests`` in all have been sent."""
    import asyncio

    unsent = [max_requests]  # one thread: the connections take from it in turn

    async def connection(index: int, deadline: float, statuses: Counter, counts: list[int]) -> None:
        rng = random.Random(seed * 1000 + index)
        reader, writer = await asyncio.open_connection(HOST, port)
        sequence = 0
        try:
            while time.monotonic() < deadline:
                if unsent[0] is not None:
                    if unsent[0] <= 0:
                        break
                    unsent[0] -= 1
                method, path, body = next_request(rng, index, sequence)
                sequence += 1
                payload = b"" if body is None else json.dumps(body).encode()
                head = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: {HAL}\r\n"
                        + (f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                           if body is not None else "") + "\r\n")
                try:
                    writer.write(head.encode() + payload)
                    status, closing = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    counts[1] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
                    continue
                statuses[status] += 1
                counts[0] += 1
                if closing:  # the server ends the connection (gunicorn's sync workers do)
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
        finally:
            writer.close()

    async def run() -> tuple[Counter, list[int]]:
        statuses: Counter = Counter()
        counts = [0, 0]  # requests answered, connection errors
        deadline = time.monotonic() + max_seconds
        await asyncio.gather(*(connection(index, deadline, statuses, counts) for index in range(connections)))
        return statuses, counts

    started = time.perf_counter()
    statuses, (answered, errors) = asyncio.run(run())
    return LoadResult(answered, time.perf_counter() - started, statuses, errors)


async def _read_response(reader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response off ``reader``; its status, and whether the server closes."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, closing = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            closing = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, closing


# -- where the CPU goes --------------------------------------------------------------
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU seconds each of ``pids`` has used (its threads included); gone ones left out."""
    seconds = {}
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return seconds


def process_tree(root: int) -> list[int]:
    """``root`` and every process descending from it."""
    children: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two :func:`cpu_seconds` readings (a process new since counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_summary() -> str:
    """CPUs, Python, and the load average, with a warning when other work is running."""
    cpus = os.cpu_count() or 1
    load = os.getloadavg()[0]
    summary = f"{cpus} CPUs, Python {sys.version.split()[0]}, load average {load:.2f}"
    if load > cpus / 2:
        summary += " (WARNING: the machine is busy with other work; figures will be noisy)"
    return summary
