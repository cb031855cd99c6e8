"""``flexigift backup`` and ``restore`` (SQLite): a copy taken while a real server takes
redemptions is consistent: its ledger checks out and SQLite finds it whole."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from money_helpers import DOG_BED, card, kohls_world
from servers import REPOSITORY, call, gunicorn


def flexigift(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "flexigift", *args], env=env, cwd=REPOSITORY,
                          capture_output=True, text=True, timeout=120)


def _integrity(path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_a_backup_taken_under_write_load_is_consistent_and_restores(database_url, json_client, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL is backed up with pg_dump or point-in-time recovery (README: Backups)")
    kohls_world(json_client, balance="1000.00")
    cards = [card(json_client, card_id=f"kohls-gc-1{n:02}", balance="1000.00") for n in range(3)]
    copies = [tmp_path / f"copy-{n}.db" for n in range(3)]
    with gunicorn(database_url, "/gift_cards", workers=2, threads=2) as server:
        stop = threading.Event()
        statuses = []

        def redeem_forever(card):
            while not stop.is_set():
                statuses.append(call("POST", f"{server}/gift_cards/{card['id']}/redeem",
                                     {"product_id": DOG_BED["product_id"], "amount": "0.01"})[0])

        threads = [threading.Thread(target=redeem_forever, args=(one,)) for one in cards]
        for thread in threads:
            thread.start()
        try:
            for copy in copies:
                done = flexigift("backup", str(copy), "--database-url", database_url)
                assert done.returncode == 0, done.stderr
        finally:
            stop.set()
            for thread in threads:
                thread.join(120)
    assert set(statuses) == {201}
    for copy in copies:
        assert _integrity(copy) == "ok"
        checked = flexigift("check-ledger", "--database-url", f"sqlite:///{copy}")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.startswith("ledger OK: 4 gift cards")
    restored = tmp_path / "restored.db"
    done = flexigift("restore", str(copies[-1]), "--database-url", f"sqlite:///{restored}")
    assert done.returncode == 0, done.stderr
    assert _integrity(restored) == "ok"
    assert flexigift("check-ledger", "--database-url", f"sqlite:///{restored}").returncode == 0


def test_backup_refuses_an_existing_file_and_postgresql(tmp_path):
    existing = tmp_path / "there.db"
    existing.write_bytes(b"")
    source = tmp_path / "f.db"
    assert flexigift("migrate", "--database-url", f"sqlite:///{source}").returncode == 0
    refused = flexigift("backup", str(existing), "--database-url", f"sqlite:///{source}")
    assert refused.returncode == 1 and "exists already" in refused.stderr
    refused = flexigift("backup", str(tmp_path / "pg.db"), "--database-url", "postgresql://u@127.0.0.1:9/x")
    assert refused.returncode == 1 and "pg_dump" in refused.stderr
