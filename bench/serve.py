"""``kzgraph serve`` side by side with ``oxigraph serve-read-only`` (``make bench`` runs it;
not a pytest).

For each graph (the real graph, the generated 1M-triple graph), the servers are started on
free loopback ports over the same N-Triples (`oxigraph load` into a fresh folder for
Oxigraph): kzgraph as it starts by default (answer cache on), kzgraph with
``--answer-cache 0`` (every request evaluated: what the short-query lane does alone), with
``--variants onelane`` also kzgraph with ``--answer-cache 0 --short-lane 0`` (one lane, as
before the lane), and Oxigraph (no answer cache). Each gets the same ``--requests`` SPARQL
protocol requests, ``--concurrency`` at a time: three stored queries — a lookup
(``entity``), a join (``owners-of``) and an aggregate (``class-counts``) — with their
parameters written into the text, sent as ``GET ?query=`` with ``Accept:
application/sparql-results+json``. The answers of the servers are compared (same rows);
then req/s, p50 and p99 per server, its memory and the ratio are
printed, with the issue's goals for each kzgraph variant: ≥ 50 % of Oxigraph's throughput,
p99 ≤ 50 ms, no 5xx. Every server gets the same warm-up (each query five times), so the
default kzgraph answers the measured requests from its answer cache.

The client is a minimal HTTP/1.1 keep-alive client on asyncio streams (requests encoded once),
so that on a small machine it takes as little CPU from the servers as possible.

    python bench/serve.py                          # real graph and 1M triples
    python bench/serve.py --graphs real --requests 500
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

#: (label, stored query, parameters)
QUERIES = [("lookup", "entity", {"entity": "kz:kcell"}),
           ("join", "owners-of", {"org": "kz:kcell"}),
           ("aggregate", "class-counts", {})]
GOALS = {"ratio": 0.5, "p99_ms": 50.0}
#: kzgraph variants: name in the report → (--answer-cache MB, --short-lane N)
VARIANTS = {"kzgraph": (64, 1), "kzgraph-nocache": (0, 1), "kzgraph-onelane": (0, 0)}
VARIANT_NAMES = {"cache": "kzgraph", "nocache": "kzgraph-nocache", "onelane": "kzgraph-onelane"}
SHOWN = {"kzgraph": "kzgraph", "kzgraph-nocache": "kzgraph --answer-cache 0",
         "kzgraph-onelane": "kzgraph --answer-cache 0 --short-lane 0", "oxigraph": "oxigraph"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oxigraph_cli() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not Path(found).exists():
        sys.exit("bench/serve.py: the oxigraph CLI is missing (pip install oxigraph==0.5.13, "
                 "part of the test extra)")
    return found


def query_texts() -> dict[str, str]:
    """The three stored queries with their parameters written in (the same text to both)."""
    from kzgraph import catalog
    from kzgraph.engine import substitute

    stored = catalog.load()
    return {label: substitute(stored[name].text, catalog.bindings(stored[name], params))
            for label, name, params in QUERIES}


# -- a small HTTP/1.1 client --------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    raise RuntimeError("response without a length")


def encode(port: int, path: str, text: str) -> bytes:
    return (f"GET {path}?query={quote(text, safe='')} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Accept: application/sparql-results+json\r\n\r\n").encode("ascii")


async def drive(port: int, requests: list[bytes], concurrency: int):
    """Send ``requests`` (encoded) over ``concurrency`` keep-alive connections; returns
    [(status, seconds, body)] in request order and the wall time."""
    results: list = [None] * len(requests)
    order = iter(range(len(requests)))

    async def connection():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for index in order:
                start = time.perf_counter()
                writer.write(requests[index])
                try:
                    status, body = await _read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    status, body = 599, b""  # the server closed the connection
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                results[index] = (status, time.perf_counter() - start, body)
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return results, time.perf_counter() - began


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and all its descendants
    (Linux /proc): kzgraph's worker processes count, and on a busy machine this is steadier
    than wall time."""
    parents, times = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        times[child] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, grew = {pid}, True
    while grew:
        more = {c for c, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(times.get(p, 0.0) for p in tree)


def tree_memory(pid: int) -> dict:
    """RSS of process ``pid`` and PSS of it and its descendants (shared pages counted once,
    Linux /proc/PID/smaps_rollup), in MB: what the server holds after the run."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    tree, grew = {pid}, True
    while grew:
        more = {c for c, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)

    def field(p: int, name: str) -> int:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    return {"rss_main": round(field(pid, "Rss") / 1024, 1),
            "pss_total": round(sum(field(p, "Pss") for p in tree) / 1024, 1),
            "processes": len(tree)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(results, elapsed: float) -> dict:
    ms = [r[1] * 1000 for r in results]
    return {"requests": len(results), "seconds": round(elapsed, 3),
            "requests_per_second": round(len(results) / elapsed, 1),
            "p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
            "statuses": {str(s): sum(1 for r in results if r[0] == s)
                         for s in sorted({r[0] for r in results})}}


def rows(body: bytes) -> list:
    return json.loads(body)["results"]["bindings"]


# -- the servers ------------------------------------------------------------------------------


def wait_for(port: int, path: str, proc: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench/serve.py: the server on port {port} exited ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(12).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"bench/serve.py: the server on port {port} did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_file(path: str, port: int, workers: int, http: str, answer_cache: int = 64,
               short_lane: int = 1) -> None:
    """`kzgraph.server.serve` over an N-Triples file: what ``kzgraph serve`` runs, for the
    generated graphs (too big to validate with SHACL at every start; `bench/generate.py`
    keeps them conforming) and for ``--http uvicorn``. Like ``kzgraph serve`` (whose graph
    is the build cache's store on disk, built once), the server's own process opens an
    on-disk store built by another process (a bulk load here would leave ~200 MB of heap
    behind at 1M triples); only the workers hold the graph in memory."""
    import pyoxigraph

    from kzgraph.engine import OxigraphEngine
    from kzgraph.graph import KZGraph
    from kzgraph.server import serve

    with tempfile.TemporaryDirectory(prefix="kzgraph-bench-store-") as folder:
        subprocess.run([sys.executable, "-c", "import sys, pyoxigraph as ox; "
                        "s = ox.Store(sys.argv[1]); s.bulk_load(path=sys.argv[2], "
                        "format=ox.RdfFormat.N_TRIPLES); s.flush()", folder, path], check=True)
        kg = KZGraph(OxigraphEngine(pyoxigraph.Store.read_only(folder)))
        serve(kg, port=port, workers=workers, timeout=30, max_rows=1_000_000,
              log_level="warning", http=http, answer_cache=answer_cache * 2**20,
              short_lane=short_lane)


def graph_file(name: str, data: Path, folder: Path) -> Path:
    """The N-Triples of graph ``name`` ("real", or a size made by `bench/generate.py`)."""
    if name == "real":
        import kzgraph
        from kzgraph.server import served_ntriples

        path = folder / "real.nt"
        path.write_bytes(served_ntriples(kzgraph.load()))
        return path
    from bench.generate import data_file

    return data_file(data, int(name))  # regenerated when the real graph changed


def compare(name: str, path: Path, args, texts: dict[str, str], folder: Path) -> dict:
    rng = random.Random(7)
    labels = [rng.choice(list(texts)) for _ in range(args.requests)]
    servers = {}
    store = folder / f"oxigraph-{name}"
    subprocess.run([oxigraph_cli(), "load", "--location", str(store), "--file", str(path)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ox_port, kz_port = free_port(), free_port()
    servers["oxigraph"] = (subprocess.Popen(
        [oxigraph_cli(), "serve-read-only", "--location", str(store), "--bind",
         f"127.0.0.1:{ox_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ox_port, "/query")
    for variant in args.variants:
        cache_mb, lane = VARIANTS[variant]
        kz_port = free_port()
        if name == "real" and args.http == "granian":
            command = [sys.executable, "-m", "kzgraph.cli", "serve", "--port", str(kz_port),
                       "--workers", str(args.workers), "--timeout", "30", "--max-rows",
                       "1000000", "--answer-cache", str(cache_mb), "--short-lane", str(lane)]
        else:
            command = [sys.executable, str(Path(__file__).resolve()), "--child-serve",
                       str(path), str(kz_port), str(args.workers), args.http, str(cache_mb),
                       str(lane)]
        servers[variant] = (subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL), kz_port, "/sparql")
    out: dict = {"graph": name, "triples": None, "servers": {}}
    try:
        for server, (proc, port, route) in servers.items():
            wait_for(port, route + "?query=" + quote("ASK{}"), proc)
        answers = {}
        # one server at a time is measured; the others idle meanwhile
        for server, (proc, port, route) in servers.items():
            encoded = {label: encode(port, route, text) for label, text in texts.items()}
            warm = [encoded[label] for label in texts] * 5
            first, _ = asyncio.run(drive(port, warm, 1))
            bad = [r[0] for r in first if r[0] != 200]
            if bad:
                sys.exit(f"bench/serve.py: {server} answered {bad[0]} to a benchmark query")
            answers[server] = {label: rows(first[i][2]) for i, label in enumerate(texts)}
            if args.distinct:  # each aggregate its own text: a miss every time, one shape
                requests = [encode(port, route, texts[label] + f"\nLIMIT {100_000 + i}")
                            if label == "aggregate" else encoded[label]
                            for i, label in enumerate(labels)]
            else:
                requests = [encoded[label] for label in labels]
            cpu = tree_cpu(proc.pid)
            results, elapsed = asyncio.run(drive(port, requests, args.concurrency))
            cpu = tree_cpu(proc.pid) - cpu
            out["servers"][server] = summary(results, elapsed)
            out["servers"][server]["cpu_ms_per_request"] = round(cpu * 1000 / len(results), 3)
            out["servers"][server]["per_query"] = {
                label: round(percentile([r[1] * 1000 for r, lab in zip(results, labels)
                                         if lab == label], 99), 2) for label in texts}
            out["servers"][server]["memory_mb"] = tree_memory(proc.pid)
        kz_port = servers[args.variants[0]][1]
        count = encode(kz_port, "/sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        n, _ = asyncio.run(drive(kz_port, [count], 1))
        out["triples"] = int(rows(n[0][2])[0]["n"]["value"])
        out["same_answers"] = all(answers[v] == answers["oxigraph"] for v in args.variants)
    finally:
        for proc, _, _ in servers.values():
            stop(proc)
    out["servers"] = {k: out["servers"][k] for k in [*args.variants, "oxigraph"]}
    ox = out["servers"]["oxigraph"]
    out["ratios"] = {}
    for variant in args.variants:
        kz = out["servers"][variant]
        out["ratios"][variant] = round(kz["requests_per_second"] / ox["requests_per_second"], 3)
        # /proc counts CPU in clock ticks: a short run of cache hits can measure 0 ms
        kz["cpu_ratio"] = (round(ox["cpu_ms_per_request"] / kz["cpu_ms_per_request"], 3)
                           if kz["cpu_ms_per_request"] else None)
    out["ratio"] = out["ratios"][args.variants[0]]
    return out


def goal_lines(report: dict) -> list[str]:
    """Four lines per graph and kzgraph variant: met / MISSED and what was measured."""
    lines = []
    for r in report["graphs"]:
        ratios = r.get("ratios") or {"kzgraph": r["ratio"]}
        for variant, ratio in ratios.items():
            kz = r["servers"][variant]
            shown = "" if variant == "kzgraph" else f" [{SHOWN.get(variant, variant)}]"
            fives = sum(n for s, n in kz["statuses"].items() if int(s) >= 500)
            checks = [
                (ratio >= GOALS["ratio"], f"throughput {ratio:.0%} of Oxigraph's "
                                          f"(goal ≥ {GOALS['ratio']:.0%})"),
                (kz["p99_ms"] <= GOALS["p99_ms"], f"p99 {kz['p99_ms']:.1f} ms "
                                                   f"(goal ≤ {GOALS['p99_ms']:g} ms)"),
                (fives == 0, f"{fives} 5xx answers (goal: none)"),
                (r["same_answers"], "the same rows as Oxigraph" if r["same_answers"]
                 else "answers DIFFER from Oxigraph's"),
            ]
            lines += [f"{'met   ' if ok else 'MISSED'} {r['graph']} ({r['triples']:,} "
                      f"triples){shown}: {text}" for ok, text in checks]
    return lines


def table(report: dict) -> str:
    out = ["| graph | triples | server | req/s | p50 ms | p99 ms | p99 lookup / join / "
           "aggregate ms | CPU ms / request | PSS MB | statuses | throughput / Oxigraph |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in report["graphs"]:
        for server, s in r["servers"].items():
            per = " / ".join(f"{v:.1f}" for v in s["per_query"].values())
            ratio = r.get("ratios", {}).get(server)
            ratio = f"{ratio:.0%}" if ratio is not None else ""
            out.append(f"| {r['graph']} | {r['triples']:,} | {SHOWN.get(server, server)} | "
                       f"{s['requests_per_second']:.0f} | {s['p50_ms']:.1f} | "
                       f"{s['p99_ms']:.1f} | {per} | {s['cpu_ms_per_request']:.2f} | "
                       f"{s['memory_mb']['pss_total']:.0f} | {s['statuses']} | {ratio} |")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graphs", nargs="+", default=["real", "1000000"],
                        help="'real' and/or sizes made by bench/generate.py")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="kzgraph serve --workers")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "serve-results.json")
    parser.add_argument("--http", choices=["granian", "uvicorn"], default="granian",
                        help="kzgraph's HTTP server (uvicorn: to compare the stacks)")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANT_NAMES),
                        default=["cache", "nocache"],
                        help="kzgraph variants: cache (the default server), nocache "
                             "(--answer-cache 0), onelane (--answer-cache 0 --short-lane 0)")
    parser.add_argument("--distinct", action="store_true",
                        help="every aggregate request a different text (LIMIT 100000+i: the "
                             "same rows, never in the answer cache)")
    parser.add_argument("--child-serve", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_serve:
        path, port, workers, http, cache_mb, lane = args.child_serve
        serve_file(path, int(port), int(workers), http, int(cache_mb), int(lane))
        return 0
    args.variants = [VARIANT_NAMES[v] for v in dict.fromkeys(args.variants)]
    from bench.run import machine

    # a stopped run still stops both servers and removes its temporary folder
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    texts = query_texts()
    report = {"machine": machine(), "load_average": os.getloadavg(), "requests": args.requests,
              "concurrency": args.concurrency, "workers": args.workers, "http": args.http,
              "variants": args.variants, "distinct": args.distinct,
              "graphs": []}
    with tempfile.TemporaryDirectory(prefix="kzgraph-bench-serve-") as tmp:
        for name in args.graphs:
            print(f"bench/serve.py: {name} graph ...", file=sys.stderr, flush=True)
            path = graph_file(name, args.data, Path(tmp))
            report["graphs"].append(compare(name, path, args, texts, Path(tmp)))
    report["goals"] = goal_lines(report)
    args.output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    m = report["machine"]
    print(f"{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}, "
          f"{m['date']}; load average before {report['load_average'][0]:.1f}; "
          f"{args.requests} requests, {args.concurrency} concurrent, --workers {args.workers}, "
          f"kzgraph on {args.http}"
          + ("; every aggregate a different text" if args.distinct else ""))
    print(table(report))
    for line in report["goals"]:
        print(line)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0 if all(r["same_answers"] for r in report["graphs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
