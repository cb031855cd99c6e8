"""Benchmark (SPEC 7, fourth bullet): redemptions per second on PostgreSQL with several
server processes, and not one cent overdrawn.

Run by hand (not in CI), from the repository root::

    python benchmarks/redemptions.py [--database-url postgresql://postgres@127.0.0.1:5432/bench]
                                     [--server granian] [--workers 2] [--threads 8]
                                     [--connections 32] [--seconds 10] [--cards 300]
                                     [--client socket]

The database given (default: the ``bench`` database of the local server) loses
its Flexigift tables first. The script issues ``--cards`` cards of 100.00 each
through the API, then serves ``wsgi.py`` on a free port of 127.0.0.1 the way the
README recommends for production (granian, ``--workers`` processes of
``--threads`` threads; ``--server gunicorn`` runs gunicorn's sync workers
instead), and sends ``POST /gift_cards/<id>/redeem`` of 1.00 for one product
from ``--connections`` keep-alive connections for ``--seconds`` (after a second
of warm-up): each connection picks cards at random, so cards are shared and
some run dry along the way (a dry card answers 409). The load comes from one
asyncio thread writing requests on raw sockets (``--client threads``: the
heavier http.client threads), one request at a time per connection. The figure
is successful redemptions (201) per second. Afterwards it checks, in the
database, that every card's balance is 100.00 minus 1.00 per 201 it answered,
that no balance is below zero, and that the ledger invariant holds for every
card (``flexigift check-ledger``). It also prints where the CPU went per
redemption (the load client, the server processes, the PostgreSQL backends
serving them) and how many redemptions each WAL flush made durable. Target: at
least 1,000 per second, zero overdraft. The exit status is 1 when either misses.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import random
import sys
import tempfile
import time
from collections import Counter

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _harness import (HOST, cpu_seconds, cpu_used, free_port, machine_summary,  # noqa: E402
                      process_tree, python_load, socket_load, start_server, stop_all)

TARGET_PER_SECOND = 1000
BALANCE = "100.00"
PRICE = "1.00"


def prepare(url: str, cards: int) -> list[int]:
    """A fresh schema, one issuer, one product and ``cards`` cards; their ids."""
    import webtest

    from flexigift.app import create_app
    from flexigift.config import Config
    from flexigift.db import connect_url
    from flexigift.models import TABLES

    db = connect_url(url, pool_size=1)
    with db.connection_context():
        existing = set(db.get_tables())
        doomed = [f'"{model._meta.table_name}"' for model in TABLES if model._meta.table_name in existing]
        if doomed:
            db.execute_sql(f"DROP TABLE IF EXISTS {', '.join(doomed)} CASCADE")
    db.close_all()

    app = create_app(Config(database_url=url, auth=False))
    client = webtest.TestApp(app, extra_environ={"HTTP_ACCEPT": "application/json"})
    client.post_json("/issuers", {"name": "Gap"})
    issuer = client.get("/issuers?name=Gap").json[0]["id"]
    client.post_json("/products", {"product_id": "tee", "name": "Tee", "price": PRICE, "eligible_issuer": "Gap"})
    client.post_json(f"/issuers/{issuer}/bulk_create",
                     {"card_ids": [f"bench-{n:05d}" for n in range(cards)], "balance": BALANCE})
    ids = [card["id"] for card in client.get("/gift_cards?limit=300&card_id=bench-*").json]
    while len(ids) < cards:
        ids += [card["id"] for card in client.get(f"/gift_cards?limit=300&offset={len(ids)}").json]
    app.extensions["flexigift_db"].close_all()
    return ids


def serve(url: str, workers: int, workdir: pathlib.Path, *, server: str = "gunicorn", threads: int = 8):
    """``wsgi.py`` served on a free port: by gunicorn's sync workers, or by granian as the
    README recommends (``workers`` processes of ``threads`` threads)."""
    port = free_port()
    if server == "granian":
        command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", HOST, "--port", str(port),
                   "--workers", str(workers), "--blocking-threads", str(threads), "--log-level", "warning",
                   "--working-dir", str(HERE.parent), "wsgi:app"]
    else:
        command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{HOST}:{port}",
                   "--chdir", str(HERE.parent), "--log-level", "warning", "wsgi:app"]
    os.environ.update(DATABASE_URL=url, FLEXIGIFT_AUTH="off")
    running = start_server(f"flexigift-{server}", command, port, workdir)
    running.wait_ready("/")
    return running


def verify(url: str, cards: list[int], successes: Counter) -> list[str]:
    """What is wrong with the balances and the ledger after the run (nothing, we hope)."""
    from flexigift.db import open_database
    from flexigift.models import GiftCard
    from flexigift.services.audit import ledger_discrepancies

    problems = []
    db = open_database(url, pool_size=1)
    with db.connection_context():
        balances = dict(GiftCard.select(GiftCard.id, GiftCard.balance).tuples())
        for card in cards:
            expected = 10_000 - 100 * successes[card]
            if balances[card] != expected:
                problems.append(f"card {card}: balance {balances[card]} cents, expected {expected}")
            if balances[card] < 0:
                problems.append(f"card {card} is overdrawn: {balances[card]} cents")
        problems += [str(discrepancy) for discrepancy in ledger_discrepancies()]
    db.close_all()
    return problems


def argument_parser(description: str, *, cards: int = 100, connections: int = 16,
                    workers: int = 4) -> argparse.Namespace:
    """The options of a PostgreSQL load run (this one and ``holds.py``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--workers", type=int, default=workers)
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cards", type=int, default=cards)
    return parser


def postgres_pids(url: str) -> list[int]:
    """The PostgreSQL backends connected to the database of ``url`` (this process's left out)."""
    import psycopg
    with psycopg.connect(url, autocommit=True) as connection:
        return [pid for pid, in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]


def wal_flushes(url: str) -> int | None:
    """How many times PostgreSQL has flushed its write-ahead log (the whole server's count)."""
    import psycopg
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            return connection.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()[0]
    except psycopg.Error:
        return None


def main() -> int:
    parser = argument_parser(__doc__.splitlines()[0], cards=300, connections=32, workers=2)
    parser.add_argument("--server", choices=("granian", "gunicorn"), default="granian")
    parser.add_argument("--threads", type=int, default=8, help="granian's threads per worker")
    parser.add_argument("--client", choices=("socket", "threads"), default="socket")
    arguments = parser.parse_args()
    print(machine_summary())
    cards = prepare(arguments.database_url, arguments.cards)
    successes: Counter = Counter()

    def redeem(rng: random.Random, index: int, sequence: int):
        card = rng.choice(cards)
        return "POST", f"/gift_cards/{card}/redeem", {"product_id": "tee", "order_reference": f"{index}-{sequence}"}

    def load(port: int, seconds: float):
        if arguments.client == "socket":
            return socket_load(port, redeem, connections=arguments.connections, max_seconds=seconds)
        return python_load(port, redeem, connections=arguments.connections, max_requests=10**9,
                           max_seconds=seconds)

    with tempfile.TemporaryDirectory() as directory:
        server = serve(arguments.database_url, arguments.workers, pathlib.Path(directory),
                       server=arguments.server, threads=arguments.threads)
        try:
            warm_up = load(server.port, 1.0)  # every thread connected, every statement compiled
            servers, backends = process_tree(server.pid), postgres_pids(arguments.database_url)
            before = cpu_seconds(servers), cpu_seconds(backends), time.process_time()
            flushes = wal_flushes(arguments.database_url)
            # The load client counts statuses only; which card each 201 debited is read back
            # from the ledger below, so the check does not trust the client's bookkeeping.
            result = load(server.port, arguments.seconds)
            elapsed = result.seconds
            flushes = None if flushes is None else wal_flushes(arguments.database_url) - flushes
            backends = postgres_pids(arguments.database_url)
            after = cpu_seconds(servers), cpu_seconds(backends), time.process_time()
        finally:
            stop_all([server])

    from flexigift.db import open_database
    from flexigift.models import Transaction
    db = open_database(arguments.database_url, pool_size=1)
    with db.connection_context():
        successes.update(card for card, in Transaction.select(Transaction.gift_card)
                         .where(Transaction.kind == "redeem").tuples())
    db.close_all()
    problems = verify(arguments.database_url, cards, successes)

    redeemed = result.statuses.get(201, 0)
    answered = redeemed + warm_up.statuses.get(201, 0)
    rate = redeemed / elapsed
    server_name = (f"granian, {arguments.workers} workers of {arguments.threads} threads"
                   if arguments.server == "granian" else f"gunicorn, {arguments.workers} sync workers")
    print(f"{server_name}, {arguments.connections} connections ({arguments.client} client), {elapsed:.1f} s, "
          f"{len(cards)} cards of {BALANCE} shared by every connection, {PRICE} per redemption:")
    print(f"  statuses: {dict(sorted(result.statuses.items()))}, connection errors: {result.errors}")
    print(f"  ledger redeem entries: {sum(successes.values())} (201 answers: {answered}, warm-up included)")
    requests = max(1, result.requests)
    client = after[2] - before[2]
    server_cpu, postgres_cpu = cpu_used(before[0], after[0]), cpu_used(before[1], after[1])
    print(f"  CPU per request: server processes {server_cpu / requests * 1e6:,.0f} us, PostgreSQL backends "
          f"{postgres_cpu / requests * 1e6:,.0f} us, load client {client / requests * 1e6:,.0f} us "
          f"({(server_cpu + postgres_cpu + client) / elapsed:.2f} of {os.cpu_count()} cores busy)")
    if flushes:
        print(f"  WAL flushes (whole server): {flushes:,}, {redeemed / flushes:.1f} redemptions per flush")
    print(f"  redemptions per second: {rate:,.0f} (target >= {TARGET_PER_SECOND:,})")
    print(f"  overdrafts and ledger problems: {len(problems)}")
    for problem in problems[:10]:
        print(f"    {problem}")
    ok = rate >= TARGET_PER_SECOND and not problems and sum(successes.values()) == answered
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
