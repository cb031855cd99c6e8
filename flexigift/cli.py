"""The ``flexigift`` command: serve, init-db, demo-data, check-ledger."""
from __future__ import annotations

import os
import sys

import click

from .config import Config
from .db import open_database
from .migrations import migrate
from .serving import RefusedToServe, check_auth, is_loopback


def _config(database_url: str | None) -> Config:
    return Config.from_env(database_url=database_url)


@click.group()
@click.version_option(package_name="flexigift")
def main() -> None:
    """Flexigift: a hypermedia gift-card API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=3000, show_default=True, type=int, help="Port to listen on.")
@click.option("--database-url", envvar="DATABASE_URL", default=None,
              help="sqlite:///file.db (default sqlite:///flexigift.db) or postgresql://…")
@click.option("--auth/--no-auth", default=None,
              help="Require API tokens (default: off on a loopback address, on elsewhere).")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads.")
def serve(host: str, port: int, database_url: str | None, auth: bool | None, threads: int) -> None:
    """Serve the API (creating the schema on first start)."""
    from waitress import serve as waitress_serve

    from .app import create_app

    loopback = is_loopback(host)
    if auth is None:
        env_auth = os.environ.get("FLEXIGIFT_AUTH")
        auth = Config.from_env().auth if (env_auth or not loopback) else False
    try:
        check_auth(auth)
    except RefusedToServe as refusal:
        raise click.ClickException(str(refusal)) from None
    config = Config.from_env(database_url=database_url, auth=auth)
    app = create_app(config)
    mode = "development server, authentication OFF" if not auth else "authentication on"
    click.echo(f"Flexigift on http://{host}:{port}/ ({mode}); database {config.database_url}")
    waitress_serve(app, host=host, port=port, threads=threads, ident="flexigift", _quiet=True)


@main.command("init-db")
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def init_db(database_url: str | None) -> None:
    """Create the schema, or migrate it to this version."""
    config = _config(database_url)
    applied = migrate(open_database(config.database_url))
    click.echo(f"schema up to date ({'applied ' + ', '.join(map(str, applied)) if applied else 'nothing to do'})")


@main.command("demo-data")
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def demo_data(database_url: str | None) -> None:
    """Load the users, cards and products the tutorials start from."""
    from .demo import NotEmpty, load_demo_data

    config = _config(database_url)
    db = open_database(config.database_url)
    migrate(db)
    try:
        with db.connection_context():
            created = load_demo_data()
    except NotEmpty as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"demo data loaded: {created}")


@main.command("check-ledger")
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def check_ledger(database_url: str | None) -> None:
    """Check every card's ledger; list the cards at fault and exit 1 if there are any."""
    from .models import GiftCard
    from .services.audit import ledger_discrepancies

    config = _config(database_url)
    db = open_database(config.database_url)
    with db.connection_context():
        if not db.table_exists(GiftCard._meta.table_name):
            raise click.ClickException("the database has no Flexigift schema; run flexigift init-db")
        discrepancies = ledger_discrepancies()
        checked = GiftCard.select().count()
    for discrepancy in discrepancies:
        click.echo(discrepancy.describe())
    if discrepancies:
        click.echo(f"ledger BROKEN: {len(discrepancies)} of {checked} gift cards", err=True)
        sys.exit(1)
    click.echo(f"ledger OK: {checked} gift cards checked")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
