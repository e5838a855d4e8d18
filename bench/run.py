"""kzgraph benchmark: per engine and size — load, SHACL validation (≤ 100k), every stored
query, effective-share traversal, export; medians over repeated runs; peak memory. Each
(engine, size) runs in its own process so peak memory is its own. Prints a table and writes
bench/results.json. Not part of `make test`.

    python bench/run.py                       # 10k and 100k, both engines
    python bench/run.py --sizes 1000000 --engines oxigraph --repeat 3
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _timed(call, repeat: int):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def child(engine_name: str, path: Path, repeat: int, validate: bool) -> dict:
    """Measure one engine on one file (runs in a fresh process)."""
    from kzgraph import catalog, sparql
    from kzgraph.engine import MemoryEngine, OxigraphEngine
    from kzgraph.graph import KZGraph
    from kzgraph.loader import keep_lexical_forms

    keep_lexical_forms()
    out: dict = {"engine": engine_name, "file": path.name}
    load_repeat = 1 if path.stat().st_size > 50_000_000 and engine_name == "memory" else repeat

    if engine_name == "memory":
        import rdflib

        def load():
            graph = rdflib.Graph()
            graph.parse(str(path), format="nt")
            return MemoryEngine(graph)
    else:
        import pyoxigraph

        def load():
            engine = OxigraphEngine()
            engine.store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.N_TRIPLES)
            return engine

    out["load_s"], engine = _timed(load, load_repeat)
    out["triples"] = len(engine)
    if validate and engine_name == "memory":
        from kzgraph.validate import validate_graph

        out["validation_s"], report = _timed(lambda: validate_graph(engine.graph), 1)
        out["validation_conforms"] = report.conforms
    queries = {}
    for name, query in sorted(catalog.load().items()):
        bindings = catalog.bindings(query, example_params(query))
        queries[name], result = _timed(lambda: sparql.run(engine, query.text, bindings), repeat)
    out["queries_s"] = queries
    kg = KZGraph(engine)
    out["effective_share_s"], share = _timed(
        lambda: kg.effective_share("kz:government-of-kazakhstan", "kz:kcell"), repeat)
    out["effective_share"] = str(share.share)
    if engine_name == "memory":
        from kzgraph.export import to_ntriples

        out["export_s"], data = _timed(lambda: to_ntriples(engine.graph), repeat)
    else:
        import pyoxigraph

        out["export_s"], data = _timed(
            lambda: engine.store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                                     from_graph=pyoxigraph.DefaultGraph()), repeat)
    out["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def example_params(query) -> dict:
    """The -p NAME=VALUE pairs of the query's first '#+ example:' line."""
    import shlex

    args = shlex.split(query.examples[0]) if query.examples else []
    return dict(args[i + 1].partition("=")[::2] for i, a in enumerate(args)
                if a in ("-p", "--param"))


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(memory, 1),
            "python": platform.python_version(), "system": platform.platform(),
            "date": date.today().isoformat()}


def table(results: list[dict]) -> str:
    lines = ["| engine | triples | load s | SHACL s | queries: median / max s | slowest query "
             "| effective share s | export s | peak MB |", "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in results:
        q = r["queries_s"]
        slowest = max(q, key=q.get)
        validation = f"{r['validation_s']:.2f}" if "validation_s" in r else "–"
        lines.append(f"| {r['engine']} | {r['triples']:,} | {r['load_s']:.2f} | {validation} | "
                     f"{statistics.median(q.values()):.4f} / {q[slowest]:.3f} | {slowest} | "
                     f"{r['effective_share_s']:.4f} | {r['export_s']:.2f} | "
                     f"{r['peak_memory_mb']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--engines", nargs="+", default=["memory", "oxigraph"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "results.json")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--validate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.repeat, args.validate)))
        return
    from bench.generate import base_lines, generate

    args.data.mkdir(parents=True, exist_ok=True)
    lines = base_lines()
    results = []
    for size in args.sizes:
        path = args.data / f"kzgraph-{size}.nt"
        if not path.exists():
            path.write_text("\n".join(generate(size, lines)) + "\n", encoding="utf-8")
        for engine in args.engines:
            command = [sys.executable, str(Path(__file__).resolve()), "--repeat",
                       str(args.repeat), "--child", engine, str(path)]
            if size <= 100_000:
                command.append("--validate")
            print(f"bench: {engine} at {size:,} triples ...", file=sys.stderr, flush=True)
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout))
    report = {"machine": machine(), "results": results}
    args.output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"{report['machine']['cpu']}, {report['machine']['cores']} cores, "
          f"{report['machine']['memory_gb']} GB, Python {report['machine']['python']}, "
          f"{report['machine']['date']}")
    print(table(results))
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
