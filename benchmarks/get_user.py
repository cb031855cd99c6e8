"""Benchmark (SPEC 7, first bullet): ``GET /users/<id>`` as HAL+JSON, in requests per
second, against two baselines measured side by side in the same run.

Run by hand (not in CI), from the repository root::

    python benchmarks/get_user.py [--duration 10] [--warmup 2] [--threads 8] [--client auto]
    python benchmarks/get_user.py --profile 5000   # no servers: where one request's time goes

In a temporary directory it builds one SQLite database of 1,000 users with
Flexigift's models, and a ``db.json`` of the same users; installs json-server
0.17.4 there with npm (if that fails, that baseline is reported unavailable);
and starts, each on a free port of 127.0.0.1:

- Flexigift under waitress (``_serve.py flexigift``);
- json-server 0.17.4 on ``db.json`` (``--quiet``);
- a minimal Flask + peewee app (``_minimal_app.py``) under waitress with the same
  settings and thread count, on the same SQLite file.

Each target gets the same load: a warm-up, then a fixed duration of
``GET /users/<random id in 1..1000>`` with ``Accept: application/hal+json`` on
keep-alive connections, from the same client (wrk when installed, else a Python
client), which runs on the same CPUs as the servers. Targets (SPEC 7):
Flexigift / json-server >= 1.0 and Flexigift / minimal >= 0.8. The exit status
is 1 when a measured ratio misses its target.

``--floors`` adds two references under the same waitress settings, answering a
constant body without a database: Flask alone and a bare WSGI callable (what
the server and the framework cost before any application code). ``--profile N``
starts no server: it times N direct calls of each WSGI app in-process and
prints a cProfile of Flexigift's.
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import http.client
import io
import pathlib
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import _harness as h

JSON_SERVER_VERSION = "0.17.4"
TARGETS = {"json-server": 1.0, "minimal": 0.8}
#: Extra references (``--floors``): waitress + Flask, and waitress alone, answering a constant body.
FLOORS = ("flask-constant", "wsgi-constant")
#: A ceiling on the requests of one measurement, so the load is bounded in count as well as time.
MAX_REQUESTS = 2_000_000

WRK_SCRIPT = """
local counter, limit, users = 0, 0, 0
function setup(thread)
  thread:set("seed", os.time() + math.random(1, 1000000))
end
function init(args)
  limit, users = tonumber(args[1]), tonumber(args[2])
  math.randomseed(seed)
end
function request()
  return wrk.format("GET", "/users/" .. math.random(1, users), {Accept = "application/hal+json"})
end
function response(status, headers, body)
  counter = counter + 1
  if counter >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50=%d p99=%d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclasses.dataclass
class Measurement:
    per_second: float
    requests: int
    failures: int
    p50_ms: float | None = None
    p99_ms: float | None = None


# -- the client -----------------------------------------------------------------
class WrkClient:
    """wrk with a Lua script that picks a random id per request."""

    def __init__(self, workdir: pathlib.Path, threads: int, connections: int, users: int):
        self.script = workdir / "get_user.lua"
        self.script.write_text(WRK_SCRIPT)
        self.threads, self.connections, self.users = threads, connections, users

    def describe(self) -> str:
        return f"wrk, {self.threads} thread(s), {self.connections} keep-alive connections"

    def run(self, port: int, seconds: float) -> Measurement:
        command = ["wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                   "-s", str(self.script), f"http://{h.HOST}:{port}/",
                   "--", str(MAX_REQUESTS // self.threads), str(self.users)]
        output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                                check=True).stdout
        match = re.search(r"WRK_RESULT (.*)", output)
        if match is None:
            raise RuntimeError(f"unexpected wrk output:\n{output}")
        values = {key: int(value) for key, value in (part.split("=") for part in match.group(1).split())}
        failures = sum(values[key] for key in ("connect", "read", "write", "status", "timeout"))
        return Measurement(values["requests"] / (values["duration_us"] / 1e6), values["requests"],
                           failures, values["p50"] / 1000, values["p99"] / 1000)


class PythonClient:
    """Threads with one http.client keep-alive connection each (used when wrk is not installed)."""

    def __init__(self, connections: int, users: int):
        self.connections, self.users = connections, users

    def describe(self) -> str:
        return f"Python http.client, {self.connections} threads with a keep-alive connection each"

    def run(self, port: int, seconds: float) -> Measurement:
        users = self.users
        result = h.python_load(port, lambda rng, _index, _n: ("GET", f"/users/{rng.randint(1, users)}", None),
                               connections=self.connections, max_requests=MAX_REQUESTS, max_seconds=seconds)
        failures = result.errors + sum(count for status, count in result.statuses.items() if status != 200)
        return Measurement(result.per_second, result.requests, failures)


def make_client(choice: str, workdir: pathlib.Path, arguments) -> WrkClient | PythonClient:
    if choice == "wrk" or (choice == "auto" and shutil.which("wrk")):
        return WrkClient(workdir, arguments.wrk_threads, arguments.connections, arguments.users)
    return PythonClient(arguments.connections, arguments.users)


# -- the targets ----------------------------------------------------------------
def install_json_server(workdir: pathlib.Path) -> pathlib.Path | None:
    """The json-server executable installed with npm into ``workdir``, or None."""
    if shutil.which("npm") is None:
        print("  json-server: unavailable (npm is not installed)")
        return None
    command = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
               f"json-server@{JSON_SERVER_VERSION}"]
    try:
        subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        lines = [line.strip() for line in str(getattr(error, "stderr", "") or "").splitlines() if line.strip()]
        reason = next((line for line in lines if " code " in line or "code:" in line), lines[-1] if lines else error)
        print(f"  json-server: unavailable (npm install failed: {reason})")
        return None
    executable = workdir / "node_modules" / ".bin" / "json-server"
    return executable if executable.exists() else None


def start_targets(workdir: pathlib.Path, database: pathlib.Path, json_server: pathlib.Path | None,
                  threads: int, floors: bool, servers: list[h.Server]) -> None:
    """Start every target, appending each to ``servers`` at once (so the caller can stop it)."""
    servers.append(h.start_python_app("flexigift", database, threads, workdir))
    if json_server is not None:
        port = h.free_port()
        servers.append(h.start_server("json-server", [str(json_server), "--quiet", "--host", h.HOST,
                                                      "--port", str(port), "db.json"], port, workdir))
    servers.append(h.start_python_app("minimal", database, threads, workdir))
    if floors:
        for name in FLOORS:
            servers.append(h.start_python_app(name, database, threads, workdir))
    for server in servers:
        server.wait_ready("/users/1")


def sample_sizes(servers: list[h.Server]) -> None:
    for server in servers:
        connection = http.client.HTTPConnection(h.HOST, server.port, timeout=10)
        connection.request("GET", "/users/500", headers={"Accept": h.HAL})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        print(f"  {server.name:<14} GET /users/500 → {response.status}, "
              f"{response.getheader('Content-Type')}, {len(body)} bytes")


# -- in-process profile -----------------------------------------------------------
def wsgi_get(app, path: str) -> bytes:
    """Call ``app`` directly (no server, no socket) for ``GET path`` as HAL+JSON."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
               "SERVER_NAME": h.HOST, "SERVER_PORT": "80", "HTTP_HOST": f"{h.HOST}:80",
               "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_ACCEPT": h.HAL, "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    statuses = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    if not statuses[0].startswith("200"):
        raise RuntimeError(f"GET {path}: {statuses[0]}")
    return body


def cpu_per_request(app, users: int, count: int) -> float:
    """CPU microseconds per request of this thread, calling ``app`` directly."""
    rng = random.Random(5)
    for _ in range(min(count, 500)):
        wsgi_get(app, f"/users/{rng.randint(1, users)}")
    started = time.thread_time()
    for _ in range(count):
        wsgi_get(app, f"/users/{rng.randint(1, users)}")
    return (time.thread_time() - started) / count * 1e6


def profile(database: pathlib.Path, users: int, count: int) -> None:
    """Where one ``GET /users/<id>`` spends its time, without a server: the WSGI app called directly."""
    import _minimal_app
    import _serve

    flexigift = _serve.build_app("flexigift", str(database))
    minimal = _minimal_app.create_app(str(database))
    print(f"\nIn process, the WSGI app called directly, {count} requests each (CPU time of one thread):")
    for name, app in (("flexigift", flexigift), ("minimal", minimal)):
        print(f"  {name:<12} {cpu_per_request(app, users, count):7.0f} us per request")
    rng = random.Random(6)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        wsgi_get(flexigift, f"/users/{rng.randint(1, users)}")
    profiler.disable()
    print(f"\ncProfile of Flexigift's GET /users/<id> ({count} requests), by cumulative time:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(40)


# -- the run --------------------------------------------------------------------
def measure_all(servers: list[h.Server], client, arguments) -> dict[str, list[Measurement]]:
    results: dict[str, list[Measurement]] = {server.name: [] for server in servers}
    for round_number in range(arguments.rounds):
        for server in servers:
            client.run(server.port, arguments.warmup)
            measurement = client.run(server.port, arguments.duration)
            results[server.name].append(measurement)
            latency = (f", p50 {measurement.p50_ms:.2f} ms, p99 {measurement.p99_ms:.2f} ms"
                       if measurement.p50_ms is not None else "")
            print(f"  round {round_number + 1}: {server.name:<14} {measurement.per_second:9.1f} req/s "
                  f"({measurement.requests} requests, {measurement.failures} failed{latency})")
    return results


def report(results: dict[str, list[Measurement]]) -> int:
    rates = {name: statistics.median(m.per_second for m in runs) for name, runs in results.items()}
    failed = {name: sum(m.failures for m in runs) for name, runs in results.items()}
    print("\nGET /users/<id>, requests per second (median over rounds):")
    for name, rate in rates.items():
        print(f"  {name:<14} {rate:9.1f} req/s{'   (' + str(failed[name]) + ' failed)' if failed[name] else ''}")
    if "json-server" not in rates:
        print("  json-server    unavailable")
    missed = 0
    for baseline, target in TARGETS.items():
        if baseline not in rates:
            print(f"  ratio flexigift / {baseline:<14} n/a (baseline unavailable)")
            continue
        ratio = rates["flexigift"] / rates[baseline]
        verdict = "met" if ratio >= target else "MISSED"
        missed += ratio < target
        print(f"  ratio flexigift / {baseline:<14} {ratio:6.2f}  (target >= {target}: {verdict})")
    for floor in FLOORS:
        if floor in rates:
            print(f"  ratio flexigift / {floor:<14} {rates['flexigift'] / rates[floor]:6.2f}  (reference only)")
    if any(failed.values()):
        print("  some requests failed: the figures above are not trustworthy")
        return 1
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per target and round")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over all targets (median reported)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads of both Python targets")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--floors", action="store_true",
                        help="also measure waitress + Flask and waitress alone answering a constant body")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="instead of the load test, time and cProfile N direct WSGI calls")
    arguments = parser.parse_args()
    if arguments.profile:
        with tempfile.TemporaryDirectory(prefix="flexigift-bench-") as directory:
            database = pathlib.Path(directory) / "users.db"
            h.create_database(database, h.user_rows(arguments.users))
            profile(database, arguments.users, arguments.profile)
        return 0

    servers: list[h.Server] = []
    with tempfile.TemporaryDirectory(prefix="flexigift-bench-") as directory:
        workdir = pathlib.Path(directory)
        try:
            users = h.user_rows(arguments.users)
            database = workdir / "users.db"
            h.create_database(database, users)
            (workdir / "db.json").write_text(h.json_server_document(users))
            print(f"GET /users/<id> benchmark: {arguments.users} users; {h.machine_summary()}")
            json_server = install_json_server(workdir)
            start_targets(workdir, database, json_server, arguments.threads, arguments.floors, servers)
            client = make_client(arguments.client, workdir, arguments)
            node = f"; json-server {JSON_SERVER_VERSION} on node" if json_server is not None else ""
            print(f"  servers: waitress with {arguments.threads} threads for every Python target{node}")
            print(f"  client: {client.describe()}; the same client for every target, running on the "
                  f"same CPUs as the servers (it competes with them)")
            print(f"  load: {arguments.warmup:g} s warm-up, then {arguments.duration:g} s measured, "
                  f"per target and round; random ids in 1..{arguments.users}")
            sample_sizes(servers)
            results = measure_all(servers, client, arguments)
        finally:
            h.stop_all(servers)
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
