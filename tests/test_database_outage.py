"""A PostgreSQL outage under load, against a real server (gunicorn, 2 processes) and a
PostgreSQL server of the test's own: while the database is stopped every request answers
503 with Retry-After in its negotiated media type (never a 500, never a hang); once the
database is back, the same server processes serve again without a restart."""
from __future__ import annotations

import http.client
import itertools
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from own_postgres import own_postgres, unavailable_reason
from servers import REPOSITORY, REQUEST_TIMEOUT, gunicorn

MEDIA_TYPES = ["application/hal+json", "application/json", "application/vnd.siren+json",
               "application/hal+xml", "text/html"]
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_SKIP = unavailable_reason()
#: How long the test waits for the answers of one phase before it gives up (a bound).
WAIT_BOUND = 60.0


def _request(method: str, url: str, accept: str, body: bytes | None = None):
    """(status, Content-Type, Retry-After, body) of one request."""
    request = urllib.request.Request(url, data=body, method=method, headers={
        "Accept": accept, "Content-Type": "application/json"})
    try:
        with _OPENER.open(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, response.headers.get("Content-Type", ""), None, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.headers.get("Retry-After"), error.read()
    except (OSError, http.client.HTTPException) as error:  # no answer at all: status 0
        return 0, "", None, repr(error).encode()


class Load:
    """Threads sending reads and writes, each answer recorded with the phase it came in."""

    def __init__(self, base: str, threads: int = 4):
        self.base, self.phase, self.answers = base, "before", []
        self.stopping = threading.Event()
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self):
        while not self.stopping.is_set():
            n, started = next(self.counter), self.phase
            accept = MEDIA_TYPES[n % len(MEDIA_TYPES)]
            if n % 2:
                answer = _request("GET", f"{self.base}/users?limit=5", accept)
            else:
                answer = _request("POST", f"{self.base}/users", accept, b'{"user_id": "load%d"}' % n)
            with self.lock:
                # An answer counts in a phase when its request began and ended in it.
                self.answers.append((self.phase if started == self.phase else "between", accept, answer))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT * 2)


def _wait_for_answers(load: Load, phase: str, count: int) -> None:
    """Until ``count`` answers came in ``phase`` (the load threads never stop on their own)."""
    event = threading.Event()
    for _ in range(int(WAIT_BOUND / 0.05)):
        with load.lock:
            if sum(1 for answer in load.answers if answer[0] == phase) >= count:
                return
        event.wait(0.05)
    raise AssertionError(f"fewer than {count} answers in phase {phase!r}: {load.answers[-5:]}")


@pytest.mark.skipif(_SKIP is not None, reason=_SKIP or "")
def test_a_stopped_database_is_a_503_and_the_same_servers_recover_when_it_returns():
    with own_postgres() as postgres, gunicorn(postgres.url, "/users", workers=2, threads=2,
                                                 log_level="debug") as base:
        with Load(base) as load:
            _wait_for_answers(load, "before", 20)
            load.phase = "stopping"
            postgres.stop()
            load.phase = "down"
            _wait_for_answers(load, "down", 30)
            load.phase = "starting"
            postgres.start()
            load.phase = "back"
            _wait_for_answers(load, "back", 40)
        # After the load: every thread of both processes answers again.
        for accept in MEDIA_TYPES:
            for _ in range(8):
                status, _, _, body = _request("GET", f"{base}/users?limit=1", accept)
                assert status == 200, body
        # A write may land on a thread whose connection from before the outage is still
        # unused: it answers 503 once (retry later) and that thread connects anew. With
        # 2 processes of 2 threads, 4 retries are enough for every write.
        ok = []
        for n in range(8):
            for _ in range(5):
                status = _request("POST", f"{base}/users", "application/json", b'{"user_id": "after%d"}' % n)[0]
                if status != 503:
                    break
            ok.append(status)
        # Checked while the server runs, so that a failure prints its log.
        answers = load.answers
        assert [a for a in answers if a[2][0] == 0 or (a[2][0] >= 500 and a[2][0] != 503)] == []
        for phase, accept, (status, content_type, retry_after, body) in answers:
            if status == 503:
                assert retry_after == "2"
                assert content_type.split(";")[0] == accept
                assert b"database_unavailable" in body
        down = [a[2][0] for a in answers if a[0] == "down"]
        assert set(down) == {503}
        before = [a[2][0] for a in answers if a[0] == "before"]
        assert set(before) <= {200, 201}
        back = [a[2][0] for a in answers if a[0] == "back"]
        assert {200, 201} <= set(back)
        assert set(ok) == {201}


@pytest.mark.skipif(_SKIP is not None, reason=_SKIP or "")
def test_a_server_process_starting_during_an_outage_waits_for_the_database():
    """A worker (re)started while the database is down waits for it rather than failing:
    gunicorn stops the whole server when a worker fails to start."""
    with own_postgres() as postgres:
        postgres.stop()
        env = {**os.environ, "DATABASE_URL": postgres.url, "FLEXIGIFT_AUTH": "off"}
        process = subprocess.Popen([sys.executable, "-c", "import wsgi; print('made', wsgi.app.name)"],
                                   cwd=REPOSITORY, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(2)
            assert process.poll() is None, process.communicate()  # waiting, not failed
            postgres.start()
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
        assert process.returncode == 0 and "made" in out, err
        assert "the database does not answer" in err and "Traceback" not in err
