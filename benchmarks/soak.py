"""Soak test: a bounded mixed workload against 4 server processes on PostgreSQL.

Run by hand (not in CI), from the repository root::

    python benchmarks/soak.py MINUTES [--database-url postgresql://postgres@127.0.0.1:5432/bench]
                                      [--workers 4] [--connections 8] [--cards 200]

The database given loses its Flexigift tables first (as in ``redemptions.py``).
For MINUTES minutes, ``--connections`` client threads send a mix of reads
(a card, a page of cards, a user), writes (a PATCH of a card, a new user),
redemptions of 0.01, refunds of an earlier redemption, holds (authorize, then
capture part or void) and orders across two cards (some refunded in part), against
``gunicorn -w 4 wsgi:app``. It reports the errors (a 5xx or a failed
connection: must be 0; a 409 of a card run dry is an answer, not an error),
``flexigift check-ledger``, the p50 / p99 latency of each kind of request, and
the resident memory of the worker processes at the start and at the end. The
exit status is 1 when there was an error or the ledger check failed.
"""
from __future__ import annotations

import argparse
import http.client
import json
import pathlib
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _harness import HOST, machine_summary, rss_kib, stop_all  # noqa: E402
from redemptions import prepare, serve  # noqa: E402


def workers_of(pid: int) -> list[int]:
    children = []
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children += [int(child) for child in text]
    return children


def memory(pid: int) -> int:
    return sum(rss_kib(worker).get("VmRSS", 0) for worker in workers_of(pid))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


class Soak:
    def __init__(self, port: int, cards: list[int], deadline: float):
        self.port, self.cards, self.deadline = port, cards, deadline
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.errors: list[str] = []
        self.redemptions: list[int] = []
        self.lock = threading.Lock()

    def request(self, connection, kind, method, path, body=None):
        started = time.perf_counter()
        try:
            connection.request(method, path, body=None if body is None else json.dumps(body),
                               headers={"Accept": "application/json", "Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            with self.lock:
                self.errors.append(f"{kind} {method} {path}: {error!r}")
            return None, None, http.client.HTTPConnection(HOST, self.port, timeout=60)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[kind].append(elapsed)
            self.statuses[kind][status] += 1
            if status >= 500:
                self.errors.append(f"{kind} {method} {path}: {status} {data[:200]!r}")
        return status, data, connection

    def run(self, index: int) -> None:
        rng = random.Random(index)
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        sequence = 0
        while time.monotonic() < self.deadline:
            sequence += 1
            card = rng.choice(self.cards)
            roll = rng.random()
            if roll < 0.35:
                _, _, connection = self.request(connection, "read card", "GET", f"/gift_cards/{card}")
            elif roll < 0.45:
                _, _, connection = self.request(connection, "read page", "GET",
                                                f"/gift_cards?limit=20&offset={rng.randrange(len(self.cards))}")
            elif roll < 0.55:
                _, _, connection = self.request(connection, "patch card", "PATCH", f"/gift_cards/{card}",
                                                {"reference": f"soak-{index}-{sequence}"})
            elif roll < 0.6:
                _, _, connection = self.request(connection, "new user", "POST", "/users",
                                                {"user_id": f"soak{index}x{sequence}"})
            elif roll < 0.75:
                status, data, connection = self.request(connection, "redeem", "POST", f"/gift_cards/{card}/redeem",
                                                        {"product_id": "tee", "amount": "0.01"})
                if status == 201:
                    with self.lock:
                        self.redemptions.append(json.loads(data)["id"])
            elif roll < 0.82:  # a hold, then (mostly) its capture of part, else its void
                status, data, connection = self.request(connection, "authorize", "POST",
                                                        f"/gift_cards/{card}/authorize", {"amount": "0.02"})
                if status == 201:
                    hold = json.loads(data)["id"]
                    if rng.random() < 0.7:
                        status, data, connection = self.request(connection, "capture", "POST",
                                                                f"/holds/{hold}/capture", {"amount": "0.01"})
                        if status == 201:
                            with self.lock:
                                self.redemptions.append(json.loads(data)["id"])
                    else:
                        _, _, connection = self.request(connection, "void", "POST", f"/holds/{hold}/void", {})
            elif roll < 0.9:  # an order across two cards, captured now, sometimes refunded in part
                other = rng.choice(self.cards)
                payments = [{"card_id": card, "amount": "0.01"}] + (
                    [{"card_id": other, "amount": "0.01"}] if other != card else [])
                status, data, connection = self.request(
                    connection, "order", "POST", "/orders",
                    {"order_reference": f"soak-{index}-{sequence}", "amount": f"0.0{len(payments)}",
                     "currency_code": "USD", "payments": payments})
                if status == 201 and rng.random() < 0.3:
                    _, _, connection = self.request(connection, "order refund", "POST",
                                                    f"/orders/{json.loads(data)['id']}/refund", {"amount": "0.01"})
            else:
                with self.lock:
                    entry = rng.choice(self.redemptions) if self.redemptions else None
                if entry is not None:
                    _, _, connection = self.request(connection, "refund", "POST",
                                                    f"/transactions/{entry}/refund", {"amount": "0.01"})
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("minutes", type=float)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--cards", type=int, default=200)
    arguments = parser.parse_args()

    print(machine_summary())
    cards = prepare(arguments.database_url, arguments.cards)
    with tempfile.TemporaryDirectory() as directory:
        server = serve(arguments.database_url, arguments.workers, pathlib.Path(directory))
        try:
            time.sleep(1.0)
            memory_before = memory(server.pid)
            soak = Soak(server.port, cards, time.monotonic() + 60 * arguments.minutes)
            threads = [threading.Thread(target=soak.run, args=(index,)) for index in range(arguments.connections)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            memory_after = memory(server.pid)
        finally:
            stop_all([server])

    import subprocess
    checked = subprocess.run([sys.executable, "-m", "flexigift", "check-ledger", "--database-url",
                              arguments.database_url], cwd=HERE.parent, capture_output=True, text=True)
    total = sum(len(values) for values in soak.latencies.values())
    print(f"{total} requests in {arguments.minutes} minutes from {arguments.connections} connections")
    for kind in sorted(soak.latencies):
        values = soak.latencies[kind]
        print(f"  {kind:10} {len(values):7} requests  p50 {1000 * percentile(values, 0.5):7.1f} ms  "
              f"p99 {1000 * percentile(values, 0.99):7.1f} ms  statuses {dict(soak.statuses[kind])}")
    every = [value for values in soak.latencies.values() for value in values]
    print(f"p99 latency, all requests: {1000 * percentile(every, 0.99):.1f} ms")
    print(f"worker memory: {memory_before} KiB at the start, {memory_after} KiB at the end "
          f"({memory_after - memory_before:+d} KiB)")
    print(f"errors: {len(soak.errors)}")
    for error in soak.errors[:20]:
        print(f"  {error}")
    print(f"check-ledger: {(checked.stdout + checked.stderr).strip()}")
    return 0 if not soak.errors and checked.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
