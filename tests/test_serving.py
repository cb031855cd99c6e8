"""The servers a newcomer and an operator start, as real processes on a free port:
``flexigift serve`` (granian, one worker per core) and ``wsgi:app`` under another WSGI
server. Each answers over real HTTP, keeps what it is sent, and stops cleanly.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from servers import HOST, REPOSITORY, call, free_port, gunicorn

STOP_TIMEOUT = 10.0


def _start_serve(database: str, port: int, *extra: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("FLEXIGIFT_") and key != "DATABASE_URL"}
    command = [sys.executable, "-m", "flexigift.cli", "serve", "--port", str(port),
               "--database-url", database, *extra]
    return subprocess.Popen(command, cwd=REPOSITORY, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def _wait_until_answering(process: subprocess.Popen, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"flexigift serve exited with {process.returncode}:\n"
                                 f"{process.stdout.read().decode(errors='replace')}")
        try:
            if call("GET", url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"flexigift serve did not answer {url} within {timeout:.0f} s")


def _stop(process: subprocess.Popen, how) -> tuple[int, float, str]:
    """Send the signal (``how(process)``); the exit code, the seconds it took, and the output."""
    started = time.monotonic()
    how(process)
    try:
        output, _ = process.communicate(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=STOP_TIMEOUT)
        raise AssertionError(f"flexigift serve did not stop within {STOP_TIMEOUT:.0f} s:\n"
                             f"{output.decode(errors='replace')}") from None
    return process.returncode, time.monotonic() - started, output.decode(errors="replace")


def _workers_of(pid: int) -> list[int]:
    done = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(line) for line in done.stdout.split()]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _interrupt_group(process: subprocess.Popen) -> None:
    """What Ctrl-C in a terminal does: SIGINT to every process of the group."""
    os.killpg(process.pid, signal.SIGINT)


STOPS = {
    "ctrl-c": _interrupt_group,
    "sigint": lambda process: process.send_signal(signal.SIGINT),
    "sigterm": lambda process: process.send_signal(signal.SIGTERM),
}


@pytest.mark.parametrize("stop", list(STOPS))
def test_flexigift_serve_answers_keeps_a_write_and_stops_cleanly(tmp_path, stop):
    database = f"sqlite:///{tmp_path / 'served.db'}"
    port = free_port()
    base = f"http://{HOST}:{port}"
    process = _start_serve(database, port, "--workers", "2")
    try:
        _wait_until_answering(process, f"{base}/")
        status, home = call("GET", f"{base}/")
        assert status == 200 and b"Flexigift" in home
        workers = _workers_of(process.pid)
        assert len(workers) == 2, workers

        # A write, then reading it back, several times: each worker serves some of them.
        for number in range(6):
            user = {"user_id": f"served{number}", "name": f"Served {number}",
                    "email": f"served{number}@example.com"}
            status, created = call("POST", f"{base}/users", user)
            assert status == 201, created
            status, listed = call("GET", f"{base}/users?user_id=served{number}")
            assert status == 200 and f'"served{number}"'.encode() in listed
        status, body = call("GET", f"{base}/users?limit=300")
        assert status == 200 and all(f"served{n}".encode() in body for n in range(6))
    finally:
        code, seconds, output = _stop(process, STOPS[stop])
    assert code == 0, output
    assert seconds < STOP_TIMEOUT
    assert all(_gone(pid) for pid in workers)
    assert "development server, authentication OFF" in output
    assert "Traceback" not in output and "Killing worker" not in output


def test_flexigift_serve_workers_default_to_the_cores_and_migrate_at_start(tmp_path):
    """Without --database-url or DATABASE_URL, the schema is made in ./flexigift.db."""
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("FLEXIGIFT_") and key != "DATABASE_URL"}
    process = subprocess.Popen([sys.executable, "-m", "flexigift.cli", "serve", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_until_answering(process, f"http://{HOST}:{port}/users")
        assert (tmp_path / "flexigift.db").exists()
        assert len(_workers_of(process.pid)) == len(os.sched_getaffinity(0))
    finally:
        code, _, output = _stop(process, STOPS["sigterm"])
    assert code == 0, output
    assert "database sqlite:///flexigift.db" in output


def test_flexigift_serve_with_auth_requires_tokens(tmp_path):
    port = free_port()
    process = _start_serve(f"sqlite:///{tmp_path / 'x.db'}", port, "--auth", "--workers", "1")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, body = call("GET", f"http://{HOST}:{port}/users")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 401 and b"unauthorized" in body
    finally:
        code, _, output = _stop(process, STOPS["sigint"])
    assert code == 0, output
    assert "authentication on" in output


def test_wsgi_app_answers_under_gunicorn(tmp_path):
    database = f"sqlite:///{tmp_path / 'gunicorn.db'}"
    with gunicorn(database, "/", workers=2, threads=2) as base:
        status, created = call("POST", f"{base}/users", {"user_id": "gunicorn1", "name": "G"})
        assert status == 201, created
        status, listed = call("GET", f"{base}/users?user_id=gunicorn1")
        assert status == 200 and b'"gunicorn1"' in listed
