"""A real webhook receiver for the tests: an HTTP server on a loopback port, in a
thread, recording every POST (path, headers, body) and answering as told: a
status code per request in turn (then 200), or ``"hang"`` (answers after
``hang_seconds``, long past the deliverer's timeout)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Received deliveries, and the answers still to give."""

    def __init__(self, answers: list | None = None, hang_seconds: float = 5.0):
        self.answers = list(answers or [])
        self.hang_seconds = hang_seconds
        self.received: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append({"path": self.path, "headers": dict(self.headers),
                                              "body": body})
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "hang":
                    time.sleep(receiver.hang_seconds)
                    answer = 200
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self, path: str | None = None) -> list[dict]:
        """The bodies received (at ``path``), parsed, in arrival order."""
        with self.lock:
            return [json.loads(item["body"]) for item in self.received
                    if path is None or item["path"] == path]

    def event_ids(self, path: str | None = None) -> list[int]:
        return [event["id"] for event in self.events(path)]
