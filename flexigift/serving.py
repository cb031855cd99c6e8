"""When and how the API may be served: the rules of SPEC section 6.

Authentication is on wherever the app is served, with one exception:
``flexigift serve`` on a loopback address is a development server, with
authentication off unless asked for (``--auth``), and says so. Through
``wsgi.py`` or on any other address it starts with authentication on;
``FLEXIGIFT_AUTH=off`` switches it off on purpose, with a warning in the log.
A setting that cannot be read stops the start with a message naming it.
"""
from __future__ import annotations

import gc
import ipaddress
import logging
import os
import socket
import sys
import time
from dataclasses import replace

import peewee
from flask import Flask

from .app import create_app
from .config import Config, ConfigError
from .db import unavailable

log = logging.getLogger("flexigift")

AUTH_OFF_WARNING = ("authentication is OFF (FLEXIGIFT_AUTH=off): anyone who can reach this "
                    "server can do anything, with every card's code in view")


def is_loopback(host: str) -> bool:
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback
                       for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def serve_config(host: str, auth: bool | None, env_auth: str | None, **settings) -> Config:
    """The configuration of ``flexigift serve``: auth off by default only on a loopback address."""
    config = Config.from_env(**settings)
    if auth is None:
        auth = config.auth if (env_auth or not is_loopback(host)) else False
    return replace(config, auth=auth)


def production_app() -> Flask:
    """The app for a WSGI server: authentication on unless FLEXIGIFT_AUTH=off."""
    try:
        config = Config.from_env()
    except ConfigError as error:
        print(f"flexigift: cannot start: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    if not config.auth:
        log.warning(AUTH_OFF_WARNING)
    if not config.allowed_hosts and not config.public_url:
        log.warning("only requests for localhost are served: set FLEXIGIFT_ALLOWED_HOSTS (or "
                    "FLEXIGIFT_PUBLIC_URL) to the names clients use")
    return settled(app_once_the_database_answers(config))


#: How long a server process that starts while its database does not answer waits for it.
START_WAIT_SECONDS = 60


def app_once_the_database_answers(config: Config, wait: float = START_WAIT_SECONDS) -> Flask:
    """The app for ``config``, made as soon as its database answers: a server process that
    starts (or is started again) during an outage waits for the database, trying again with
    a log line, instead of failing. A worker of gunicorn that failed there would stop the
    whole server, where the ones already running would have served again once the database
    came back. After ``wait`` seconds it gives up with a message (exit status 2, which such
    a server answers by starting the process again)."""
    deadline, delay = time.monotonic() + wait, 0.25
    while True:
        try:
            return create_app(config)
        except (peewee.OperationalError, peewee.InterfaceError) as error:
            if not unavailable(error):
                raise
            if time.monotonic() + delay > deadline:
                print(f"flexigift: cannot start: the database did not answer within {wait:g} s: "
                      f"{first_line(error)}", file=sys.stderr)
                raise SystemExit(2) from None
            log.warning("the database does not answer (%s): trying again in %g s", first_line(error), delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def first_line(error: BaseException) -> str:
    """The first line of what ``error`` says (a driver's message runs on with hints)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


#: Allocations (net of frees) between two collections of the youngest generation: a page of 20
#: cards with a zoom makes a few thousand objects, which each collection walks while they live,
#: so at Python's default of 700 a page is walked several times over (about 5% of its CPU).
#: Most of what a request makes is freed by reference counting alone; what forms a cycle
#: waits a little longer to be collected.
YOUNGEST_THRESHOLD = 10_000


def settle_process() -> None:
    """Set the garbage collector for serving: everything made so far (start-up's objects, which
    live as long as the process) left out of its scans, which also keeps a forked worker from
    copying those pages by touching them; and collections of the youngest generation spaced for
    requests that each make thousands of objects (:data:`YOUNGEST_THRESHOLD`)."""
    gc.freeze()
    youngest, middle, oldest = gc.get_threshold()
    gc.set_threshold(max(YOUNGEST_THRESHOLD, youngest), middle, oldest)


def settled(app: Flask) -> Flask:
    """``app``, in a process set for serving it (:func:`settle_process`)."""
    settle_process()
    return app


# -- the server of ``flexigift serve`` -------------------------------------------------
#: The app a forked worker serves: made once in the parent (schema migrated, settings
#: checked), inherited by each worker, which opens its own connections (``db._forget_in_child``).
_APP: Flask | None = None


def default_workers() -> int:
    """One worker process per core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _worker_app(config: Config) -> Flask:
    """The app in a granian worker: the parent's when forked, a fresh one when spawned."""
    _leave_interrupts_to_the_parent()
    return _APP if _APP is not None else settled(app_once_the_database_answers(config))


def _leave_interrupts_to_the_parent() -> None:
    """In a worker: ignore SIGINT, so Ctrl-C (sent to the whole process group) reaches
    the parent alone, which stops each worker with one SIGTERM. A worker that gets both
    signals at once can miss its shutdown (granian 2.x) and is only killed after
    ``workers_kill_timeout``. Granian installs its worker handlers after this loader runs,
    for the signals ``granian._signals._get_signals`` names: so that list leaves SIGINT out."""
    import signal

    from granian import _signals

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if callable(getattr(_signals, "_get_signals", None)):
        _signals._get_signals = lambda: [signal.SIGTERM]


def run_granian(app: Flask, config: Config, host: str, port: int, workers: int, threads: int) -> None:
    """Serve ``app`` with granian until SIGINT or SIGTERM: ``workers`` processes of
    ``threads`` threads each (at most the database pool's size, so no thread waits for a
    connection). Granian's own log says only what went wrong."""
    from functools import partial

    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    global _APP
    _APP = settled(app)
    app.extensions["flexigift_db"].close_all()  # the workers connect for themselves
    threads = max(1, min(threads, config.pool_size))
    server = Server("flexigift", address=host, port=port, interface=Interfaces.WSGI,
                    workers=max(1, workers), blocking_threads=threads,
                    log_level=LogLevels.warning, workers_kill_timeout=10)
    server.serve(target_loader=partial(_worker_app, config), wrap_loader=False)
