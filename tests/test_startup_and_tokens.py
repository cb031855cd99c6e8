"""Starting the server with the right protection (SPEC 5, 6), the token commands,
and what holds across server processes: revocation at once, rate limits.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from flexigift.cli import main
from flexigift.config import Config, ConfigError
from flexigift.db import open_database
from flexigift.models import ApiToken
from flexigift.serving import YOUNGEST_THRESHOLD, serve_config
from servers import REPOSITORY, call, gunicorn


# -- when authentication is on ------------------------------------------------------

@pytest.mark.parametrize("host,flag,env,expected", [
    ("127.0.0.1", None, None, False),       # the development exception
    ("localhost", None, None, False),
    ("::1", None, None, False),
    ("127.0.0.1", True, None, True),         # --auth
    ("127.0.0.1", None, "on", True),         # FLEXIGIFT_AUTH=on
    ("0.0.0.0", None, None, True),           # any other address: on
    ("192.0.2.10", None, None, True),
    ("0.0.0.0", None, "off", False),         # the explicit opt-out
    ("0.0.0.0", False, None, False),         # --no-auth
])
def test_serve_turns_authentication_on_except_for_a_loopback_development_server(
        monkeypatch, host, flag, env, expected):
    monkeypatch.delenv("FLEXIGIFT_AUTH", raising=False)
    if env is not None:
        monkeypatch.setenv("FLEXIGIFT_AUTH", env)
    assert serve_config(host, flag, env).auth is expected


@pytest.mark.parametrize("name,value", [
    ("FLEXIGIFT_AUTH", "maybe"), ("FLEXIGIFT_PUBLIC_URL", "ftp://example.com"),
    ("FLEXIGIFT_CORS_ORIGINS", "example.com"), ("FLEXIGIFT_LOOKUP_FAILURES", "ten"),
    ("FLEXIGIFT_TRUSTED_PROXIES", "-1"), ("FLEXIGIFT_TRUSTED_PROXIES", "\u00b2"),
    ("FLEXIGIFT_COUNT_CAP", "1\u00b2"), ("FLEXIGIFT_COUNT_CAP", "\u0661\u0662"),
])
def test_an_invalid_setting_is_a_clear_error_at_start(monkeypatch, name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code != 0 and name in result.output and "Traceback" not in result.output


def test_wsgi_app_with_an_invalid_setting_says_so_without_a_traceback(tmp_path):
    env = {**os.environ, "FLEXIGIFT_AUTH": "maybe", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=REPOSITORY, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "FLEXIGIFT_AUTH must be on or off" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["check-ledger"], ["token", "list"]])
def test_a_database_that_cannot_be_reached_is_a_one_line_error(command):
    """Nothing listens on port 1: the command says so, without a traceback."""
    result = CliRunner().invoke(main, command, env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x"})
    assert result.exit_code == 1, result.output
    assert "cannot reach the database" in result.output and "Traceback" not in result.output


def test_the_wsgi_process_is_set_for_serving(tmp_path):
    """Start-up's objects are left out of the collector's scans, and its youngest generation
    is collected seldom enough that a page's objects are not walked several times over."""
    env = {**os.environ, "FLEXIGIFT_AUTH": "off", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run([sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count(), *gc.get_threshold())"],
                          cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    frozen, youngest, *_ = map(int, done.stdout.split())
    assert frozen > 10_000 and youngest == YOUNGEST_THRESHOLD


def test_wsgi_app_starts_with_authentication_on(database_url, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLEXIGIFT_")}
    runner = CliRunner(env={"DATABASE_URL": database_url})
    created = runner.invoke(main, ["token", "create", "--role", "readonly", "--name", "ci"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.splitlines()[0]
    with gunicorn(database_url, "/", workers=1, threads=1, ready_status=401,
                  env={**env, "FLEXIGIFT_AUTH": "on"}) as server:
        status, body = call("GET", f"{server}/users")
        assert status == 401 and b"unauthorized" in body
        assert call("GET", f"{server}/users", headers={"Authorization": f"Bearer {secret}"})[0] == 200


# -- the token commands -------------------------------------------------------------

def test_a_token_is_shown_once_and_only_its_hash_is_kept(database_url):
    runner = CliRunner(env={"DATABASE_URL": database_url})
    created = runner.invoke(main, ["token", "create", "--role", "issuer:Kohls", "--name", "kohls-backoffice"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.splitlines()[0]
    assert secret.startswith("fg_") and len(secret) >= 40
    assert "not shown again" in created.stderr
    db = open_database(database_url)
    with db.connection_context():
        rows = list(ApiToken.select().tuples())
    db.close_all()
    assert len(rows) == 1 and not any(secret in str(value) for value in rows[0])
    listed = runner.invoke(main, ["token", "list"])
    assert "kohls-backoffice" in listed.output and "issuer:Kohls" in listed.output
    assert secret not in listed.output and secret[3:20] not in listed.output
    revoked = runner.invoke(main, ["token", "revoke", "kohls-backoffice"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert runner.invoke(main, ["token", "revoke", "kohls-backoffice"]).exit_code != 0


@pytest.mark.parametrize("role", ["root", "issuer:", "issuer", "admin:x", "checkout:Kohls", ""])
def test_an_unknown_role_is_refused(database_url, role):
    result = CliRunner(env={"DATABASE_URL": database_url}).invoke(main, ["token", "create", "--role", role])
    assert result.exit_code == 2 and "role" in result.output


# -- across server processes ------------------------------------------------------------

def _two_servers(database_url: str, env: dict[str, str]):
    """Two separate server processes on one database."""
    from contextlib import ExitStack
    stack = ExitStack()
    servers = [stack.enter_context(gunicorn(database_url, "/", workers=1, threads=2, ready_status=401,
                                            env=env)) for _ in range(2)]
    return stack, servers


def test_revocation_and_rate_limits_hold_across_server_processes(database_url):
    runner = CliRunner(env={"DATABASE_URL": database_url})
    checkout = runner.invoke(main, ["token", "create", "--role", "checkout"]).stdout.splitlines()[0]
    admin = runner.invoke(main, ["token", "create", "--role", "admin", "--name", "ops"]).stdout.splitlines()[0]
    env = {"FLEXIGIFT_AUTH": "on", "FLEXIGIFT_LOOKUP_FAILURES": "4/600"}
    stack, (one, two) = _two_servers(database_url, env)
    with stack:
        auth = {"Authorization": f"Bearer {admin}"}
        assert call("POST", f"{one}/gift_cards", {"card_id": "real-9", "issuer": "Kohls", "balance": 5},
                    headers=auth)[0] == 201
        guesser = {"Authorization": f"Bearer {checkout}"}
        statuses = [call("POST", f"{server}/card_lookup", {"card_id": f"guess-{n}"}, headers=guesser)[0]
                    for n, server in enumerate([one, two, one, two, one, two])]
        assert statuses == [404, 404, 404, 404, 429, 429]
        assert call("POST", f"{two}/card_lookup", {"card_id": "real-9"}, headers=guesser)[0] == 429
        assert call("GET", f"{two}/users", headers=auth)[0] == 200
        runner.invoke(main, ["token", "revoke", "ops"])
        assert call("GET", f"{one}/users", headers=auth)[0] == 401
        assert call("GET", f"{two}/users", headers=auth)[0] == 401
