"""Benchmark (SPEC 7): generate_codes of 100,000 codes through the API, against
inserting the same rows with plain ``sqlite3`` ``executemany`` in one transaction.

Run by hand (not in CI), from the repository root::

    python benchmarks/generate_codes.py [--codes 100000] [--repeat 3]

Each round uses fresh SQLite files with the same schema (created by
``flexigift``'s migrations, indexes included). The API side is one
``POST /issuers/1/generate_codes`` through WebTest (the full request: body
parsing, validation, code generation, the inserts of cards and their issue
entries, and rendering the 201 response that lists every code). The baseline
inserts exactly the rows the API wrote (same tables, same columns, same
values) with ``executemany``: the cards, then their issue entries. Target:
the API within 3× of the baseline, measured in the same run.
"""
from __future__ import annotations

import argparse
import pathlib
import sqlite3
import statistics
import sys
import tempfile
import time

import webtest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from flexigift.app import create_app  # noqa: E402
from flexigift.config import Config  # noqa: E402
from flexigift.db import open_database  # noqa: E402
from flexigift.migrations import migrate  # noqa: E402

TARGET_RATIO = 3.0


def through_the_api(path: pathlib.Path, count: int) -> tuple[float, list[tuple], list[tuple]]:
    """Seconds for the request, and the card and entry rows it wrote."""
    app = create_app(Config(database_url=f"sqlite:///{path}", auth=False))
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})
    client.post_json("/issuers", {"name": "Bench"}, status=201)
    started = time.perf_counter()
    response = client.post_json("/issuers/1/generate_codes",
                                {"number_of_codes": count, "length": 10, "balance": "25.00"}, status=201)
    elapsed = time.perf_counter() - started
    assert response.json["count"] == count
    app.extensions["flexigift_db"].close_all()
    with sqlite3.connect(path) as connection:
        cards = connection.execute(f"SELECT {CARD_COLUMNS} FROM gift_card ORDER BY id").fetchall()
        entries = connection.execute(f'SELECT {ENTRY_COLUMNS} FROM "transaction" ORDER BY id').fetchall()
    return elapsed, cards, entries


CARD_COLUMNS = ("id, card_id, issuer_id, balance, initial_balance, currency_code, expiry_date, status, "
                "single_use, rechargeable, balance_max, date_created, date_modified")
ENTRY_COLUMNS = "gift_card_id, kind, amount, balance_after, date_created"


def with_executemany(path: pathlib.Path, cards: list[tuple], entries: list[tuple]) -> tuple[float, float]:
    """Seconds to insert the cards, and the cards and their entries, in one transaction."""
    schema = open_database(f"sqlite:///{path}")
    migrate(schema)
    schema.close_all()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=wal")
    connection.execute("PRAGMA synchronous=normal")
    connection.execute("INSERT INTO issuer (id, name, currency_code, date_created, date_modified) "
                       "VALUES (1, 'Bench', 'USD', '2026-01-01', '2026-01-01')")
    card_rows = [row[1:] for row in cards]  # the database assigns the ids, as for the API
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(f"INSERT INTO gift_card ({CARD_COLUMNS.partition(', ')[2]}) "
                           f"VALUES ({', '.join('?' * 12)})", card_rows)
    cards_done = time.perf_counter()
    connection.executemany(f'INSERT INTO "transaction" ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?)', entries)
    connection.execute("COMMIT")
    finished = time.perf_counter()
    connection.close()
    return cards_done - started, finished - started


def one_round(count: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as directory:
        api_seconds, cards, entries = through_the_api(pathlib.Path(directory) / "api.db", count)
        cards_only, everything = with_executemany(pathlib.Path(directory) / "baseline.db", cards, entries)
    return api_seconds, cards_only, everything


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    rounds = [one_round(arguments.codes) for _ in range(arguments.repeat)]
    api, cards_only, everything = (statistics.median(column) for column in zip(*rounds))
    ratio = api / everything
    print(f"generate_codes of {arguments.codes:,} codes, median of {arguments.repeat} rounds (SQLite):")
    print(f"  through the API (POST, one request):            {api:7.3f} s")
    print(f"  sqlite3 executemany, cards + issue entries:     {everything:7.3f} s")
    print(f"  sqlite3 executemany, cards only:                {cards_only:7.3f} s")
    print(f"  ratio API / executemany (cards + entries):      {ratio:7.2f}x (target <= {TARGET_RATIO}x)")
    print(f"  ratio API / executemany (cards only):           {api / cards_only:7.2f}x")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
