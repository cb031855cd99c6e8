"""Benchmark (SPEC 7, fifth bullet): one server process under 100 MB, growing under
5 MB over 100,000 requests.

Run by hand (not in CI), from the repository root::

    python benchmarks/memory.py [--requests 100000] [--threads 8]

Starts Flexigift as the README recommends for production (granian, ``wsgi:app``),
with one worker process, on 127.0.0.1 and a fresh SQLite database holding the demo data
(``flexigift.demo.load_demo_data``), 1,000 more users and 200 more gift cards.
It reads the worker's resident set (VmRSS, and the peak VmHWM, from
``/proc/<pid>/status``) once the server answers, after a warm-up of 1,000
requests, and every tenth of the way through the measured requests: a mix of
``GET /users/<id>`` (60 %), ``GET /gift_cards?limit=20&zoom=user`` at a random
offset (25 %), ``GET /`` (10 %), ``PATCH /users/<id>`` (3 %) and ``POST /users``
(2 %), sent over keep-alive connections by an asyncio client (one thread, so
the server keeps most of the CPU). MB here are 10^6
bytes. Growth is counted from the end of the warm-up. The exit status is 1 when
the final RSS or the growth misses its target, or when a request failed.
"""
from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time
import zlib

import _harness as h

RSS_LIMIT_MB = 100.0
GROWTH_LIMIT_MB = 5.0
EXPECTED = {"GET": 200, "PATCH": 200, "POST": 201}


def fill_database(path: pathlib.Path, users: int, cards: int) -> int:
    """The demo data, ``users`` more users and ``cards`` more gift cards; the number of users."""
    from flexigift.db import database
    from flexigift.demo import USERS, load_demo_data
    from flexigift.resources.gift_cards import GiftCardEndpoint

    rows = h.user_rows(users, first_id=len(USERS) + 1)

    def add_cards() -> None:
        endpoint, rng = GiftCardEndpoint(), random.Random(7)
        with database.atomic():
            for number in range(cards):
                owner = rng.choice(rows)["user_id"] if number % 4 else None
                endpoint.create({"card_id": f"mem-gc-{number:04d}", "user_id": owner,
                                 "issuer": rng.choice(("Gap", "Kohls", "Hanes")),
                                 "balance": rng.randint(5, 200) * 100,
                                 "expiry_date": datetime.date(2027, 12, 31)})

    h.create_database(path, rows, before=load_demo_data, after=add_cards)
    return len(USERS) + users


def request_mix(user_count: int, card_count: int, phase: str):
    """What the client sends: ``next_request(rng, thread, sequence)``."""
    pages = max(1, card_count // 20)

    def next_request(rng: random.Random, thread: int, sequence: int) -> h.Request:
        draw = rng.random()
        user = rng.randint(1, user_count)
        if draw < 0.60:
            return "GET", f"/users/{user}", None
        if draw < 0.85:
            return "GET", f"/gift_cards?limit=20&zoom=user&offset={20 * rng.randrange(pages)}", None
        if draw < 0.95:
            return "GET", "/", None
        if draw < 0.98:
            return "PATCH", f"/users/{user}", {"name": f"Renamed {phase}-{thread}-{sequence}"}
        return "POST", "/users", {"user_id": f"mem-{phase}-{thread}-{sequence}", "name": "Memory Bench",
                                  "email": f"mem-{phase}-{thread}-{sequence}@example.com"}

    return next_request


def start_granian(database: pathlib.Path, threads: int, workdir: pathlib.Path) -> h.Server:
    """``wsgi:app`` under granian as the README runs it in production, with one worker."""
    port = h.free_port()
    log = workdir / "granian.log"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "FLEXIGIFT_AUTH": "off",
           "PYTHONPATH": os.pathsep.join([str(h.HERE.parent), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", h.HOST, "--port", str(port),
               "--workers", "1", "--blocking-threads", str(threads), "wsgi:app"]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=h.HERE.parent, env=env)
    return h.Server("flexigift", process, port, log)


def megabytes(kib: int) -> float:
    return kib * 1024 / 1e6


class Run:
    """The load on one server, in phases, with its RSS read between them."""

    def __init__(self, server: h.Server, user_count: int, card_count: int, connections: int, deadline: float):
        self.server, self.user_count, self.card_count = server, user_count, card_count
        self.connections, self.deadline = connections, deadline
        self.unexpected = 0
        self.sent = 0
        self.busy_seconds = 0.0

    def load(self, requests: int, phase: str) -> int:
        """Send ``requests`` (fewer if the time runs out); how many were sent."""
        remaining = self.deadline - time.monotonic()
        if requests <= 0 or remaining <= 0:
            return 0
        result = h.socket_load(self.server.port, request_mix(self.user_count, self.card_count, phase),
                               connections=self.connections, max_requests=requests, max_seconds=remaining,
                               seed=zlib.crc32(phase.encode()) & 0xFFFF)
        bad = result.errors + sum(count for status, count in result.statuses.items()
                                  if status not in (200, 201))
        if bad:
            print(f"    {bad} unexpected answers in phase {phase}: {dict(result.statuses)}, "
                  f"{result.errors} connection errors")
        self.unexpected += bad
        self.sent += result.requests
        self.busy_seconds += result.seconds
        return result.requests

    def rss(self) -> dict[str, int]:
        return h.rss_kib(self.worker)

    @property
    def worker(self) -> int:
        """The process serving the requests: granian's one worker, a child of its main process."""
        children = h.process_tree(self.server.pid)[1:]
        if len(children) != 1:
            raise RuntimeError(f"expected one granian worker under pid {self.server.pid}, found {children}")
        return children[0]


def measure(run: Run, warmup: int, requests: int, samples: int) -> tuple[int, int, int, int, int]:
    """(RSS at start, after warm-up, at the end, peak, requests measured), RSS in KiB."""
    start = run.rss()["VmRSS"]
    print(f"  RSS once serving:        {megabytes(start):7.1f} MB")
    run.load(warmup, "warmup")
    after_warmup = run.rss()["VmRSS"]
    print(f"  RSS after {warmup:,} warm-up: {megabytes(after_warmup):7.1f} MB")
    measured = 0
    for sample in range(samples):
        share = requests // samples + (1 if sample < requests % samples else 0)
        sent = run.load(share, f"s{sample}")
        measured += sent
        now = run.rss()["VmRSS"]
        print(f"    after {measured:>7,} requests: {megabytes(now):7.1f} MB "
              f"({megabytes(now - after_warmup):+.1f} MB since warm-up)")
        if sent < share:
            print("    time limit reached: stopping early")
            break
    status = run.rss()
    return start, after_warmup, status["VmRSS"], status["VmHWM"], measured


def report(start: int, after_warmup: int, end: int, peak: int, measured: int, asked: int, run: Run) -> int:
    growth = megabytes(end - after_warmup)
    rate = run.sent / run.busy_seconds if run.busy_seconds else 0.0
    print(f"\nOne Flexigift server process, {measured:,} measured requests"
          f"{'' if measured == asked else f' (of {asked:,} asked)'}, {rate:.0f} req/s on average:")
    print(f"  RSS at start:            {megabytes(start):7.1f} MB")
    print(f"  RSS after warm-up:       {megabytes(after_warmup):7.1f} MB")
    print(f"  RSS at the end:          {megabytes(end):7.1f} MB   (target < {RSS_LIMIT_MB:g} MB: "
          f"{'met' if megabytes(end) < RSS_LIMIT_MB else 'MISSED'})")
    print(f"  peak RSS (VmHWM):        {megabytes(peak):7.1f} MB")
    print(f"  growth since warm-up:    {growth:+7.1f} MB   (target < {GROWTH_LIMIT_MB:g} MB: "
          f"{'met' if growth < GROWTH_LIMIT_MB else 'MISSED'}"
          f"{'' if measured >= 100_000 else f'; over {measured:,} requests, not 100,000'})")
    print(f"  growth since start:      {megabytes(end - start):+7.1f} MB")
    if run.unexpected:
        print(f"  {run.unexpected} requests failed or answered unexpectedly")
    missed = megabytes(end) >= RSS_LIMIT_MB or growth >= GROWTH_LIMIT_MB or run.unexpected
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="measured requests (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=1_000, help="users added to the demo data")
    parser.add_argument("--cards", type=int, default=200, help="gift cards added to the demo data")
    parser.add_argument("--threads", type=int, default=4, help="granian's blocking threads")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections of the client")
    parser.add_argument("--samples", type=int, default=10, help="RSS readings during the measured requests")
    parser.add_argument("--max-seconds", type=float, default=1800, help="stop the load after this long")
    arguments = parser.parse_args()

    servers: list[h.Server] = []
    with tempfile.TemporaryDirectory(prefix="flexigift-memory-") as directory:
        workdir = pathlib.Path(directory)
        try:
            database = workdir / "memory.db"
            user_count = fill_database(database, arguments.users, arguments.cards)
            card_count = arguments.cards + 8
            print(f"Memory benchmark: {user_count} users, {card_count} gift cards; {h.machine_summary()}")
            print(f"  server: granian, 1 worker, {arguments.threads} blocking threads; client: asyncio, "
                  f"{arguments.connections} keep-alive connections")
            servers.append(start_granian(database, arguments.threads, workdir))
            servers[0].wait_ready("/")
            run = Run(servers[0], user_count, card_count, arguments.connections,
                      time.monotonic() + arguments.max_seconds)
            figures = measure(run, arguments.warmup, arguments.requests, max(1, arguments.samples))
        finally:
            h.stop_all(servers)
    return report(*figures, arguments.requests, run)


if __name__ == "__main__":
    sys.exit(main())
