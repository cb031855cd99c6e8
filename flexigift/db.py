"""The database: one peewee handle, opened from a URL, shared by every model.

Connections come from a pool, one per process (made afresh in a forked
child). A server thread keeps the connection it took across its requests
(:func:`keep_connection`), and gives it back when the thread ends; one that
failed is dropped, so the next request connects anew (after a PostgreSQL
restart, say). SQLite runs in WAL mode with a busy timeout and
takes its write lock when a transaction begins (``BEGIN IMMEDIATE``), so
several server processes can share one file without deadlocking.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from urllib.parse import unquote, urlparse

import peewee
import psycopg
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

#: Every model binds to this proxy; :func:`open_database` points it at a real database.
database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
}
#: How long a write waits for another's lock before it fails (then the request answers
#: 503, retry later), unless configured (``FLEXIGIFT_LOCK_WAIT``): on SQLite the busy
#: timeout on the whole file's write lock, on PostgreSQL ``lock_timeout`` on a row's.
LOCK_WAIT_SECONDS = {"sqlite": 30, "postgresql": 10}


class UnsupportedDatabase(ValueError):
    """The DATABASE_URL names a database Flexigift does not run on."""


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def sqlite_pragmas(lock_wait: int) -> dict:
    """The pragmas of every SQLite connection, a write waiting ``lock_wait`` seconds for the lock."""
    return {**SQLITE_PRAGMAS, "busy_timeout": lock_wait * 1000}


def _sqlite(path: str, pool_size: int, lock_wait: int) -> peewee.Database:
    db = PooledSqliteDatabase(
        path or ":memory:",
        pragmas=sqlite_pragmas(lock_wait),
        timeout=lock_wait,
        lock_type="IMMEDIATE",
        max_connections=pool_size,
        stale_timeout=600,
        check_same_thread=False,
    )
    # SQLite's lower() and LIKE fold ASCII only; wildcard filters on other text use this.
    db.register_function(_lower, "flexigift_lower", 1, deterministic=True)
    return db


#: How long PostgreSQL may take to accept a connection and to run one statement: past
#: these, the request answers 503 (retry later).
CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_MS = 30_000


class PostgresDatabase(PooledPostgresqlDatabase):
    """PostgreSQL, whose ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` go to libpq directly.

    peewee sends them as any statement, through a new psycopg cursor and its
    machinery for parameters, prepared statements and results: about 70,000
    instructions each, for a command with none of these (a redemption sends two).
    Sent as they are, they cost a fraction of that; they are the same commands,
    on the same connection, and a failure is the same error (the database's, as
    peewee raises it). libpq lets other threads run while it waits.
    """

    def _command(self, conn, sql: bytes) -> None:
        with peewee.__exception_wrapper__:
            result = conn.pgconn.exec_(sql)
            if result.status == psycopg.pq.ExecStatus.COMMAND_OK:
                return
            if conn.pgconn.status != psycopg.pq.ConnStatus.OK:  # lost: as psycopg says it
                raise psycopg.OperationalError(conn.pgconn.error_message.decode(errors="replace").strip())
            raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)

    def begin(self, isolation_level=None):
        if isolation_level or self._isolation_level:
            super().begin(isolation_level)
        else:
            self._command(self.connection(), b"BEGIN")

    def commit(self):
        self._command(self._open_connection("commit"), b"COMMIT")

    def rollback(self):
        self._command(self._open_connection("rollback"), b"ROLLBACK")

    def _open_connection(self, what: str):
        if self.is_closed():
            raise peewee.InterfaceError(f"Cannot {what}, database connection not open.")
        return self._state.conn


def _postgres(url: str, pool_size: int, lock_wait: int) -> peewee.Database:
    parsed = urlparse(url)
    params = {
        "host": parsed.hostname or None,
        "port": parsed.port,
        "user": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
    }
    return PostgresDatabase(
        parsed.path.lstrip("/"),
        max_connections=pool_size,
        stale_timeout=600,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={lock_wait * 1000}",
        **{key: value for key, value in params.items() if value is not None},
    )


def connect_url(url: str, pool_size: int = 16, lock_wait: int | None = None) -> peewee.Database:
    """A peewee database for ``sqlite:///path`` or ``postgresql://user@host:port/db``; a write
    waits ``lock_wait`` seconds for a lock (None: :data:`LOCK_WAIT_SECONDS`)."""
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        return _sqlite(path, pool_size, LOCK_WAIT_SECONDS["sqlite"] if lock_wait is None else lock_wait)
    if scheme in {"postgres", "postgresql"}:
        return _postgres(url, pool_size, LOCK_WAIT_SECONDS["postgresql"] if lock_wait is None else lock_wait)
    raise UnsupportedDatabase(
        f"unsupported DATABASE_URL scheme {scheme!r}: use sqlite:///<file> or postgresql://…"
    )


def open_database(url: str, pool_size: int = 16, lock_wait: int | None = None) -> peewee.Database:
    """Open the database at ``url`` and bind every model to it."""
    db = connect_url(url, pool_size, lock_wait)
    database.initialize(db)
    _OPEN.add(db)
    return db


_BINDING = threading.RLock()


@contextlib.contextmanager
def models_bound_to(db: peewee.Database):
    """Every model works on ``db`` while the block runs, then on what it worked on before.

    Models reach their database through :data:`database`, which points at the one
    :func:`open_database` opened last; work on another one (migrating a database
    opened with :func:`connect_url`) must move it, or part of that work would go
    to the wrong database, on another connection outside the transaction.
    """
    with _BINDING:
        previous = database.obj
        if previous is db:
            yield db
            return
        database.initialize(db)
        try:
            yield db
        finally:
            database.initialize(previous)


# -- connections kept by server threads ------------------------------------------
#: Every database opened in this process, so that a forked child can forget their connections.
_OPEN: "weakref.WeakSet[peewee.Database]" = weakref.WeakSet()


class _Keeper:
    """Lives in a thread's local storage while the thread keeps a connection. When the
    thread ends its storage goes, and with it this keeper: no code runs then (a finaliser
    run while a server's native thread is torn down can crash the process: granian's idle
    threads did). The next thread that connects gives the dead thread's connection back
    (:func:`_reclaim_orphans`), seeing the keeper gone through a weak reference."""

    __slots__ = ("db", "conn", "checkout", "used", "__weakref__")

    def __init__(self, db: peewee.Database, conn):
        self.db = weakref.ref(db)
        self.conn = conn
        self.used = time.monotonic()
        # The pool's record of this check-out: if the connection went back to the
        # pool and out again (to another thread), the record is a new one.
        self.checkout = getattr(db, "_in_use", {}).get(id(conn))
        if self.checkout is not None:
            _WATCHED.append((weakref.ref(self), self.db, conn, self.checkout))


#: (keeper, database, connection, check-out) of each connection a thread keeps: once the
#: keeper is gone (its thread ended), the connection goes back to its pool.
_WATCHED: list = []
_WATCHED_LOCK = threading.Lock()


def _reclaim_orphans() -> None:
    """Close the connections whose threads ended while keeping them (the pool forgets them)."""
    with _WATCHED_LOCK:
        orphans = [entry for entry in _WATCHED if entry[0]() is None]
        if not orphans:
            return
        _WATCHED[:] = [entry for entry in _WATCHED if entry[0]() is not None]
    for _, db_ref, conn, checkout in orphans:
        db = db_ref()
        if db is None:
            continue
        try:
            with db._pool_lock:
                if db._in_use.get(id(conn)) is checkout:
                    db._close(conn, close_conn=True)
        except Exception:  # noqa: BLE001 - a connection that cannot even close is gone anyway
            pass


_kept = threading.local()


#: A connection kept idle longer than this is checked before use (a PostgreSQL restart
#: or an idle timeout may have closed it meanwhile).
IDLE_CHECK_SECONDS = 5.0


def keep_connection(db: peewee.Database) -> None:
    """Open this thread's connection, or go on with the one it kept from its last request."""
    if db.is_closed():
        _reclaim_orphans()
        db.connect()
        keepers = _kept.__dict__.setdefault("keepers", {})
        previous = keepers.get(id(db))
        if previous is not None:
            previous.conn = None  # closed by other means meanwhile: not ours to give back
        keepers[id(db)] = _Keeper(db, db._state.conn)
        return
    conn = db._state.conn
    keeper = getattr(_kept, "keepers", {}).get(id(db))
    idle = keeper is not None and time.monotonic() - keeper.used > IDLE_CHECK_SECONDS
    if _broken(conn) or (idle and not _answers(conn)):
        release_connection(db, failed=True)
        keep_connection(db)


def _answers(conn) -> bool:
    """Whether a connection that sat idle still reaches its server (PostgreSQL only:
    an SQLite file does not go away)."""
    if not hasattr(conn, "broken"):
        return True
    try:
        conn.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means: connect again
        return False
    return True


def release_connection(db: peewee.Database, failed: bool = False) -> None:
    """After a request: keep the connection for the next one, unless it failed or is mid-transaction."""
    if db.is_closed():
        return
    keeper = getattr(_kept, "keepers", {}).get(id(db))
    if keeper is not None:
        keeper.used = time.monotonic()
    if failed or db.in_transaction() or _broken(db._state.conn):
        keeper = getattr(_kept, "keepers", {}).pop(id(db), None)
        if keeper is not None:
            keeper.conn = None
        try:
            db.manual_close()
        except Exception:  # noqa: BLE001 - a connection that cannot even close is gone anyway
            db.dispose()


# -- failures worth a retry ---------------------------------------------------------
#: SQLSTATEs of a transaction the database gave up so that another could go on
#: (serialization failure, deadlock): running it again is the cure.
_CONTENTION = {"40001", "40P01"}


def _cause(error: BaseException) -> BaseException:
    """The driver's exception peewee wrapped (or ``error`` itself). Peewee 4 keeps it in
    ``orig`` (and drops it from ``args``); it is also the exception's ``__context__``."""
    orig = getattr(error, "orig", None)
    if isinstance(orig, BaseException):
        return orig
    if error.args and isinstance(error.args[0], BaseException):
        return error.args[0]
    context = error.__cause__ or error.__context__
    if isinstance(error, peewee.PeeweeException) and context is not None \
            and not isinstance(context, peewee.PeeweeException):
        return context
    return error


def contention(error: BaseException) -> bool:
    """Whether ``error`` is a deadlock or a serialization failure (PostgreSQL)."""
    return getattr(_cause(error), "sqlstate", None) in _CONTENTION


def unavailable(error: BaseException, db: peewee.Database | None = None) -> bool:
    """Whether ``error`` says the database cannot be reached or is busy, rather than
    that a statement was wrong: the connection failed, was lost, or SQLite stayed locked."""
    if not isinstance(error, (peewee.OperationalError, peewee.InterfaceError)):
        return False
    cause = _cause(error)
    state = getattr(cause, "sqlstate", None)
    if state is not None:
        # connection, shutdown, too many connections, statement or lock timed out
        return state.startswith(("08", "57P")) or state in {"53300", "57014", "55P03"}
    message = str(cause).lower()
    if "locked" in message or "busy" in message:
        return True  # SQLite: another writer held the file past the busy timeout
    if db is not None and not db.is_closed() and _broken(db._state.conn):
        return True
    return any(word in message for word in ("connection", "server closed", "terminat", "could not connect"))


def _broken(conn) -> bool:
    """Whether the driver knows ``conn`` is unusable (psycopg marks a lost connection)."""
    return bool(getattr(conn, "broken", False) or getattr(conn, "closed", False) is True)


def _forget_in_child() -> None:
    """In a forked child: the parent's connections and locks are not ours to use (or close)."""
    for db in list(_OPEN):
        db._lock = threading.Lock()
        if hasattr(db, "_pool_lock"):
            db._pool_lock = threading.RLock()
            db._pool_available = threading.Condition(db._pool_lock)
            db._connections = []
            db._in_use = {}
        db._state.reset()
    global _WATCHED_LOCK
    _WATCHED_LOCK = threading.Lock()
    _WATCHED.clear()
    keepers = getattr(_kept, "keepers", None)
    if keepers:
        for keeper in keepers.values():
            keeper.conn = None
        keepers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def is_postgres(db: peewee.Database | None = None) -> bool:
    db = db or database.obj
    return isinstance(db, peewee.PostgresqlDatabase)
