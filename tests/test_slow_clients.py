"""Slow and idle clients cannot stall the servers README.rst recommends.

While a handful of connections hang (silent ones, ones that sent half a request line,
ones that send their body a byte a second), another client's requests are still
answered, on ``flexigift serve``, granian as in production, gunicorn as documented and
waitress. Nothing here times how fast: each request must complete within a generous
socket timeout, where a stalled server would never answer it.

On SQLite only: what is tested is how each server shares its threads and connections,
which the database does not change.
"""
from __future__ import annotations

import json
import socket
import threading
import urllib.request
from contextlib import ExitStack

import pytest

from servers import HOST, RECOMMENDED, recommended_server

#: Long enough for any request to a server that is not stalled, on a loaded machine.
PATIENCE = 10.0
SILENT, HALF_LINES, DRIBBLES = 2, 8, 3
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _request(method: str, url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Accept": "application/json", "Content-Type": "application/json"})
    with _OPENER.open(request, timeout=PATIENCE) as response:
        return response.status, response.read()


class Hangers:
    """Connections that hold on: silent, half a request line, or a body a byte a second."""

    def __init__(self, port: int):
        self.port = port
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def _connect(self) -> socket.socket:
        connection = socket.create_connection((HOST, self.port), timeout=PATIENCE)
        self.sockets.append(connection)
        return connection

    def start(self) -> None:
        for _ in range(SILENT):
            self._connect()
        for _ in range(HALF_LINES):
            self._connect().sendall(b"GET /users HT")
        for number in range(DRIBBLES):
            connection = self._connect()
            connection.sendall(b"POST /users HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
                               b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{")
            thread = threading.Thread(target=self._dribble, args=(connection,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _dribble(self, connection: socket.socket) -> None:
        while not self.stop.wait(1.0):
            try:
                connection.sendall(b" ")
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)
        for connection in self.sockets:
            connection.close()


@pytest.mark.parametrize("server", RECOMMENDED)
def test_slow_clients_do_not_stall_the_server(tmp_path, server):
    with ExitStack() as stack:
        base = stack.enter_context(recommended_server(server, f"sqlite:///{tmp_path / 'slow.db'}"))
        hangers = Hangers(int(base.rsplit(":", 1)[1]))
        stack.callback(hangers.close)
        hangers.start()
        assert all(thread.is_alive() for thread in hangers.threads)  # still sending, byte by byte
        threading.Event().wait(1.5)  # let the servers hand the hanging connections out
        for number in range(6):
            user = {"user_id": f"prompt{number}", "name": "Prompt", "email": f"p{number}@example.com"}
            status, created = _request("POST", f"{base}/users", user)
            assert status == 201, created
            status, read = _request("GET", f"{base}/users/{json.loads(created)['id']}")
            assert status == 200 and json.loads(read)["user_id"] == f"prompt{number}"
        status, listed = _request("GET", f"{base}/users?limit=300")
        assert status == 200 and len(json.loads(listed)) == 6
