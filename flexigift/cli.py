"""The ``flexigift`` command: serve, init-db, demo-data, check-ledger and token."""
from __future__ import annotations

import os
import sys

import click

from .config import Config, ConfigError
from .db import open_database
from .migrations import MIGRATIONS, migrate, pending
from .serving import AUTH_OFF_WARNING, default_workers, is_loopback, run_granian, serve_config
from .services.actors import Actor, acting_as

COMMAND_LINE = Actor("command line", "admin")


def _config(database_url: str | None) -> Config:
    try:
        return Config.from_env(database_url=database_url)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def _database(database_url: str | None):
    db = open_database(_config(database_url).database_url)
    migrate(db)
    return db


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
@click.option("--workers", default=default_workers, show_default="the number of cores", type=click.IntRange(1),
              help="Server processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1),
              help="Threads per worker process.")
def serve(host: str, port: int, database_url: str | None, auth: bool | None, workers: int,
          threads: int) -> None:
    """Serve the API with granian (creating the schema on first start)."""
    from .app import create_app

    try:
        config = serve_config(host, auth, os.environ.get("FLEXIGIFT_AUTH"), database_url=database_url)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    loopback = is_loopback(host)
    if not config.auth and not loopback:
        click.echo(f"WARNING: {AUTH_OFF_WARNING}", err=True)
    app = create_app(config)
    if config.auth:
        mode = "authentication on: send 'Authorization: Bearer <token>' (flexigift token create)"
    else:
        mode = "development server, authentication OFF (--auth turns it on)"
    click.echo(f"Flexigift on http://{host}:{port}/ ({mode}); database {config.database_url}")
    click.echo(f"granian: {workers} worker process(es) of {threads} threads; Ctrl-C stops it")
    run_granian(app, config, host, port, workers, threads)


@main.command("init-db")
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def init_db(database_url: str | None) -> None:
    """Create the schema, or migrate it to this version."""
    config = _config(database_url)
    applied = migrate(open_database(config.database_url))
    click.echo(f"schema up to date ({'applied ' + ', '.join(map(str, applied)) if applied else 'nothing to do'})")


@main.command("migrate")
@click.option("--database-url", envvar="DATABASE_URL", default=None)
@click.option("--dry-run", is_flag=True, help="List the pending steps; change nothing.")
def migrate_command(database_url: str | None, dry_run: bool) -> None:
    """Apply the schema steps the database has not had yet (--dry-run: list them)."""
    db = open_database(_config(database_url).database_url, pool_size=1)
    steps = pending(db)
    descriptions = dict(steps)
    if dry_run:
        if not steps:
            click.echo(f"schema at version {MIGRATIONS[-1][0]}: nothing to do")
        for version, description in steps:
            click.echo(f"pending {version}: {description}")
        return
    applied = migrate(db)
    for version in applied:
        click.echo(f"applied {version}: {descriptions.get(version, '')}")
    click.echo(f"schema at version {MIGRATIONS[-1][0]}" + ("" if applied else ": nothing to do"))


def _sqlite_path(database_url: str | None, verb: str) -> str:
    url = _config(database_url).database_url
    if not url.startswith("sqlite:///") or url == "sqlite:///":
        raise click.ClickException(
            f"flexigift {verb} copies an SQLite file; for PostgreSQL use pg_dump / pg_restore or "
            "point-in-time recovery (README: Backups)")
    return url[len("sqlite:///"):]


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def backup(path: str, database_url: str | None) -> None:
    """Copy the SQLite database to PATH, consistently, while it is being served."""
    import sqlite3

    source_path = _sqlite_path(database_url, "backup")
    if not os.path.exists(source_path):
        raise click.ClickException(f"there is no database file {source_path}")
    if os.path.exists(path):
        raise click.ClickException(f"{path} exists already; back up to a new file")
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(path)
    try:
        # SQLite's online backup API: a snapshot of one moment, taken while others write.
        source.backup(target)
        target.execute("PRAGMA journal_mode = delete")  # one self-contained file
    finally:
        target.close()
        source.close()
    click.echo(f"backed up {source_path} to {path}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def restore(path: str, database_url: str | None) -> None:
    """Replace the SQLite database's content with the backup at PATH (stop the servers first)."""
    import sqlite3

    target_path = _sqlite_path(database_url, "restore")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException(f"{path} is damaged (PRAGMA integrity_check); nothing was restored")
        target = sqlite3.connect(target_path, timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    click.echo(f"restored {target_path} from {path}")


@main.command("demo-data")
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def demo_data(database_url: str | None) -> None:
    """Load the users, cards and products the tutorials start from."""
    from .demo import NotEmpty, load_demo_data

    db = _database(database_url)
    try:
        with db.connection_context(), acting_as(COMMAND_LINE):
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


@main.group()
def token() -> None:
    """API tokens: create (shown once), list, revoke."""


def _role(_ctx, _param, value: str):
    from .auth.roles import InvalidRole, Role
    try:
        return Role.parse(value)
    except InvalidRole as error:
        raise click.BadParameter(str(error)) from None


@token.command("create")
@click.option("--role", required=True, callback=_role,
              help="admin, issuer:<issuer name>, checkout or readonly.")
@click.option("--name", default=None, help="Who or what uses it (default: the role).")
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def token_create(role, name: str | None, database_url: str | None) -> None:
    """Make a token; print it once (only its hash is kept)."""
    from .auth import tokens

    name = (name or str(role)).strip()
    if not 1 <= len(name) <= 100:
        raise click.BadParameter("a name has 1 to 100 characters", param_hint="--name")
    db = _database(database_url)
    with db.connection_context():
        row, secret = tokens.create(name, role)
    click.echo(secret)
    click.echo(f"token {row.id} {name!r} ({role}) created; keep it now, it is not shown again",
               err=True)


@token.command("list")
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def token_list(database_url: str | None) -> None:
    """Every token: id, name, role, created, last used, revoked (never the secret)."""
    from .auth import tokens

    db = _database(database_url)
    with db.connection_context():
        rows = tokens.listing()
    click.echo(f"{'id':>4}  {'name':<24} {'role':<24} {'created':<20} {'last used':<20} revoked")
    for row in rows:
        click.echo(f"{row.id:>4}  {row.name[:24]:<24} {str(tokens.role_of(row))[:24]:<24} "
                   f"{_when(row.date_created):<20} {_when(row.last_used_at):<20} "
                   f"{_when(row.revoked_at) if row.revoked_at else '-'}")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "never"


@token.command("revoke")
@click.argument("token_id_or_name")
@click.option("--database-url", envvar="DATABASE_URL", default=None)
def token_revoke(token_id_or_name: str, database_url: str | None) -> None:
    """Revoke a token (by id, or by its name when one active token has it); at once, everywhere."""
    from .auth import tokens

    db = _database(database_url)
    with db.connection_context():
        try:
            row = tokens.revoke(token_id_or_name)
        except tokens.UnknownToken as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"token {row.id} {row.name!r} ({tokens.role_of(row)}) revoked")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
