"""A server process killed outright (SIGKILL) in the middle of its work leaves the database
whole: no part of a batch of generated codes, no ledger entry without its balance change,
``flexigift check-ledger`` clean, and SQLite's integrity check ok."""
from __future__ import annotations

import http.client
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from money_helpers import DOG_BED, card, kohls_world
from servers import HOST, REPOSITORY, _wait_until_serving, call, free_port

#: How long the test waits for the server to be busy before it kills it (a bound, not a check).
BUSY_BOUND = 40.0


class KillableServer:
    """gunicorn (one worker) serving a database, killed with SIGKILL, never stopped politely."""

    def __init__(self, database_url: str):
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "FLEXIGIFT_AUTH": "off",
               "PYTHONPATH": str(REPOSITORY)}
        self.directory = tempfile.TemporaryDirectory()
        self.log = pathlib.Path(self.directory.name) / "server.log"
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4", "--timeout", "300",
                 "--bind", f"{HOST}:{self.port}", "--chdir", str(REPOSITORY), "wsgi:app"],
                cwd=REPOSITORY, env=env, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        _wait_until_serving(self.process, self.base + "/issuers", self.log)

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.directory.cleanup()


def flexigift(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "flexigift", *args], env=env, cwd=REPOSITORY,
                          capture_output=True, text=True, timeout=120)


def _sound(database_url: str) -> None:
    checked = flexigift("check-ledger", "--database-url", database_url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url[len("sqlite:///"):]) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _busy_inserting(database_url: str, before_wal: int) -> bool:
    """Whether the batch is being written: a PostgreSQL session inserts cards (or copies
    them, or their entries, in: a large batch goes by COPY), or SQLite's write-ahead log
    grew by the pages of an uncommitted transaction."""
    if database_url.startswith("sqlite:///"):
        wal = pathlib.Path(database_url[len("sqlite:///"):] + "-wal")
        return wal.exists() and wal.stat().st_size > before_wal + 2_000_000
    import psycopg
    with psycopg.connect(database_url, autocommit=True) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'active' AND (query ILIKE 'INSERT INTO \"gift_card\"%%' "
            "OR query ILIKE 'COPY \"flexigift_stage_%%' OR query ILIKE 'COPY \"transaction\"%%')"
        ).fetchone()[0] > 0


def _wal_size(database_url: str) -> int:
    wal = pathlib.Path(database_url[len("sqlite:///"):] + "-wal")
    return wal.stat().st_size if database_url.startswith("sqlite:///") and wal.exists() else 0


def test_killed_in_the_middle_of_generating_100000_codes_leaves_no_partial_batch(database_url, json_client):
    kohls = kohls_world(json_client, balance="10.00")[0]
    issuer_id = json_client.get("/issuers").json[0]["id"]
    cards_before = len(json_client.get("/gift_cards?limit=300").json)
    server = KillableServer(database_url)
    answer = {}
    try:
        before_wal = _wal_size(database_url)
        def generate():
            try:
                answer["status"] = call("POST", f"{server.base}/issuers/{issuer_id}/generate_codes",
                                        {"number_of_codes": 100_000, "length": 16, "prefix": "crash",
                                         "balance": "5.00"})[0]
            except (OSError, http.client.HTTPException) as error:  # the server died under it, as meant
                answer["error"] = error

        request = threading.Thread(target=generate)
        request.daemon = True
        request.start()
        deadline = time.monotonic() + BUSY_BOUND
        busy = False
        while not busy and time.monotonic() < deadline:
            busy = _busy_inserting(database_url, before_wal)
            time.sleep(0.01)
    finally:
        server.kill()
    request.join(60)
    assert busy, "the server never got to writing the batch"
    assert "status" not in answer or answer["status"] != 201, "the batch finished before the kill"
    cards_after = json_client.get("/gift_cards?limit=300&card_id=crash*").json
    assert cards_after == []
    assert len(json_client.get("/gift_cards?limit=300").json) == cards_before
    assert kohls["card_id"]
    _sound(database_url)


def test_killed_in_a_stream_of_redemptions_leaves_every_balance_matching_its_ledger(database_url, json_client):
    kohls_world(json_client, balance="1000.00")
    cards = [card(json_client, card_id=f"kohls-gc-2{n:02}", balance="1000.00") for n in range(3)]
    server = KillableServer(database_url)
    done = []
    stop = threading.Event()

    def redeem_forever(one):
        while not stop.is_set():
            try:
                done.append(call("POST", f"{server.base}/gift_cards/{one['id']}/redeem",
                                 {"product_id": DOG_BED["product_id"], "amount": "0.01"})[0])
            except (OSError, http.client.HTTPException):
                return  # the server is gone

    threads = [threading.Thread(target=redeem_forever, args=(one,), daemon=True) for one in cards * 2]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + BUSY_BOUND
        while len(done) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        server.kill()
        stop.set()
    for thread in threads:
        thread.join(60)
    assert len(done) >= 60 and set(done) == {201}
    _sound(database_url)
    for one in cards:
        entries = json_client.get(f"/gift_cards/{one['id']}/transactions?limit=300&kind=redeem").json
        balance = json_client.get(f"/gift_cards/{one['id']}").json["balance"]
        assert round(1000 - 0.01 * len(entries), 2) == round(float(balance), 2)
