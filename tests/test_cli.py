"""The ``flexigift`` command as a person and a script use it: complete help, long
work with a progress bar on a terminal and silence when piped, clear errors."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import click
import pytest

from flexigift.cli import main

COMMAND = [sys.executable, "-m", "flexigift"]


def run(*args: str, database_url: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, env=env, timeout=120,
                          check=check)


def every_command(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from every_command(command, (*prefix, name))


def test_top_level_help_lists_every_command():
    output = run("--help").stdout
    for path, command in every_command(main):
        if len(path) == 1:
            assert path[0] in output


@pytest.mark.parametrize("path", [path for path, _ in every_command(main)], ids=" ".join)
def test_every_command_and_option_has_help(path):
    command = dict(every_command(main))[path]
    assert (command.help or "").strip(), f"{' '.join(path)} has no help"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"{' '.join(path)} {param.opts[0]} has no help"
    shown = run(*path, "--help").stdout
    assert shown.startswith(f"Usage: flexigift {' '.join(path)}")


@pytest.fixture
def issuer_db(app, database_url, client):
    client.post_json("/issuers", {"name": "Gap", "currency_code": "USD"}, status=201)
    return database_url


def test_generate_codes_piped_prints_only_the_codes(issuer_db, json_client):
    result = run("generate-codes", "Gap", "--number", "3000", "--length", "12", "--prefix", "gap-",
                 "--balance", "25.00", database_url=issuer_db)
    codes = result.stdout.split()
    assert len(codes) == len(set(codes)) == 3000
    assert all(code.startswith("gap-") and len(code) == 12 for code in codes)
    assert result.stderr.strip() == "3,000 cards issued by Gap"  # no progress bar when piped
    page = json_client.get("/gift_cards?card_id=gap-*&limit=1")
    assert page.headers["X-Total-Count-More-Than"] == "1000"  # the count cap: the last offsets say how many
    assert len(json_client.get("/gift_cards?card_id=gap-*&limit=1&offset=2999").json) == 1
    assert json_client.get("/gift_cards?card_id=gap-*&limit=1&offset=3000").json == []
    card = page.json[0]
    assert card["balance"] == 25 and card["card_id"] in codes
    assert run("check-ledger", database_url=issuer_db).returncode == 0


def test_generate_codes_on_a_terminal_shows_progress(issuer_db, tmp_path):
    main_fd, terminal = pty.openpty()
    env = dict(os.environ, DATABASE_URL=issuer_db, COLUMNS="100")
    output = (tmp_path / "codes.txt").open("w+b")
    process = subprocess.Popen([*COMMAND, "generate-codes", "Gap", "--number", "20000", "--length", "14"],
                               stdout=output, stderr=terminal, env=env)
    os.close(terminal)
    shown = b""
    while True:
        ready, _, _ = select.select([main_fd], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=60) == 0
    output.seek(0)
    codes = output.read().split()
    os.close(main_fd)
    text = shown.decode(errors="replace")
    assert "issuing 20,000 cards" in text and "100%" in text, text[-500:]
    assert len(codes) == 20000


def test_generate_codes_errors_name_the_option(issuer_db):
    result = run("generate-codes", "Gap", "--balance", "1.234", "--number", "0", database_url=issuer_db,
                 check=False)
    assert result.returncode == 2
    assert "--balance" in result.stderr and "--number" in result.stderr
    unknown = run("generate-codes", "Nobody", database_url=issuer_db, check=False)
    assert unknown.returncode == 1 and "no issuer named 'Nobody'" in unknown.stderr
    assert unknown.stdout == ""
