"""Benchmark (SPEC 7, fourth bullet): redemptions per second on PostgreSQL with 4
server processes, and not one cent overdrawn.

Run by hand (not in CI), from the repository root::

    python benchmarks/redemptions.py [--database-url postgresql://postgres@127.0.0.1:5432/bench]
                                     [--workers 4] [--connections 16] [--seconds 10] [--cards 100]

The database given (default: the ``bench`` database of the local server) loses
its Flexigift tables first. The script issues ``--cards`` cards of 100.00 each
through the API, then serves ``wsgi.py`` with gunicorn (``--workers`` sync
worker processes) on a free port of 127.0.0.1, and sends
``POST /gift_cards/<id>/redeem`` of 1.00 for one product from ``--connections``
keep-alive connections for ``--seconds``: each connection picks cards at
random, so cards are shared and run dry along the way (a dry card answers 409).
The figure is successful redemptions (201) per second. Afterwards it checks,
in the database, that every card's balance is 100.00 minus 1.00 per 201 it
answered, that no balance is below zero, and that the ledger invariant holds
for every card (``flexigift check-ledger``). Target: at least 500 per second,
zero overdraft. The exit status is 1 when either misses.
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

from _harness import (HOST, free_port, machine_summary, python_load,  # noqa: E402
                      start_server, stop_all)

TARGET_PER_SECOND = 500
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


def serve(url: str, workers: int, workdir: pathlib.Path):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{HOST}:{port}",
               "--chdir", str(HERE.parent), "--log-level", "warning", "wsgi:app"]
    os.environ.update(DATABASE_URL=url, FLEXIGIFT_AUTH="off")
    server = start_server("flexigift-gunicorn", command, port, workdir)
    server.wait_ready("/")
    return server


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


def parse_arguments(description: str) -> argparse.Namespace:
    """The options of a PostgreSQL load run (this one and ``holds.py``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cards", type=int, default=100)
    return parser.parse_args()


def main() -> int:
    arguments = parse_arguments(__doc__.splitlines()[0])
    print(machine_summary())
    cards = prepare(arguments.database_url, arguments.cards)
    successes: Counter = Counter()

    def redeem(rng: random.Random, index: int, sequence: int):
        card = rng.choice(cards)
        return "POST", f"/gift_cards/{card}/redeem", {"product_id": "tee", "order_reference": f"{index}-{sequence}"}

    with tempfile.TemporaryDirectory() as directory:
        server = serve(arguments.database_url, arguments.workers, pathlib.Path(directory))
        try:
            # The load client counts statuses only; which card each 201 debited is read back
            # from the ledger below, so the check does not trust the client's bookkeeping.
            started = time.perf_counter()
            result = python_load(server.port, redeem, connections=arguments.connections,
                                 max_requests=10**9, max_seconds=arguments.seconds)
            elapsed = time.perf_counter() - started
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
    rate = redeemed / elapsed
    print(f"{arguments.workers} gunicorn workers, {arguments.connections} connections, {elapsed:.1f} s, "
          f"{len(cards)} cards of {BALANCE} shared by every connection, {PRICE} per redemption:")
    print(f"  statuses: {dict(sorted(result.statuses.items()))}, connection errors: {result.errors}")
    print(f"  ledger redeem entries: {sum(successes.values())} (201 answers: {redeemed})")
    print(f"  redemptions per second: {rate:,.0f} (target >= {TARGET_PER_SECOND})")
    print(f"  overdrafts and ledger problems: {len(problems)}")
    for problem in problems[:10]:
        print(f"    {problem}")
    ok = rate >= TARGET_PER_SECOND and not problems and sum(successes.values()) == redeemed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
