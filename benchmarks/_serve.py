"""Serve one of the benchmarked WSGI apps with waitress, on 127.0.0.1 only.

Used by the benchmark scripts as a subprocess, so that every Python target runs
under exactly the same server settings::

    python benchmarks/_serve.py flexigift --database PATH --port 8001 --threads 8
    python benchmarks/_serve.py minimal   --database PATH --port 8002 --threads 8

``flask-constant`` and ``wsgi-constant`` answer a constant body without a
database: the floors of waitress + Flask and of waitress alone.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

#: The waitress settings every Python target gets (``threads`` comes from the command line).
WAITRESS_SETTINGS = {"host": "127.0.0.1", "ident": "bench", "_quiet": True}


def build_app(name: str, database: str):
    if name == "flexigift":
        from flexigift.app import create_app
        from flexigift.config import Config

        return create_app(Config(database_url=f"sqlite:///{database}", auth=False))
    if name == "minimal":
        from _minimal_app import create_app

        return create_app(database)
    if name == "flask-constant":
        return _flask_constant()
    if name == "wsgi-constant":
        return _wsgi_constant
    raise SystemExit(f"unknown app {name!r}")


CONSTANT = b'{"id": 1}'


def _wsgi_constant(environ, start_response):
    """The floor of waitress alone: a WSGI callable answering a constant body."""
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(CONSTANT)))])
    return [CONSTANT]


def _flask_constant():
    """The floor of waitress + Flask: one route answering a constant body, no database."""
    from flask import Flask

    app = Flask("flask_constant")
    app.add_url_rule("/users/<int:id>", "user", lambda id: (CONSTANT, 200, {"Content-Type": "application/json"}))
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=("flexigift", "minimal", "flask-constant", "wsgi-constant"))
    parser.add_argument("--database", required=True, help="path of the SQLite file")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    arguments = parser.parse_args()

    from waitress import serve

    app = build_app(arguments.app, arguments.database)
    serve(app, port=arguments.port, threads=arguments.threads, **WAITRESS_SETTINGS)


if __name__ == "__main__":
    main()
