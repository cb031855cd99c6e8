"""Benchmark (SPEC 7): generate_codes of 100,000 codes through the API, against
inserting the same rows with plain ``sqlite3`` ``executemany`` in one transaction
(and, with ``--database-url``, on PostgreSQL against psycopg's ``COPY``).

Run by hand (not in CI), from the repository root::

    python benchmarks/generate_codes.py [--codes 100000] [--repeat 3]
                                        [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Each round uses fresh SQLite files with the same schema (created by
``flexigift``'s migrations, indexes included). The API side is one
``POST /issuers/1/generate_codes`` through WebTest (the full request: body
parsing, validation, code generation, the inserts of cards and their issue
entries, and rendering the 201 response that lists every code). The baseline
inserts exactly the rows the API wrote (same tables, same columns, same
values) with ``executemany``: the cards, then their issue entries. Target:
the API within 3× of the baseline, measured in the same run.

With ``--database-url`` (a PostgreSQL database whose Flexigift tables are
dropped first) each round also times the same request on PostgreSQL, and as
its baseline the same rows written by psycopg's ``COPY`` in one transaction
(the cards, then their issue entries) into a freshly migrated schema. Target:
the API within 3× of ``COPY``, measured in the same run.
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
    """Seconds for the request, and the card and entry rows it wrote (SQLite)."""
    return _timed_request(f"sqlite:///{path}", count, lambda: sqlite3.connect(path))


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


# -- PostgreSQL ---------------------------------------------------------------------------
def fresh_postgres(url: str) -> None:
    """Drop every Flexigift table of the database at ``url``, then migrate it afresh."""
    from flexigift.models import TABLES

    db = open_database(url, pool_size=1)
    with db.connection_context():
        existing = set(db.get_tables())
        doomed = [f'"{name}"' for name in [model._meta.table_name for model in TABLES] + ["row_count",
                                                                                           "schema_version"]
                  if name in existing]
        if doomed:
            db.execute_sql(f"DROP TABLE IF EXISTS {', '.join(doomed)} CASCADE")
        migrate(db)
    db.close_all()


def through_the_api_on_postgres(url: str, count: int) -> tuple[float, list[tuple], list[tuple]]:
    """:func:`through_the_api` with the app on PostgreSQL."""
    import psycopg

    fresh_postgres(url)
    return _timed_request(url, count, lambda: psycopg.connect(url))


def _timed_request(url: str, count: int, connect) -> tuple[float, list[tuple], list[tuple]]:
    """One generate_codes request of ``count`` codes to an app on ``url``: its seconds, then
    the card and entry rows it wrote, read through ``connect()`` (the plain driver)."""
    app = create_app(Config(database_url=url, auth=False))
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})
    client.post_json("/issuers", {"name": "Bench"}, status=201)
    started = time.perf_counter()
    response = client.post_json("/issuers/1/generate_codes",
                                {"number_of_codes": count, "length": 10, "balance": "25.00"}, status=201)
    elapsed = time.perf_counter() - started
    assert response.json["count"] == count
    app.extensions["flexigift_db"].close_all()
    with connect() as connection:
        cards = connection.execute(f"SELECT {CARD_COLUMNS} FROM gift_card ORDER BY id").fetchall()
        entries = connection.execute(f'SELECT {ENTRY_COLUMNS} FROM "transaction" ORDER BY id').fetchall()
    return elapsed, cards, entries


def with_copy(url: str, cards: list[tuple], entries: list[tuple]) -> tuple[float, float]:
    """Seconds to COPY the cards, and the cards and their entries, in one transaction."""
    import psycopg

    fresh_postgres(url)
    with psycopg.connect(url) as connection:
        connection.execute("INSERT INTO issuer (id, name, currency_code, date_created, date_modified) "
                           "VALUES (1, 'Bench', 'USD', '2026-01-01', '2026-01-01')")
        connection.commit()
        card_columns = CARD_COLUMNS.partition(", ")[2]  # the database assigns the ids, as for the API
        started = time.perf_counter()
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY gift_card ({card_columns}) FROM STDIN") as copy:
                for card in cards:
                    copy.write_row(card[1:])
            cards_done = time.perf_counter()
            with cursor.copy(f'COPY "transaction" ({ENTRY_COLUMNS}) FROM STDIN') as copy:
                for entry in entries:
                    copy.write_row(entry)
        connection.commit()
        finished = time.perf_counter()
    return cards_done - started, finished - started


def one_postgres_round(url: str, count: int) -> tuple[float, float, float]:
    api_seconds, cards, entries = through_the_api_on_postgres(url, count)
    cards_only, everything = with_copy(url, cards, entries)
    return api_seconds, cards_only, everything


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL database to measure too (its tables are dropped)")
    arguments = parser.parse_args()
    rounds, postgres_rounds = [], []
    for _ in range(arguments.repeat):  # the databases interleaved, round by round
        rounds.append(one_round(arguments.codes))
        if arguments.database_url:
            postgres_rounds.append(one_postgres_round(arguments.database_url, arguments.codes))
    api, cards_only, everything = (statistics.median(column) for column in zip(*rounds))
    ratio = api / everything
    print(f"generate_codes of {arguments.codes:,} codes, median of {arguments.repeat} rounds (SQLite):")
    print(f"  through the API (POST, one request):            {api:7.3f} s")
    print(f"  sqlite3 executemany, cards + issue entries:     {everything:7.3f} s")
    print(f"  sqlite3 executemany, cards only:                {cards_only:7.3f} s")
    print(f"  ratio API / executemany (cards + entries):      {ratio:7.2f}x (target <= {TARGET_RATIO}x)")
    print(f"  ratio API / executemany (cards only):           {api / cards_only:7.2f}x")
    ok = ratio <= TARGET_RATIO
    if postgres_rounds:
        api, cards_only, everything = (statistics.median(column) for column in zip(*postgres_rounds))
        postgres_ratio = api / everything
        holds = "holds" if postgres_ratio <= TARGET_RATIO else "MISSED"
        print(f"generate_codes of {arguments.codes:,} codes, median of {arguments.repeat} rounds (PostgreSQL):")
        print(f"  through the API (POST, one request):            {api:7.3f} s")
        print(f"  psycopg COPY, cards + issue entries:            {everything:7.3f} s")
        print(f"  psycopg COPY, cards only:                       {cards_only:7.3f} s")
        print(f"  ratio API / COPY (cards + entries):             {postgres_ratio:7.2f}x "
              f"(target <= {TARGET_RATIO}x: {holds})")
        print(f"  ratio API / COPY (cards only):                  {api / cards_only:7.2f}x")
        ok = ok and postgres_ratio <= TARGET_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
