"""The one benchmark command (SPEC 7, issue 10): every figure and its target in one table.

    python -m benchmarks.run [--quick] [--postgres-url postgresql://postgres@127.0.0.1:5432/bench]

It sets up its own data in a temporary directory, starts the servers, measures
A against B side by side in the same run (targets interleaved, several rounds,
medians) and prints one table with the figures, the ratios and whether each
target holds:

1. ``GET /users/<id>`` as HAL+JSON and as plain JSON, 1,000 users: Flexigift
   as ``flexigift serve`` starts it and as the README recommends for production
   (granian, one worker per core), json-server 0.17.4 (npm, installed into
   ``~/.cache/flexigift-bench``; skipped with a note without npm) and the floor
   app (``_minimal_app.py``, Flask + peewee) under the same granian settings.
   Requests/s, p50 and p99, from a threaded keep-alive client in this process.
2. CPU per request in process against a bare Flask route (``cpu_per_request.py``).
3. Pages of 20 cards with ``zoom=user``: first, middle offset, a deep seek
   page, filtered first pages (``collection_pages.py``), on SQLite and, with
   ``--postgres-url``, on PostgreSQL.
4. ``generate_codes`` against plain inserts (``generate_codes.py``): ``sqlite3`` ``executemany``
   and, with ``--postgres-url``, psycopg's ``COPY`` on PostgreSQL.
5. Redemptions per second on PostgreSQL, ledger checked, target 1,000/s (``redemptions.py``; needs
   ``--postgres-url``).
6. Memory of one server process over many requests (``memory.py``).

``--quick`` shrinks every size and duration for a smoke run of a minute or
two. The full run keeps to the issue's sizes and finishes in under 15 minutes
on 2 cores. Figures from a busy machine are noise: the table says so.
"""
from __future__ import annotations

import argparse
import dataclasses
import http.client
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import _harness as h  # noqa: E402

JSON_SERVER_VERSION = "0.17.4"
CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "flexigift-bench"
HAL, PLAIN = "application/hal+json", "application/json"


@dataclasses.dataclass
class Row:
    item: str
    what: str
    figure: str
    ratio: str = ""
    target: str = ""
    holds: bool | None = None


ROWS: list[Row] = []


def row(*args, **kwargs) -> None:
    ROWS.append(Row(*args, **kwargs))


# -- (1) GET /users/<id> under real servers -------------------------------------------
@dataclasses.dataclass
class Load:
    per_second: float
    p50_ms: float
    p99_ms: float
    failures: int


def measure(port: int, accept: str, users: int, connections: int, seconds: float) -> Load:
    """``connections`` threads, one keep-alive connection each, random users, for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        import random
        rng = random.Random(index)
        connection = http.client.HTTPConnection(h.HOST, port, timeout=30)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", f"/users/{rng.randint(1, users)}", headers={"Accept": accept})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures[index] += 1
            except (OSError, http.client.HTTPException):
                failures[index] += 1
                connection.close()
                connection = http.client.HTTPConnection(h.HOST, port, timeout=30)
                continue
            latencies[index].append(time.perf_counter() - started)
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(index,), daemon=True) for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    elapsed = time.perf_counter() - started
    every = sorted(latency for part in latencies for latency in part)
    if not every:
        return Load(0.0, float("nan"), float("nan"), sum(failures))
    return Load(len(every) / elapsed, every[len(every) // 2] * 1000,
                every[min(len(every) - 1, int(len(every) * 0.99))] * 1000, sum(failures))


def json_server() -> pathlib.Path | None:
    """json-server 0.17.4, installed once with npm into the cache directory (outside the repository)."""
    executable = CACHE / "node_modules" / ".bin" / "json-server"
    if executable.exists():
        return executable
    if shutil.which("npm") is None:
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
                           "--loglevel=error", f"json-server@{JSON_SERVER_VERSION}"],
                          capture_output=True, text=True, timeout=600)
    return executable if done.returncode == 0 and executable.exists() else None


def users_section(arguments, workdir: pathlib.Path) -> None:
    users = h.user_rows(1000)
    database = workdir / "users.db"
    h.create_database(database, users)
    (workdir / "db.json").write_text(h.json_server_document(users))
    cores = str(os.cpu_count() or 1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "DATABASE_URL": f"sqlite:///{database}", "FLEXIGIFT_AUTH": "off", "BENCH_DATABASE": str(database)}
    granian = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", h.HOST,
               "--workers", cores, "--blocking-threads", "4"]
    servers: list[h.Server] = []

    def start(name: str, command: list[str], cwd: pathlib.Path, port: int) -> None:
        log = workdir / f"{name}.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, cwd=cwd, env=env)
        servers.append(h.Server(name, process, port, log))

    try:
        port = h.free_port()
        start("flexigift serve", [sys.executable, "-m", "flexigift", "serve", "--port", str(port)], ROOT, port)
        port = h.free_port()
        start("production", [*granian, "--port", str(port), "wsgi:app"], ROOT, port)
        port = h.free_port()
        start("floor app", [*granian, "--port", str(port), "_minimal_wsgi:app"], HERE, port)
        executable = json_server()
        if executable is not None:
            port = h.free_port()
            start("json-server", [str(executable), "--quiet", "--host", h.HOST, "--port", str(port),
                                  str(workdir / "db.json")], workdir, port)
        else:
            print("  json-server: skipped (npm unavailable or the install failed)")
        for server in servers:
            server.wait_ready("/users/1", timeout=120)
        results: dict[tuple[str, str], list[Load]] = {}
        for round_number in range(arguments.rounds):
            for server in servers:  # A/B interleaved: each round visits every target in turn
                for accept in (HAL, PLAIN):
                    measure(server.port, accept, 1000, arguments.connections, arguments.warmup)
                    load = measure(server.port, accept, 1000, arguments.connections, arguments.seconds)
                    results.setdefault((server.name, accept), []).append(load)
                    print(f"  round {round_number + 1}: {server.name:<16} {accept:<22} "
                          f"{load.per_second:8.0f} req/s  p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:6.2f} ms")
    finally:
        h.stop_all(servers)
    rates = {key: statistics.median(load.per_second for load in loads) for key, loads in results.items()}
    for (name, accept), loads in results.items():
        p50 = statistics.median(load.p50_ms for load in loads)
        p99 = statistics.median(load.p99_ms for load in loads)
        failed = sum(load.failures for load in loads)
        row("1", f"GET /users/<id> {name}, {'HAL' if accept == HAL else 'JSON'}",
            f"{rates[name, accept]:.0f}/s p50 {p50:.1f} p99 {p99:.1f} ms" + (f" ({failed} failed)" if failed else ""))
    for accept in (HAL, PLAIN):
        label = "HAL" if accept == HAL else "JSON"
        peer = rates.get(("json-server", accept))
        floor = rates.get(("floor app", accept))
        if floor:
            row("1", f"production / floor app ({label})", "", f"{rates['production', accept] / floor:.2f}x",
                "reference")
        if peer is None:
            row("1", f"vs json-server ({label})", "skipped: npm unavailable", "", "", None)
            continue
        for name, target in (("production", 1.5), ("flexigift serve", 1.0)):
            ratio = rates[name, accept] / peer
            row("1", f"{name} / json-server ({label})", "", f"{ratio:.2f}x", f">= {target}x",
                ratio >= target if accept == HAL else None)
    users_section.hal_rate = rates.get(("production", HAL))


# -- the other items: the existing scripts, run side by side with their own baselines ----
def script(name: str, *args: str, timeout: float = 900) -> str:
    """Run ``benchmarks/<name>`` and return its output (also shown, indented)."""
    command = [sys.executable, str(HERE / name), *args]
    print(f"\n$ {' '.join(command[1:])}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        output = done.stdout + done.stderr
    except subprocess.TimeoutExpired as error:
        output = f"{error.stdout or ''}\n(timed out after {timeout:.0f} s)"
    for line in output.splitlines():
        print(f"    {line}")
    return output


def number(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text)
    return float(found.group(1).replace(",", "")) if found else None


def cpu_section(arguments) -> None:
    """Two rows, each judged: instructions (valgrind, where it counted them), which do not
    move with the machine's load, and CPU time, which does (and also counts the cache
    misses instructions leave out)."""
    output = script("cpu_per_request.py")
    ours = number(r"flexigift ([\d.,]+) us", output)
    floor = number(r"bare Flask ([\d.,]+) us", output) or number(r"Flask route ([\d.,]+) us", output)
    ratio = ours / floor if ours and floor else None
    counted = re.search(r"instructions per request: flexigift ([\d,]+), bare Flask ([\d,]+)", output)
    if counted:
        instructions, floor_instructions = (int(value.replace(",", "")) for value in counted.groups())
        counted_ratio = instructions / floor_instructions
        row("2", "instructions per GET /users/<id>, in process", f"{instructions:,}",
            f"{counted_ratio:.2f}x floor", "<= 2x", counted_ratio <= 2)
    row("2", "CPU per GET /users/<id>, in process", f"{ours:.0f} us" if ours else "n/a",
        f"{ratio:.2f}x floor" if ratio else "", "<= 2x", ratio <= 2 if ratio else None)


def pages_section(arguments, url: str | None) -> None:
    database = "PostgreSQL" if url else "SQLite"
    extra = ["--database-url", url, "--reset"] if url else []
    output = script("collection_pages.py", "--cards", str(arguments.cards), "--users", str(arguments.cards // 10),
                    "--repeat", str(arguments.page_repeat), *extra, timeout=1200)
    for label, ratio, target in re.findall(r"ratio (.+?) / single GET:\s*([\d.]+)x \(target <= ([\d.]+)x\)",
                                           output):
        row("3", f"{label}, {arguments.cards:,} cards ({database})", "", f"{float(ratio):.2f}x single GET",
            f"<= {target}x", float(ratio) <= float(target))
    if not any(r.item == "3" and database in r.what for r in ROWS):
        row("3", f"collection pages ({database})", "no figures (see its output above)", holds=None)


def codes_section(arguments, url: str | None) -> None:
    extra = ["--database-url", url] if url else []
    output = script("generate_codes.py", "--codes", str(arguments.codes), "--repeat", str(arguments.code_rounds),
                    *extra, timeout=1800)
    ratio = number(r"ratio API / executemany \(cards \+ entries\):\s*([\d.]+)x", output)
    seconds = number(r"through the API \(POST, one request\):\s*([\d.]+) s", output)
    row("4", f"generate_codes {arguments.codes:,} (SQLite)", f"{seconds:.2f} s" if seconds else "n/a",
        f"{ratio:.2f}x executemany" if ratio else "", "<= 3x", ratio <= 3 if ratio else None)
    if not url:
        return
    postgres = output.partition("(PostgreSQL):")[2]
    ratio = number(r"ratio API / COPY \(cards \+ entries\):\s*([\d.]+)x", postgres)
    seconds = number(r"through the API \(POST, one request\):\s*([\d.]+) s", postgres)
    row("4", f"generate_codes {arguments.codes:,} (PostgreSQL)", f"{seconds:.2f} s" if seconds else "n/a",
        f"{ratio:.2f}x COPY" if ratio else "", "<= 3x", ratio <= 3 if ratio else None)


def redemptions_section(arguments, url: str | None) -> None:
    if not url:
        row("5", "redemptions/s (PostgreSQL)", "skipped: no --postgres-url")
        return
    output = script("redemptions.py", "--database-url", url, "--seconds", str(arguments.seconds * 2))
    rate = number(r"redemptions per second: ([\d,.]+)", output)
    problems = number(r"overdrafts and ledger problems: (\d+)", output)
    row("5", "redemptions/s (PostgreSQL), overdrafts", f"{rate:.0f}/s, {problems:.0f}" if rate is not None
        and problems is not None else "n/a", "", ">= 1000/s, 0", None if rate is None or problems is None
        else rate >= 1000 and problems == 0)


def memory_section(arguments) -> None:
    output = script("memory.py", "--requests", str(arguments.memory_requests),
                    "--warmup", str(arguments.memory_requests // 10), timeout=1200)
    end = number(r"RSS at the end:\s*([\d.]+) MB", output)
    growth = number(r"growth since warm-up:\s*([+\-\d.]+) MB", output)
    row("6", f"RSS of one process, {arguments.memory_requests:,} requests",
        f"{end:.1f} MB, growth {growth:+.1f} MB" if end is not None and growth is not None else "n/a", "",
        "< 100 MB, < 5 MB", None if end is None or growth is None else end < 100 and growth < 5)


def table() -> str:
    lines = ["| # | measured | figure | ratio | target | holds |", "|---|---|---|---|---|---|"]
    for entry in ROWS:
        holds = {True: "yes", False: "NO", None: ""}[entry.holds]
        lines.append(f"| {entry.item} | {entry.what} | {entry.figure} | {entry.ratio} | {entry.target} | {holds} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs: a smoke test")
    parser.add_argument("--postgres-url", default=os.environ.get("FLEXIGIFT_BENCH_POSTGRES_URL"),
                        help="an empty PostgreSQL database to use (its Flexigift tables are dropped)")
    parser.add_argument("--only", default="123456", help="the items to run, e.g. 13")
    arguments = parser.parse_args()
    quick = arguments.quick
    arguments.rounds = 1 if quick else 3
    arguments.seconds = 2.0 if quick else 8.0
    arguments.warmup = 0.5 if quick else 2.0
    arguments.connections = 16
    arguments.cards = 20_000 if quick else 1_000_000
    arguments.page_repeat = 20 if quick else 100
    arguments.codes = 10_000 if quick else 100_000
    arguments.code_rounds = 1 if quick else 2
    arguments.memory_requests = 5_000 if quick else 100_000

    print(f"Flexigift benchmarks{' (--quick: a smoke run, not figures)' if quick else ''}; {h.machine_summary()}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="flexigift-bench-") as directory:
        workdir = pathlib.Path(directory)
        if "1" in arguments.only:
            print("\n(1) GET /users/<id>")
            users_section(arguments, workdir)
        if "2" in arguments.only:
            cpu_section(arguments)
        if "3" in arguments.only:
            pages_section(arguments, None)
            if arguments.postgres_url:
                pages_section(arguments, arguments.postgres_url)
        if "4" in arguments.only:
            codes_section(arguments, arguments.postgres_url)
        if "5" in arguments.only:
            redemptions_section(arguments, arguments.postgres_url)
        if "6" in arguments.only:
            memory_section(arguments)
    print(f"\nResults ({time.monotonic() - started:.0f} s; {h.machine_summary()}):\n")
    print(table())
    return 1 if any(entry.holds is False for entry in ROWS) else 0


if __name__ == "__main__":
    sys.exit(main())
