"""Benchmark (SPEC 7): a page of 20 gift cards with one zoom, at the start, the
middle and the end of a 100,000-row table, against a single GET of one card.

Run by hand (not in CI), from the repository root::

    python benchmarks/collection_pages.py [--cards 100000] [--repeat 200]
    python benchmarks/collection_pages.py --database-url postgresql://postgres@127.0.0.1:5432/bench --reset
    python benchmarks/collection_pages.py --direct --profile
    python benchmarks/collection_pages.py --cards 1000000 --sqlite-file /tmp/cards.db    # load and keep
    python benchmarks/collection_pages.py --sqlite-file /tmp/cards.db --reuse            # measure it again

The data goes into a fresh SQLite file in a temporary directory (or into the
PostgreSQL database given, which must hold no Flexigift rows; ``--reset``
drops its Flexigift tables first) by the driver's bulk path: users, a few issuers
and the cards, half of them linked to a user. The app is then served by
waitress in a thread on a free port of 127.0.0.1 and asked over one kept-alive
HTTP connection (``--direct`` calls the WSGI app with a minimal environ
instead, which leaves the server and the socket out of the figures).

The three requests are sent in turn, ``--repeat`` times each after a warm-up,
so a drift of the machine touches all three alike; the figures are medians.
Target: each page within 3× the latency of the single GET.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import http.client
import io
import itertools
import pathlib
import pstats
import socket
import statistics
import sys
import tempfile
import threading
import time
from typing import Callable

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from flexigift.app import create_app  # noqa: E402
from flexigift.config import Config  # noqa: E402
from flexigift.db import connect_url, is_postgres  # noqa: E402
from flexigift.models import TABLES, GiftCard, Issuer, User, utcnow  # noqa: E402
from flexigift.serving import settle_process  # noqa: E402

TARGET_RATIO = 3.0
#: Each page's target, as a multiple of the single GET (issue 10, item 3).
TARGETS = {"page": 2.0, "middle": 5.0, "deep": 5.0, "seek": 2.0, "gap": 3.0, "balance": 3.0}
#: Card codes start with one of these (so ``card_id=gap*`` matches a fifth of them).
PREFIXES = ("GAP", "KOHLS", "TARGET", "OLDNAVY", "BANANA")
ACCEPT = "application/hal+json"
#: Rows per INSERT on SQLite (within its 32,766 parameters).
SQLITE_BATCH = 1000

Fetch = Callable[[str], bytes]


# -- data -----------------------------------------------------------------------
def reset_postgres(url: str) -> None:
    """Drop Flexigift's tables, so the app creates them afresh."""
    db = connect_url(url, pool_size=1)
    with db.connection_context():
        existing = set(db.get_tables())
        doomed = [f'"{model._meta.table_name}"' for model in TABLES
                  if model._meta.table_name in existing]
        if doomed:
            db.execute_sql(f"DROP TABLE IF EXISTS {', '.join(doomed)} CASCADE")
    db.close_all()


def load(app, cards: int, users: int) -> None:
    """``users`` users, 5 issuers and ``cards`` cards (every other one linked to a user).

    The users and cards go in by the driver's fastest bulk path (``executemany`` on
    SQLite, ``COPY`` on PostgreSQL) in one transaction: the rows are what the models
    would write, and the database's own triggers keep the row counts.
    """
    db = app.extensions["flexigift_db"]
    with db.connection_context():
        if GiftCard.select().exists() or User.select().exists():
            raise SystemExit("the database already holds Flexigift data: use an empty one (or --reset)")
        with db.atomic():
            Issuer.insert_many([{"name": f"Issuer {n}", "currency_code": "USD"} for n in range(5)]).execute()
            issuers = [issuer.id for issuer in Issuer.select(Issuer.id).order_by(Issuer.id)]
            now = utcnow()
            bulk_insert(db, User, ("date_created", "date_modified", "user_id", "name", "email"),
                        ((now, now, f"user{n:06d}", f"User {n}", f"user{n}@example.com") for n in range(users)))
            user_ids = [user.id for user in User.select(User.id).order_by(User.id)]
            bulk_insert(db, GiftCard, ("date_created", "date_modified", "card_id", "issuer_id", "user_id", "balance",
                                       "initial_balance", "currency_code", "status", "single_use", "rechargeable"),
                        ((now, now, f"{PREFIXES[n % len(PREFIXES)]}-{n:08d}", issuers[n % len(issuers)],
                          user_ids[(n // 2) % len(user_ids)] if n % 2 == 0 else None,
                          2500 + n * 7919 % 10000, 2500 + n * 7919 % 10000, "USD", "active", False, True)
                         for n in range(cards)))
    # Statistics (and PostgreSQL's visibility map) as a database in service has them.
    with db.connection_context():
        db.execute_sql("VACUUM ANALYZE" if is_postgres(db) else "ANALYZE")


def bulk_insert(db, model, columns: tuple[str, ...], rows) -> None:
    """Insert ``rows`` (tuples of ``columns``' values) into ``model``'s table, in the open transaction."""
    fields = [model._meta.columns[column] for column in columns]
    table = model._meta.table_name
    names = ", ".join(f'"{column}"' for column in columns)
    converted = (tuple(field.db_value(value) for field, value in zip(fields, row)) for row in rows)
    if is_postgres(db):
        db.execute_sql("SET LOCAL statement_timeout = 0")  # a million rows take longer than the app's cap
        with db.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in converted:
                copy.write_row(row)
    else:
        # Many rows per statement: SQLite journals each statement that fires a trigger.
        connection, values = db.connection(), f'({", ".join("?" * len(columns))})'
        while batch := list(itertools.islice(converted, SQLITE_BATCH)):
            connection.execute(f'INSERT INTO "{table}" ({names}) VALUES {", ".join([values] * len(batch))}',
                               [value for row in batch for value in row])


# -- the two ways of asking ------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served(app) -> tuple[Fetch, Callable[[], None]]:
    """Serve ``app`` with waitress in a thread; a fetch over one kept-alive connection."""
    from waitress.server import create_server

    port = free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def fetch(path: str) -> bytes:
        connection.request("GET", path, headers={"Accept": ACCEPT, "Host": "localhost:3000"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return body

    def stop() -> None:
        connection.close()
        server.task_dispatcher.shutdown()
        server.close()

    return fetch, stop


def direct(app) -> tuple[Fetch, Callable[[], None]]:
    """Call the WSGI app with a minimal environ: no server, no socket."""

    def fetch(path: str) -> bytes:
        route, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": route, "QUERY_STRING": query,
            "SERVER_NAME": "localhost", "SERVER_PORT": "3000", "HTTP_HOST": "localhost:3000",
            "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_ACCEPT": ACCEPT, "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        status = []
        chunks = app(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        if not status[0].startswith("200"):
            raise RuntimeError(f"GET {path}: {status[0]} {body[:300]!r}")
        return body

    return fetch, lambda: None


# -- measuring -------------------------------------------------------------------
def medians(fetch: Fetch, paths: dict[str, str], repeat: int, warmup: int) -> dict[str, float]:
    """The median seconds of each request, the requests sent in turn."""
    for _ in range(warmup):
        for path in paths.values():
            fetch(path)
    timings: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(repeat):
        for name, path in paths.items():
            started = time.perf_counter()
            fetch(path)
            timings[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in timings.items()}


def profile(fetch: Fetch, path: str, repeat: int) -> None:
    """Where the time of ``path`` goes (in this thread: use with --direct)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        fetch(path)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    print(f"\nprofile of {repeat} x GET {path} (cumulative):")
    stats.print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--reset", action="store_true", help="drop Flexigift's tables in --database-url first")
    parser.add_argument("--sqlite-file", help="keep the SQLite database in this file (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the data already loaded in the database (by an earlier run) instead of loading")
    parser.add_argument("--direct", action="store_true", help="call the WSGI app directly, no server")
    parser.add_argument("--profile", action="store_true", help="profile the deepest page (best with --direct)")
    parser.add_argument("--profile-page", default="deep", choices=sorted(TARGETS) + ["single"],
                        help="the request --profile profiles (default: deep)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        sqlite_file = arguments.sqlite_file or pathlib.Path(directory) / "bench.db"
        url = arguments.database_url or f"sqlite:///{sqlite_file}"
        if arguments.reset and url.startswith("postgres") and not arguments.reuse:
            reset_postgres(url)
        app = create_app(Config(database_url=url, auth=False))
        if arguments.reuse:
            with app.app_context(), app.extensions["flexigift_db"].connection_context():
                arguments.cards = GiftCard.select().count()
            print(f"reusing {arguments.cards:,} cards already loaded ({url.partition(':')[0]})")
        else:
            started = time.perf_counter()
            load(app, arguments.cards, arguments.users)
            print(f"loaded {arguments.cards:,} cards and {arguments.users:,} users "
                  f"in {time.perf_counter() - started:.1f} s ({url.partition(':')[0]})")

        gc.collect()
        settle_process()  # the garbage collector set as the servers set it (flexigift.serving.settled)
        fetch, stop = (direct if arguments.direct else served)(app)
        try:
            last_offset = arguments.cards - 20
            with app.app_context(), app.extensions["flexigift_db"].connection_context():
                card = GiftCard.select(GiftCard.id).order_by(GiftCard.id.desc()).first().id
            middle_offset = arguments.cards // 2
            paths = {
                "page": "/gift_cards?limit=20&zoom=user",
                "middle": f"/gift_cards?limit=20&zoom=user&offset={middle_offset}",
                "deep": f"/gift_cards?limit=20&zoom=user&offset={last_offset}",
                "seek": f"/gift_cards?limit=20&zoom=user&after={card - 40}",
                "gap": "/gift_cards?limit=20&zoom=user&card_id=gap*",
                "balance": "/gift_cards?limit=20&zoom=user&balance:greaterthan=50",
                "single": f"/gift_cards/{card}",
            }
            assert fetch(paths["deep"]).count(b'"card_id"') >= 20, "the deepest page is not full"
            figures = medians(fetch, paths, arguments.repeat, arguments.warmup)
            if arguments.profile:
                profile(fetch, paths[arguments.profile_page], max(arguments.repeat // 4, 10))
        finally:
            stop()
            app.extensions["flexigift_db"].close_all()

    how = "WSGI app called directly" if arguments.direct else "waitress, one kept-alive connection"
    print(f"median of {arguments.repeat} requests each ({how}, {ACCEPT}):")
    print(f"  GET {paths['single']:<45} {figures['single'] * 1000:8.2f} ms")
    print(f"  GET {paths['page']:<45} {figures['page'] * 1000:8.2f} ms")
    print(f"  GET {paths['middle']:<45} {figures['middle'] * 1000:8.2f} ms")
    for name in ("deep", "seek", "gap", "balance"):
        print(f"  GET {paths[name]:<45} {figures[name] * 1000:8.2f} ms")
    missed = 0
    for name, label in (("page", "page at offset 0"), ("middle", f"page at offset {middle_offset:,}"),
                        ("deep", f"page at offset {last_offset:,}"), ("seek", "seek page near the end"),
                        ("gap", "filtered page card_id=gap*"), ("balance", "filtered page balance>50")):
        ratio = figures[name] / figures["single"]
        missed += ratio > TARGETS[name]
        print(f"  ratio {label} / single GET: {ratio:6.2f}x (target <= {TARGETS[name]}x)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
