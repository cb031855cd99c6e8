"""Benchmark (issue 12): authorizations and captures per second on PostgreSQL, beside
redemptions, with 4 server processes, and not one cent reserved or debited beyond a
card's balance.

Run by hand (not in CI), from the repository root::

    python benchmarks/holds.py [--database-url postgresql://postgres@127.0.0.1:5432/bench]
                               [--workers 4] [--connections 16] [--seconds 10] [--cards 100]

The database given loses its Flexigift tables first. The script issues ``--cards``
cards of 100.00 (as ``redemptions.py`` does), serves them with gunicorn, and runs
three phases of ``--seconds`` each from ``--connections`` keep-alive connections,
each picking cards at random: ``POST /gift_cards/<id>/redeem`` of 1.00, then
``POST /gift_cards/<id>/authorize`` of 1.00, then ``POST /holds/<id>/capture`` of
every hold the second phase made (each hold captured once). Each figure is
successful requests per second. Afterwards it checks, in the database, that the
ledger and hold invariants hold (``flexigift check-ledger``). The exit status is 1
when they do not.
"""
from __future__ import annotations

import pathlib
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _harness import machine_summary, python_load, stop_all  # noqa: E402
from redemptions import argument_parser, prepare, serve  # noqa: E402


def phase(port: int, make, connections: int, seconds: float, max_requests: int = 10**9):
    started = time.perf_counter()
    result = python_load(port, make, connections=connections, max_requests=max_requests, max_seconds=seconds)
    return result, time.perf_counter() - started


def main() -> int:
    arguments = argument_parser(__doc__.splitlines()[0]).parse_args()
    print(machine_summary())
    cards = prepare(arguments.database_url, arguments.cards)

    def redeem(rng, index, sequence):
        return "POST", f"/gift_cards/{rng.choice(cards)}/redeem", {"product_id": "tee", "amount": "1.00"}

    def authorize(rng, index, sequence):
        return "POST", f"/gift_cards/{rng.choice(cards)}/authorize", {"amount": "1.00", "product_id": "tee"}

    figures = {}
    with tempfile.TemporaryDirectory() as directory:
        server = serve(arguments.database_url, arguments.workers, pathlib.Path(directory))
        try:
            for name, make in (("redemptions", redeem), ("authorizations", authorize)):
                result, elapsed = phase(server.port, make, arguments.connections, arguments.seconds)
                figures[name] = (result, elapsed)
            holds = _active_holds(arguments.database_url)
            lock = threading.Lock()
            queue = iter(holds)

            def capture(rng, index, sequence):
                with lock:
                    hold = next(queue, holds[0] if holds else 0)
                return "POST", f"/holds/{hold}/capture", {}

            figures["captures"] = phase(server.port, capture, arguments.connections, arguments.seconds,
                                        max_requests=max(len(holds), 1))
        finally:
            stop_all([server])

    problems = _problems(arguments.database_url)
    print(f"{arguments.workers} gunicorn workers, {arguments.connections} connections, "
          f"{len(cards)} cards of 100.00, 1.00 per request:")
    for name, (result, elapsed) in figures.items():
        succeeded = result.statuses.get(201, 0)
        print(f"  {name}: {succeeded / elapsed:,.0f} per second ({elapsed:.1f} s, statuses "
              f"{dict(sorted(result.statuses.items()))}, connection errors {result.errors})")
    print(f"  ledger and hold problems: {len(problems)}")
    for problem in problems[:10]:
        print(f"    {problem}")
    return 1 if problems else 0


def _active_holds(url: str) -> list[int]:
    from flexigift.db import open_database
    from flexigift.models import Hold
    db = open_database(url, pool_size=1)
    with db.connection_context():
        holds = [pk for pk, in Hold.select(Hold.id).where(Hold.status == "active").order_by(Hold.id).tuples()]
    db.close_all()
    return holds


def _problems(url: str) -> list[str]:
    from flexigift.db import open_database
    from flexigift.services.audit import hold_discrepancies, ledger_discrepancies
    db = open_database(url, pool_size=1)
    with db.connection_context():
        problems = [discrepancy.describe() for discrepancy in ledger_discrepancies()] + hold_discrepancies()
    db.close_all()
    return problems


if __name__ == "__main__":
    sys.exit(main())
