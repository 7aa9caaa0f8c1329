"""Benchmark: the clinic's service under 50 concurrent clients on loopback.

Starts ``prrt serve --demo`` as a subprocess (fresh temporary data folder, or
``--database-url``; a free port), reads the demo passwords it prints, signs in
as ``demo.physician`` (a bearer token for the API, a session cookie for the
pages), then runs ``--clients`` concurrent clients for ``--seconds`` against

* ``page``: the patient page, ``GET /patients/{id}`` with the session cookie
  (server-rendered HTML with the eligibility report, labs, course and decision);
* ``eligibility``: ``POST /api/patients/{id}/eligibility`` with the token (runs
  the eligibility rules on the records and stores the report);
* ``api`` (optional, ``--endpoints page,eligibility,api``): ``GET /api/patients/{id}``.

Every client is a closed loop (next request when the previous answer is in; no
think time unless ``--think-ms``, then a random pause of that mean) and takes the
endpoints in turn.  Latency is measured from sending
the request to having read the whole response; an error is a transport error
or any status other than 200/201.  Client and server share the machine's
cores (the client's CPU time is printed).  After the run ``prrt audit verify``
checks that the audit trail, which every request appends to, is intact.

Target (issue 9, 2 cores): p99 < 150 ms and no errors per endpoint.

Usage::

    python benchmarks/service_load.py [--seconds 20] [--clients 50]
        [--endpoints page,eligibility] [--think-ms 0] [--database-url URL] [--keep]
        [--workers N] [--max-active N] [--warmup-seconds 2]

By default the server runs one worker per core (at most 4), each serving one request at a
time (``prrt serve --workers N`` does that unless told ``--max-active``).

The last line printed is a JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil

from prrt.adapters.api.settings import Settings
from prrt.adapters.cli.service_cmds import requests_at_once

TARGET_P99_MS = 150.0
PRRT = [sys.executable, "-c", "from prrt.adapters.cli.app import main; main()"]


@dataclass
class Endpoint:
    """One endpoint under load and what it measured."""

    name: str
    method: str
    path: str
    headers: dict[str, str]
    ok: tuple[int, ...]
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def record(self, ms: float, error: str | None) -> None:
        self.latencies_ms.append(ms)
        if error is not None:
            self.errors += 1
            self.error_kinds[error] = self.error_kinds.get(error, 0) + 1


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0–1) by the nearest-rank method (NaN without values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    data_dir: Path,
    port: int,
    database_url: str | None,
    workers: int = 1,
    max_active: int | None = None,
) -> tuple[subprocess.Popen[str], dict[str, str], deque[str]]:
    """``prrt serve --demo``; returns the process, the demo passwords and its output lines."""
    cmd = [
        *PRRT,
        "serve",
        "--demo",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if database_url:
        cmd += ["--database-url", database_url]
    if max_active:
        cmd += ["--max-active", str(max_active)]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    passwords: dict[str, str] = {}
    lines: deque[str] = deque(maxlen=200)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("prrt serve exited:\n" + "".join(lines))
        lines.append(line)
        found = re.match(r"\s+(demo\.\w+)\s+(\S+)\s*$", line)
        if found:
            passwords[found.group(1)] = found.group(2)
        if line.startswith("prrt service on"):
            break
    else:
        raise RuntimeError("prrt serve did not start:\n" + "".join(lines))

    def drain() -> None:  # keep reading so that the server never blocks on a full pipe
        assert proc.stdout is not None
        for rest in proc.stdout:
            lines.append(rest)

    threading.Thread(target=drain, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/sign-in", timeout=2).status_code == 200:
                return proc, passwords, lines
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("prrt serve exited:\n" + "".join(lines))
        time.sleep(0.2)
    raise RuntimeError("prrt serve did not answer on " + base)


def prepare(base: str, passwords: dict[str, str]) -> tuple[str, str, int]:
    """Bearer token and page cookie of the physician, and the demo patient's id."""
    user, password = "demo.physician", passwords["demo.physician"]
    with httpx.Client(base_url=base, timeout=30) as client:
        r = client.post("/api/auth/token", json={"username": user, "password": password})
        r.raise_for_status()
        token = r.json()["token"]
        r = client.post(
            "/sign-in", data={"username": user, "password": password}, follow_redirects=False
        )
        if r.status_code != 303:
            raise RuntimeError(f"page sign-in: {r.status_code}")
        cookie = r.cookies["prrt_session"]
        r = client.get("/api/patients", headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        demo = [p for p in r.json() if p["pseudonym"] == "DEMO-001"]
        if not demo:
            raise RuntimeError("the demo patient DEMO-001 is missing")
        return token, cookie, int(demo[0]["id"])


async def run_load(
    base: str,
    endpoints: list[Endpoint],
    clients: int,
    seconds: float,
    warmup: int,
    think_s: float = 0.0,
    seed: int = 2027,
    warmup_s: float = 0.0,
    on_measure_start: Any = None,
) -> float:
    """Closed-loop clients until the deadline; returns the measured wall time in s.

    ``warmup_s``: every client first runs this long unmeasured on its connection (50
    clients connecting at once are a transient of the benchmark's making: the worker
    processes even out their connections in the first second), then ``seconds`` measured;
    ``on_measure_start()`` is called when the measured window opens.

    The load generator is aiohttp (keep-alive connections, one per client): httpx's
    client cost ~1.5 ms of CPU per request here, taken from the cores the server shares.
    With ``think_s`` each client pauses for an exponentially distributed time of that mean
    between requests, and starts after a uniform random offset in [0, think_s]: clients
    with a fixed pause stay in step and arrive together, which measures the burst, not
    the service.
    """
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30.0)
    rng = random.Random(seed)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as client:

        async def one(ep: Endpoint) -> tuple[float, str | None]:
            start = time.perf_counter()
            error = None
            try:
                async with client.request(ep.method, ep.path, headers=ep.headers) as r:
                    await r.read()
                    if r.status not in ep.ok:
                        error = f"HTTP {r.status}"
            except (TimeoutError, aiohttp.ClientError) as err:
                error = type(err).__name__
            return 1000.0 * (time.perf_counter() - start), error

        for ep in endpoints:  # warm-up: connections, caches, first imports (not measured)
            for _ in range(warmup):
                await one(ep)

        offsets = [rng.uniform(0.0, think_s) for _ in range(clients)]
        pauses = [random.Random(rng.random()) for _ in range(clients)]
        measured_from = time.perf_counter() + warmup_s
        deadline = measured_from + seconds
        if on_measure_start is not None:
            asyncio.get_running_loop().call_later(warmup_s, on_measure_start)

        async def worker(i: int) -> None:
            if offsets[i]:
                await asyncio.sleep(min(offsets[i], seconds))
            k = i
            while time.perf_counter() < deadline:
                ep = endpoints[k % len(endpoints)]
                sent_at = time.perf_counter()
                ms, error = await one(ep)
                if sent_at >= measured_from:
                    ep.record(ms, error)
                k += 1
                if think_s:
                    pause = pauses[i].expovariate(1.0 / think_s)
                    if time.perf_counter() + pause >= deadline:
                        break  # a pause past the deadline would only stretch the wall time
                    await asyncio.sleep(pause)

        await asyncio.gather(*(worker(i) for i in range(clients)))
        return time.perf_counter() - measured_from


def server_cpu_s(pid: int) -> float:
    """CPU time (user + system, s) of the server process and its worker processes."""
    total = 0.0
    root = psutil.Process(pid)
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def connections_per_worker(pid: int, port: int) -> list[int]:
    """Established client connections on ``port`` held by each server process (most first).

    With several workers the kernel hands each new connection to whichever worker accepts
    first; a worker's clients then wait in its queue only, so an uneven split means
    uneven latencies.
    """
    counts = []
    root = psutil.Process(pid)
    for p in [root, *root.children(recursive=True)]:
        try:
            held = p.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        n = sum(1 for c in held if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)
        if n:
            counts.append(n)
    return sorted(counts, reverse=True)


def sample_later(delay_s: float, probe: Any) -> dict[str, Any]:
    """Run ``probe()`` once in a thread after ``delay_s``; its result lands in the dict."""
    box: dict[str, Any] = {}

    def later() -> None:
        time.sleep(delay_s)
        try:
            box["value"] = probe()
        except psutil.Error as err:
            box["error"] = str(err)

    threading.Thread(target=later, daemon=True).start()
    return box


def scratch_postgres_database(server_url: str) -> tuple[str, str]:
    """A new, empty database on the server of ``server_url``; returns (its URL, its name)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"prrt_load_{os.getpid()}_{random.randrange(10**6)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres_database(server_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def verify_audit(data_dir: Path, database_url: str | None) -> tuple[bool, str]:
    cmd = [*PRRT, "audit", "verify", "--data-dir", str(data_dir)]
    if database_url:
        cmd += ["--database-url", database_url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = done.stdout.strip().splitlines()
    return done.returncode == 0, lines[-1] if lines else done.stderr.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration (s)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument(
        "--endpoints", default="page,eligibility", help="page, eligibility and/or api"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server (URL of any database on it) instead of SQLite: the run uses "
        "a new database there and drops it afterwards",
    )
    parser.add_argument(
        "--warmup", type=int, default=5, help="unmeasured requests per endpoint, one client"
    )
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=2.0,
        help="all clients run this long unmeasured on their connections before the measured "
        "window (0: measure from the moment they connect)",
    )
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="pause of each client between requests"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(os.cpu_count() or 1, 4),
        help="server worker processes (prrt serve --workers; default one per core, at most 4)",
    )
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=3.0,
        help="length of the same-run baseline: one client, one request at a time",
    )
    parser.add_argument(
        "--max-active",
        type=int,
        default=None,
        help="requests each worker serves at once (prrt serve --max-active; default its own: "
        "1 with several workers, else 2)",
    )
    args = parser.parse_args(argv)

    # What prrt serve will use (printed and recorded with the figures).
    max_active = requests_at_once(args.workers, args.max_active) or Settings().max_active_requests
    data_dir = Path(tempfile.mkdtemp(prefix="prrt-load-"))
    server_url, scratch = args.database_url, None
    if server_url:
        args.database_url, scratch = scratch_postgres_database(server_url)
    port = free_port()
    proc, passwords, server_lines = start_server(
        data_dir, port, args.database_url, args.workers, args.max_active
    )
    base = f"http://127.0.0.1:{port}"
    try:
        token, cookie, pid = prepare(base, passwords)
        bearer = {"Authorization": f"Bearer {token}"}
        available = {
            "page": Endpoint(
                "page", "GET", f"/patients/{pid}", {"Cookie": f"prrt_session={cookie}"}, (200,)
            ),
            "eligibility": Endpoint(
                "eligibility", "POST", f"/api/patients/{pid}/eligibility", bearer, (201,)
            ),
            "api": Endpoint("api", "GET", f"/api/patients/{pid}", bearer, (200,)),
        }
        endpoints = [available[name.strip()] for name in args.endpoints.split(",")]
        # Baseline in the same run (the host's speed varies from run to run): one client,
        # the same requests one at a time, so that no request waits for another.
        alone = [Endpoint(ep.name, ep.method, ep.path, ep.headers, ep.ok) for ep in endpoints]
        alone_cpu0 = server_cpu_s(proc.pid)
        alone_wall = asyncio.run(run_load(base, alone, 1, args.baseline_seconds, args.warmup))
        alone_cpu_s = server_cpu_s(proc.pid) - alone_cpu0
        start: dict[str, Any] = {}

        def measure_start() -> None:  # CPU counters when the measured window opens
            start["client"] = resource.getrusage(resource.RUSAGE_SELF)
            start["server"] = server_cpu_s(proc.pid)

        split = sample_later(
            args.warmup_seconds + args.seconds / 2,
            lambda: connections_per_worker(proc.pid, port),
        )
        wall = asyncio.run(
            run_load(
                base,
                endpoints,
                args.clients,
                args.seconds,
                args.warmup,
                args.think_ms / 1000,
                warmup_s=args.warmup_seconds,
                on_measure_start=measure_start,
            )
        )
        cpu0, server0 = start["client"], start["server"]
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        server1 = server_cpu_s(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    intact, audit_line = verify_audit(data_dir, args.database_url)
    if scratch is not None and not args.keep:
        drop_postgres_database(server_url, scratch)

    figures: dict[str, Any] = {
        "benchmark": "service_load",
        "clients": args.clients,
        "think_ms": args.think_ms,
        "warmup_seconds": args.warmup_seconds,
        "workers": args.workers,
        "max_active": max_active,
        "seconds": round(wall, 2),
        "database": "postgresql" if args.database_url else "sqlite",
        "cpu_count": os.cpu_count(),
        "client_cpu_s": round((cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime), 2),
        "server_cpu_s": round(server1 - server0, 2),
        "target_p99_ms": TARGET_P99_MS,
        "endpoints": {},
        "audit_intact": intact,
        "connections_per_worker": split.get("value"),
    }
    print(
        f"{args.clients} clients (think {args.think_ms:g} ms), {wall:.1f} s measured after "
        f"{args.warmup_seconds:g} s of warm-up, {figures['database']}, "
        f"{args.workers} worker(s) serving {max_active} request(s) at once each, "
        f"{os.cpu_count()} CPUs (client and server share them; "
        f"client CPU {figures['client_cpu_s']} s)"
    )
    print(
        f"{'endpoint':<12} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'errors':>7}"
    )
    met = intact
    for ep in endpoints:
        n = len(ep.latencies_ms)
        p99 = round(percentile(ep.latencies_ms, 0.99), 1)
        target_met = bool(p99 < TARGET_P99_MS and ep.errors == 0 and n > 0)
        row: dict[str, Any] = {
            "method": ep.method,
            "path": re.sub(r"/\d+", "/{id}", ep.path),
            "requests": n,
            "rps": round(n / wall, 1),
            "p50_ms": round(percentile(ep.latencies_ms, 0.50), 1),
            "p99_ms": p99,
            "max_ms": round(max(ep.latencies_ms, default=math.nan), 1),
            "errors": ep.errors,
            "error_kinds": ep.error_kinds,
            "target_met": target_met,
        }
        met = met and target_met
        figures["endpoints"][ep.name] = row
        print(
            f"{ep.name:<12} {n:>9} {row['rps']:>8} {row['p50_ms']:>8} {row['p99_ms']:>8} "
            f"{row['max_ms']:>8} {ep.errors:>7}"
        )
    total = sum(len(ep.latencies_ms) for ep in endpoints)
    figures["total_rps"] = round(total / wall, 1)
    figures["server_cpu_ms_per_request"] = round(1000 * figures["server_cpu_s"] / max(total, 1), 2)
    print(
        f"server CPU {figures['server_cpu_s']} s = {figures['server_cpu_ms_per_request']} ms "
        f"per request ({figures['server_cpu_s'] / wall:.2f} cores busy)"
    )
    alone_n = sum(len(ep.latencies_ms) for ep in alone)
    alone_ms = [ms for ep in alone for ms in ep.latencies_ms]
    figures["baseline"] = {
        "clients": 1,
        "seconds": round(alone_wall, 2),
        "requests": alone_n,
        "errors": sum(ep.errors for ep in alone),
        "p50_ms": round(percentile(alone_ms, 0.50), 1),
        "server_cpu_ms_per_request": round(1000 * alone_cpu_s / max(alone_n, 1), 2),
    }
    base_cpu = figures["baseline"]["server_cpu_ms_per_request"]
    figures["cpu_per_request_ratio_to_baseline"] = round(
        figures["server_cpu_ms_per_request"] / base_cpu if base_cpu else math.nan, 2
    )
    print(
        f"baseline, same run (1 client, {alone_n} requests): p50 {figures['baseline']['p50_ms']} ms, "
        f"server CPU {base_cpu} ms per request; under load "
        f"{figures['cpu_per_request_ratio_to_baseline']}x that per request"
    )
    print(f"connections per worker process (mid-run): {figures['connections_per_worker']}")
    figures["target_met"] = met
    print(f"total {figures['total_rps']} req/s; audit trail: {audit_line}")
    print(f"target (p99 < {TARGET_P99_MS:g} ms, 0 errors): {'met' if met else 'MISSED'}")
    if args.keep:
        print(f"data folder kept: {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    if proc.returncode not in (0, -15) and server_lines:
        print("server output (tail):\n" + "".join(list(server_lines)[-20:]), file=sys.stderr)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
