"""The ``flexigift`` command: serve, init-db, demo-data, generate-codes, export, check-ledger, prune and token."""
from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings

import click
import peewee

from .config import Config, ConfigError
from .db import open_database, unavailable
from .migrations import MIGRATIONS, migrate, pending
from .serving import AUTH_OFF_WARNING, default_workers, first_line, is_loopback, run_granian, serve_config
from .services.actors import Actor, acting_as

COMMAND_LINE = Actor("command line", "admin")


def _config(database_url: str | None) -> Config:
    try:
        return Config.from_env(database_url=database_url)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def _database(database_url: str | None):
    config = _config(database_url)
    db = open_database(config.database_url, lock_wait=config.lock_wait_seconds)
    migrate(db)
    return db


def _app_database(database_url: str | None):
    """The database of a whole application: for commands that change resources, whose
    events need what the application registers (how each kind is represented)."""
    from .app import create_app

    return create_app(_config(database_url)).extensions["flexigift_db"]


#: The option every command that reads or writes the database takes.
database_option = click.option(
    "--database-url", envvar="DATABASE_URL", default=None, metavar="URL",
    help="sqlite:///file.db (default sqlite:///flexigift.db) or postgresql://user@host:5432/db; "
         "also from DATABASE_URL.")


def progress_bar(length: int, label: str):
    """A progress bar on standard error when it is a terminal; nothing when it is not
    (piped or redirected), so scripts and logs stay quiet."""
    if not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return click.progressbar(length=length, label=label, file=sys.stderr, show_percent=True, show_eta=True)


class _Commands(click.Group):
    """The commands, each of which says so in one line (no traceback) when the database
    cannot be reached."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (peewee.OperationalError, peewee.InterfaceError) as error:
            if not unavailable(error):
                raise
            raise click.ClickException(f"cannot reach the database: {first_line(error)}") from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="flexigift")
def main() -> None:
    """Flexigift: a hypermedia gift-card API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=3000, show_default=True, type=int, help="Port to listen on.")
@database_option
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
    if config.serve_deliverer:
        from .events.deliverer import DeliverySettings, start_thread

        # Python 3.12+ warns of any fork beside a thread; granian's forks wait for this one
        # to be done with the database (events.deliverer._ForkGuard), which is what it warns of.
        warnings.filterwarnings("ignore", message=r"This process .* is multi-threaded",
                                category=DeprecationWarning)
        start_thread(app.extensions["flexigift_db"], DeliverySettings.from_env(
            allow_private=config.webhooks_allow_private, public_url=config.public_url or ""))
        click.echo("webhook deliverer: one thread in this process (FLEXIGIFT_SERVE_DELIVERER=off: none)")
    run_granian(app, config, host, port, workers, threads)


@main.command()
@database_option
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
def deliver(database_url: str | None, once: bool) -> None:
    """Deliver webhook events: run as many copies as you like (PostgreSQL; one on SQLite)."""
    import signal
    import threading

    from .events.deliverer import DeliverySettings, deliver_due, run
    from .events.lapses import announce

    config = _config(database_url)
    db = _app_database(database_url)  # the events of lapses are represented as the app does
    settings = DeliverySettings.from_env(allow_private=config.webhooks_allow_private,
                                         public_url=config.public_url or "")
    if once:
        announced = announce(db)
        click.echo(f"{announced} lapsed holds and expired cards announced; "
                   f"{deliver_due(db, settings)} deliveries attempted")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"delivering webhook events from {config.database_url}; Ctrl-C stops", err=True)
    run(db, settings, stop)


@main.command("init-db")
@database_option
def init_db(database_url: str | None) -> None:
    """Create the schema, or migrate it to this version."""
    config = _config(database_url)
    applied = migrate(open_database(config.database_url, lock_wait=config.lock_wait_seconds))
    click.echo(f"schema up to date ({'applied ' + ', '.join(map(str, applied)) if applied else 'nothing to do'})")


@main.command("migrate")
@database_option
@click.option("--dry-run", is_flag=True, help="List the pending steps; change nothing.")
def migrate_command(database_url: str | None, dry_run: bool) -> None:
    """Apply the schema steps the database has not had yet (--dry-run: list them)."""
    config = _config(database_url)
    db = open_database(config.database_url, pool_size=1, lock_wait=config.lock_wait_seconds)
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
@database_option
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
@database_option
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
@database_option
def demo_data(database_url: str | None) -> None:
    """Load the users, cards and products the tutorials start from."""
    from .demo import NotEmpty, load_demo_data

    db = _app_database(database_url)
    try:
        with db.connection_context(), acting_as(COMMAND_LINE):
            created = load_demo_data()
    except NotEmpty as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"demo data loaded: {created}")


@main.command("generate-codes")
@click.argument("issuer_name", metavar="ISSUER")
@click.option("--number", "number_of_codes", default=10, show_default=True, type=int,
              help="How many cards to issue (at most 100,000 at a time).")
@click.option("--length", default=6, show_default=True, type=int,
              help="Characters in each code, the prefix included.")
@click.option("--prefix", default="", help="What every code starts with (e.g. gap-).")
@click.option("--balance", default="0", show_default=True,
              help="Balance of each card in the issuer's currency (e.g. 25.00).")
@click.option("--expiry-date", default=None, metavar="YYYY-MM-DD",
              help="Default: from the issuer's expires_after (none: never expires).")
@click.option("--single-use/--multi-use", default=False, show_default=True,
              help="Whether a card can pay only once.")
@click.option("--rechargeable/--not-rechargeable", default=True, show_default=True,
              help="Whether a card can be reloaded.")
@database_option
def generate_codes(issuer_name: str, number_of_codes: int, length: int, prefix: str, balance: str,
                   expiry_date: str | None, single_use: bool, rechargeable: bool,
                   database_url: str | None) -> None:
    """Issue cards with new random codes for ISSUER (its name) and print the codes, one
    per line; all are issued or none. On a terminal a progress bar shows on standard
    error."""
    from marshmallow import ValidationError

    from .action_schemas import GenerateCodesSchema
    from .models import Issuer
    from .services.issuing import KEEP, CardTerms, generate_cards
    from .errors import ApiError
    from .progress import reporting

    body = {"number_of_codes": number_of_codes, "length": length, "prefix": prefix, "balance": balance,
            "single_use": single_use, "rechargeable": rechargeable}
    if expiry_date is not None:
        body["expiry_date"] = expiry_date or None
    try:
        data = GenerateCodesSchema().load(body)
    except ValidationError as error:
        options = {"number_of_codes": "number"}
        problems = "; ".join(
            f"--{options.get(name, name).replace('_', '-')}: {' '.join(map(str, messages)).rstrip('.')}"
            for name, messages in error.messages.items())
        raise click.UsageError(problems) from None
    terms = CardTerms(expiry_date=data.get("expiry_date", KEEP), balance=data["balance"],
                      single_use=data["single_use"], rechargeable=data["rechargeable"],
                      balance_max=data["balance_max"])
    db = _app_database(database_url)
    with db.connection_context(), acting_as(COMMAND_LINE):
        issuer = Issuer.get_or_none(Issuer.name == issuer_name)
        if issuer is None:
            raise click.ClickException(f"there is no issuer named {issuer_name!r}")
        # Each card is a row, and so is its issue entry in the ledger.
        with progress_bar(2 * data["number_of_codes"], f"issuing {data['number_of_codes']:,} cards") as bar:
            listener = bar.update if bar is not None else (lambda steps: None)
            try:
                with reporting(listener):
                    codes = generate_cards(issuer, length=data["length"], count=data["number_of_codes"],
                                           prefix=data["prefix"], terms=terms)
            except ApiError as error:
                raise click.ClickException(" ".join(e["message"] for e in error.errors())) from None
    click.echo("\n".join(codes))
    click.echo(f"{len(codes):,} cards issued by {issuer_name}", err=True)


@main.group()
def export() -> None:
    """Describe the API for tools: an OpenAPI 3.1 document or a Postman collection."""


def _describe(build, output: str | None) -> None:
    """Write the document ``build`` makes of an application (on a scratch database: the
    description depends on the code, not on any data)."""
    import dataclasses
    import tempfile

    from .app import create_app

    with tempfile.TemporaryDirectory() as scratch:
        config = dataclasses.replace(_config(None), database_url=f"sqlite:///{scratch}/describe.db")
        app = create_app(config)
        document = build(app)
        app.extensions["flexigift_db"].close_all()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output in (None, "-"):
        click.echo(text, nl=False)
    else:
        with open(output, "w", encoding="utf-8") as target:
            target.write(text)
        click.echo(f"wrote {output}", err=True)


_output_option = click.option("-o", "--output", default=None, metavar="FILE",
                              help="Where to write it (default: standard output).")
_base_url_option = click.option("--base-url", default="http://localhost:3000", show_default=True,
                                help="The API's root URL the document names.")


@export.command("openapi")
@_output_option
@_base_url_option
def export_openapi(output: str | None, base_url: str) -> None:
    """The OpenAPI 3.1 document, made from the routes and schemas (also GET /openapi.json)."""
    from .openapi import openapi_document

    _describe(lambda app: openapi_document(app, base_url.rstrip("/")), output)


@export.command("postman")
@_output_option
@_base_url_option
def export_postman(output: str | None, base_url: str) -> None:
    """A Postman Collection v2.1 of the tutorials' flow (also GET /postman.json)."""
    from .postman import postman_collection

    _describe(lambda app: postman_collection(base_url.rstrip("/")), output)


@main.command("check-ledger")
@database_option
def check_ledger(database_url: str | None) -> None:
    """Check every card's ledger; list the cards at fault and exit 1 if there are any."""
    from .models import GiftCard
    from .services.audit import hold_discrepancies, ledger_discrepancies

    config = _config(database_url)
    db = open_database(config.database_url, lock_wait=config.lock_wait_seconds)
    with db.connection_context():
        if not db.table_exists(GiftCard._meta.table_name):
            raise click.ClickException("the database has no Flexigift schema; run flexigift init-db")
        discrepancies = ledger_discrepancies()
        hold_problems = hold_discrepancies()
        checked = GiftCard.select().count()
    for discrepancy in discrepancies:
        click.echo(discrepancy.describe())
    for problem in hold_problems:
        click.echo(problem)
    if discrepancies or hold_problems:
        click.echo(f"ledger BROKEN: {len(discrepancies)} of {checked} gift cards; "
                   f"{len(hold_problems)} problems with holds", err=True)
        sys.exit(1)
    click.echo(f"ledger OK: {checked} gift cards and their holds checked")


@main.command()
@database_option
def prune(database_url: str | None) -> None:
    """Delete the expired idempotency records (older than FLEXIGIFT_IDEMPOTENCY_TTL); print how many.

    Only the records go: the ledger entries, holds and orders they answered with stay.
    Servers also prune a few with each new key, so running this is optional.
    """
    from .services.idempotency import prune as prune_records

    config = _config(database_url)
    db = _database(config.database_url)
    with db.connection_context():
        deleted = prune_records(config.idempotency_ttl)
    click.echo(f"pruned {deleted} expired idempotency record{'' if deleted == 1 else 's'} "
               f"(older than {config.idempotency_ttl} seconds)")


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
@database_option
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
@database_option
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
@database_option
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
