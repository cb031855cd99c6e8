"""Benchmark (issue 10, item 2): the CPU one ``GET /users/<id>`` (HAL+JSON, SQLite)
costs inside the process, against a bare Flask route returning a constant dict.

Run by hand, from the repository root::

    python benchmarks/cpu_per_request.py            # instructions (valgrind) and CPU time
    python benchmarks/cpu_per_request.py --profile  # where Flexigift's instructions go

Both apps are called as WSGI callables, with no server and no client, so the
figures are the application's and the framework's cost alone. Two measures:

- instructions per request, counted by ``valgrind --tool=callgrind`` as the
  difference between runs of N1 and N2 requests (start-up cancels out). They do
  not depend on what else the machine is doing, so they are the figure the
  target (<= 2x) is judged on. Skipped, with a note, when valgrind is missing.
- CPU seconds per request (``time.process_time``), rounds A/B interleaved,
  median of the rounds: noisier, but what a profiler shows.
"""
from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 2.0
PATH = "/users/5"
#: Requests before the counted ones (caches filled, statements compiled).
WARMUP = 100


def flexigift_app():
    import webtest

    from flexigift.app import create_app
    from flexigift.config import Config

    directory = tempfile.mkdtemp(prefix="flexigift-cpu-")
    app = create_app(Config(database_url=f"sqlite:///{directory}/flexigift.db", auth=False))
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})
    for number in range(1, 6):
        client.post_json("/users", {"user_id": f"user{number:03d}", "name": "Jack Johnson",
                                    "email": f"user{number}@example.com"})
    return app


def flask_app():
    from flask import Flask

    app = Flask(__name__)

    @app.route("/users/<int:id>")
    def user(id: int):
        return {"id": id, "user_id": "user005", "name": "Jack Johnson", "email": "jack@example.com"}

    return app


APPS = {"flexigift": flexigift_app, "flask": flask_app}


def caller(app):
    """A function making one request of ``app``, checking that it answers 200."""
    base = {"REQUEST_METHOD": "GET", "PATH_INFO": PATH, "QUERY_STRING": "", "SCRIPT_NAME": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "3000", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "localhost:3000", "HTTP_ACCEPT": "application/hal+json",
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False}

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise SystemExit(f"{PATH} answered {status}")

    def call():
        body = app({**base, "wsgi.input": io.BytesIO()}, start_response)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()

    return call


def run_requests(which: str, count: int) -> None:
    """The child's job under valgrind: warm up, then ``count`` requests."""
    call = caller(APPS[which]())
    from flexigift.serving import settle_process

    settle_process()  # the garbage collector set as the servers set it (flexigift.serving.settled)
    for _ in range(WARMUP):
        call()
    for _ in range(count):
        call()


def instructions(which: str, first: int = 50, second: int = 250) -> float | None:
    """Instructions per request of ``which``, or None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    totals = []
    for count in (first, second):
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
             sys.executable, __file__, "--child", which, str(count)],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"})  # the same dict layouts every run: a repeatable count
        found = re.search(r"refs:\s*([\d,]+)", done.stderr)
        totals.append(int(found.group(1).replace(",", "")))
    return (totals[1] - totals[0]) / (second - first)


def cpu_seconds(rounds: int = 7, per_round: int = 2000) -> dict[str, float]:
    """Median CPU seconds per request of each app, rounds interleaved."""
    calls = {name: caller(make()) for name, make in APPS.items()}
    from flexigift.serving import settle_process

    settle_process()  # the garbage collector set as the servers set it (flexigift.serving.settled)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        for _ in range(300):
            call()
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.process_time()
            for _ in range(per_round):
                call()
            samples[name].append((time.process_time() - started) / per_round)
    return {name: statistics.median(values) for name, values in samples.items()}


def profile(count: int = 3000) -> None:
    import cProfile
    import pstats

    call = caller(flexigift_app())
    for _ in range(300):
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="store_true", help="print Flexigift's top costs and stop")
    parser.add_argument("--child", nargs=2, metavar=("APP", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_requests(args.child[0], int(args.child[1]))
        return 0
    if args.profile:
        profile()
        return 0
    print(f"GET {PATH} as HAL+JSON, in process (WSGI call), against a bare Flask route")
    ours, floor = instructions("flexigift"), instructions("flask")
    verdict = 0
    if ours is None:
        print("instructions: valgrind is not installed (apt-get install valgrind); skipped")
    else:
        ratio = ours / floor
        holds = ratio <= TARGET
        verdict |= not holds
        print(f"instructions per request: flexigift {ours:,.0f}, bare Flask {floor:,.0f}, "
              f"ratio {ratio:.2f} (target <= {TARGET}: {'holds' if holds else 'MISSED'})")
    seconds = cpu_seconds()
    ratio = seconds["flexigift"] / seconds["flask"]
    print(f"CPU per request (median of interleaved rounds): flexigift {seconds['flexigift'] * 1e6:.0f} us, "
          f"bare Flask {seconds['flask'] * 1e6:.0f} us, ratio {ratio:.2f}")
    return verdict


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
