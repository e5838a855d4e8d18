"""A bounded load test of ``kzgraph serve`` on 127.0.0.1 (``make loadtest``; not a pytest).

Starts ``kzgraph serve`` in a subprocess on a free loopback port, sends a fixed mix of
requests (stored queries, ad-hoc queries, bad queries and one deliberately slow query),
``--concurrency`` at a time, and reports status counts, p50/p99 latency, requests per second
and the server's memory (PSS of the server and its worker processes: shared pages counted
once) before, at the peak and after. Exit status 1 when a check fails:

* no 5xx, except the documented 503 of the slow query (its ``--timeout`` is exceeded);
* the slow query answers 503, its worker process is killed (its pid is gone) and the pool is
  full again afterwards; the others still answer while it runs;
* every bad query answers 4xx;
* the server's memory after the run is back near its baseline.

    python bench/loadtest.py [--requests 2000] [--concurrency 20] [--timeout 1]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kzgraph.namespaces import sparql_prefixes  # noqa: E402

PREFIXES = sparql_prefixes()

STORED = [
    ("/queries/owners-of", {"org": "kz:kcell"}),
    ("/queries/holdings-of", {"owner": "kz:kazakhtelecom"}),
    ("/queries/internet-users", {}),
    ("/queries/shutdown-timeline", {}),
    ("/queries/laws-by-year", {"year": "2022"}),
    ("/queries/search", {"text": "Kcell"}),
    ("/queries/entity-count", {}),
]
ADHOC = [
    PREFIXES + "SELECT ?label WHERE { kz:kcell rdfs:label ?label }",
    PREFIXES + "SELECT ?op ?label WHERE { ?op a kzo:MobileOperator ; rdfs:label ?label }",
    PREFIXES + "ASK { kz:kcell ?p ?o }",
    PREFIXES + "CONSTRUCT { kz:kcell ?p ?o } WHERE { kz:kcell ?p ?o }",
    PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?c }",
    PREFIXES + "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?label LIMIT 50",
]
BAD = [
    ("SELECT * WHERE { ?s ?p ", 400),
    ("SELECT * WHERE { ?s nope:x ?o }", 400),
    ("DROP ALL", 403),
    ("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }", 403),
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", 403),
    ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", 400),
    ("SELECT * WHERE { ?s ?p ?o }", 413),  # more rows than --max-rows: "add a LIMIT"
]
#: A COUNT over a cross product of the graph with itself: one long evaluation step (seconds).
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> set[int]:
    """``pid`` and all its descendants (Linux /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, grew = {pid}, True
    while grew:
        more = {c for c, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def rss_mb(pid: int) -> float:
    """Memory of a process and its descendants (the query workers), in MB: the sum of their
    PSS (Linux /proc/PID/smaps_rollup), so that pages the forked workers share count once."""
    total = 0
    for member in tree(pid):
        try:
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def plan(total: int, seed: int = 1) -> list[tuple[str, object]]:
    """The request mix: 40 % stored, 35 % ad-hoc, 25 % bad; the slow query once, early."""
    rng = random.Random(seed)
    items: list[tuple[str, object]] = []
    for _ in range(total - 1):
        roll = rng.random()
        if roll < 0.40:
            items.append(("stored", rng.choice(STORED)))
        elif roll < 0.75:
            items.append(("adhoc", rng.choice(ADHOC)))
        else:
            items.append(("bad", rng.choice(BAD)))
    items.insert(total // 10, ("slow", SLOW))
    return items


async def send(client: httpx.AsyncClient, kind: str, item) -> tuple[int, float, float]:
    start = time.perf_counter()
    if kind == "stored":
        path, params = item
        response = await client.get(path, params=params, headers={"Accept": "application/json"})
    elif kind == "bad":
        response = await client.post("/sparql", data={"query": item[0]})
    else:
        response = await client.post("/sparql", content=item.encode(),
                                     headers={"Content-Type": "application/sparql-query",
                                              "Accept": "application/sparql-results+json, "
                                                        "text/turtle"})
    end = time.perf_counter()
    return response.status_code, start, end


async def drive(base: str, items, concurrency: int):
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    results: list = [None] * len(items)
    queue: asyncio.Queue = asyncio.Queue()
    for index, item in enumerate(items):
        queue.put_nowait((index, item))

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        async def worker():
            while True:
                try:
                    index, (kind, item) = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    status, start, end = await send(client, kind, item)
                except httpx.HTTPError as exc:
                    status, start, end = f"error: {type(exc).__name__}", 0.0, 0.0
                results[index] = (kind, item, status, start, end)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return results, elapsed


def pct(values: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) rounded to 0.1; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=1.0,
                        help="the server's --timeout (the slow query must exceed it)")
    parser.add_argument("--workers", type=int, default=4,
                        help="the server's --workers (its --queue, 32, holds the other "
                             "concurrent requests: only the slow query may answer 503)")
    parser.add_argument("--max-rows", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kzgraph.cli", "serve", "--port", str(port), "--timeout",
         str(args.timeout), "--workers", str(args.workers), "--max-rows", str(args.max_rows)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                print("loadtest: the server did not start", file=sys.stderr)
                return 1
            time.sleep(0.2)
        pids_before = set(httpx.get(base + "/health", timeout=10).json()["worker_pids"])
        # warm-up: every request kind once (caches, lazy imports), then the baseline
        asyncio.run(drive(base, [("stored", s) for s in STORED] + [("adhoc", q) for q in ADHOC]
                          + [("bad", b) for b in BAD], 4))
        time.sleep(1)
        before = rss_mb(proc.pid)
        peak = [before]
        stop = False

        async def sample():
            while not stop:
                peak.append(rss_mb(proc.pid))
                await asyncio.sleep(0.1)

        async def run_all():
            nonlocal stop
            sampler = asyncio.create_task(sample())
            try:
                return await drive(base, plan(args.requests), args.concurrency)
            finally:
                stop = True
                await sampler

        results, elapsed = asyncio.run(run_all())
        # the slow query's worker was killed at the deadline; a fresh fork takes its place
        deadline = time.monotonic() + 30
        while True:
            state = httpx.get(base + "/health", timeout=10).json()
            if state["workers_idle"] == args.workers or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        killed = pids_before - set(state["worker_pids"])
        still = [pid for pid in killed if Path(f"/proc/{pid}").exists()]
        time.sleep(1)
        after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()

    by_kind: dict[str, Counter] = defaultdict(Counter)
    latencies: dict[str, list[float]] = defaultdict(list)
    problems = []
    slow = next(r for r in results if r[0] == "slow")
    for kind, item, status, start, end in results:
        by_kind[kind][status] += 1
        if isinstance(status, int):
            latencies[kind].append((end - start) * 1000)
        if kind == "bad" and status != item[1]:
            problems.append(f"bad query {item[0]!r}: {status}, expected {item[1]}")
        if kind in ("stored", "adhoc") and status != 200:
            problems.append(f"{kind} request {str(item)[:60]!r}: {status}")
    if slow[2] != 503:
        problems.append(f"the slow query answered {slow[2]}, expected 503")
    if state["workers_idle"] != args.workers:
        problems.append(f"only {state['workers_idle']} of {args.workers} workers are idle "
                        "after the run")
    if len(killed) != 1 or still:
        problems.append(f"the slow query's worker was not killed (gone: {sorted(killed)}, "
                        f"still running: {still})")
    during = [r for r in results if r[0] in ("stored", "adhoc") and r[2] == 200
              and slow[3] < r[4] < slow[4]]
    if not during:
        problems.append("nothing was answered while the slow query ran")
    fives = sum(n for kind, c in by_kind.items() for s, n in c.items()
                if kind != "slow" and (not isinstance(s, int) or s >= 500))
    if fives:
        problems.append(f"{fives} 5xx answers (or connection errors) besides the slow query")
    if after > before * 1.25 + 30:
        problems.append(f"memory did not return to its baseline: {before:.0f} → {after:.0f} MB")

    served = [x for kind in ("stored", "adhoc", "bad") for x in latencies[kind]]
    report = {
        "requests": len(results), "concurrency": args.concurrency,
        "seconds": round(elapsed, 2), "requests_per_second": round(len(results) / elapsed, 1),
        "p50_ms": pct(served, 50), "p99_ms": pct(served, 99),
        "per_kind": {kind: {"statuses": {str(s): n for s, n in sorted(c.items(), key=str)},
                            "p50_ms": pct(latencies[kind], 50),
                            "p99_ms": pct(latencies[kind], 99)}
                     for kind, c in sorted(by_kind.items())},
        "slow_query": {"status": slow[2], "ms": round((slow[4] - slow[3]) * 1000),
                       "answered_meanwhile": len(during), "killed_pids": sorted(killed),
                       "workers_idle_after": state["workers_idle"]},
        "memory_mb": {"before": round(before, 1), "peak": round(max(peak), 1),
                      "after": round(after, 1)},
        "problems": problems,
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"{report['requests']} requests, {args.concurrency} at a time, in "
              f"{report['seconds']} s: {report['requests_per_second']} requests/s")
        print(f"latency (all but the slow query): p50 {report['p50_ms']} ms, "
              f"p99 {report['p99_ms']} ms")
        for kind, row in report["per_kind"].items():
            print(f"  {kind:7s} {row['statuses']}  p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms")
        s = report["slow_query"]
        print(f"slow query: {s['status']} after {s['ms']} ms; {s['answered_meanwhile']} other "
              f"requests answered while it ran; worker {s['killed_pids']} killed, "
              f"{s['workers_idle_after']} of {args.workers} workers idle after")
        m = report["memory_mb"]
        print(f"server memory (PSS, with its workers): {m['before']} MB before, {m['peak']} MB "
              f"peak, {m['after']} MB after")
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"]
                                 if len(problems) > 20 else [])
        print("OK" if not problems else "FAILED:\n  " + "\n  ".join(shown))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
