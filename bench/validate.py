"""Validation benchmark: SHACL with the compiled validator (shapes → SPARQL on Oxigraph,
kzgraph/shacl_sparql.py) beside pySHACL in the same run, on the real graph, the 100k and 1M
benchmark graphs and a broken 100k graph (every broken example of tests/data/shapes added);
seconds, peak memory (each run in its own process) and whether both reports are identical.
Also `kzgraph validate` cold (a new process), the same after an edit of a user file, and the
incremental revalidation after editing one graph file (real graph, and the 100k graph split
into ten files); prints a table; writes bench/validate.json. Part of `make bench`.

    python bench/validate.py                 # all of it (pySHACL at 1M is skipped: > 10 min)
    python bench/validate.py --sizes 100000
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
PYSHACL_MAX = 200_000  # pySHACL takes ~110 s at 100k and grows faster than linearly


def _graph(name: str, data: Path):
    import rdflib

    from kzgraph import build
    from kzgraph.loader import keep_lexical_forms, parse_turtle

    keep_lexical_forms()
    if name == "real":
        return build.read(build.input_files())[0]
    graph = rdflib.Graph()
    size = int(name.removesuffix("-broken"))
    graph.parse(str(data / f"kzgraph-{size}.nt"), format="nt")
    if name.endswith("-broken"):
        for path in sorted((ROOT / "tests" / "data" / "shapes").glob("*-*.ttl")):
            parse_turtle(path, into=graph)
    return graph


def child(engine: str, name: str, data: Path) -> dict:
    """One SHACL validation of one graph, in a fresh process (its own peak memory)."""
    from kzgraph import paths
    from kzgraph.loader import parse_turtle
    from kzgraph.validate import fast_violations, shacl_violations

    graph = _graph(name, data)
    shapes = parse_turtle(paths.shapes_file())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if engine == "pyshacl":
        found = shacl_violations(graph, shapes)
    else:
        found = fast_violations(graph, shapes)
    seconds = time.perf_counter() - start
    return {"engine": engine, "graph": name, "triples": len(graph), "seconds": seconds,
            "violations": [v.to_dict() for v in found], "graph_memory_mb": before,
            "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _run(*args: str) -> dict:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench/validate: {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def cold_cli(env: dict, *paths: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `kzgraph validate [PATHS]` in a new process (an empty
    build cache unless ``env`` names one). CPU seconds (user + system of the child) say what
    the run costs when other work shares the cores; wall seconds what one waits."""
    if "KZGRAPH_CACHE" not in env:
        with tempfile.TemporaryDirectory() as tmp:
            return cold_cli({**env, "KZGRAPH_CACHE": tmp}, *paths)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kzgraph.cli", "validate", *paths], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cli_revalidation(env: dict) -> dict:
    """`kzgraph validate mine.ttl` in new processes: cold (empty build cache) against the
    same command after an edit of mine.ttl (cache warm from the run before the edit)."""
    with tempfile.TemporaryDirectory() as tmp:
        mine = Path(tmp) / "mine.ttl"
        head = ("@prefix kz: <https://w3id.org/kzgraph/id/> .\n"
                "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n")
        cold, again = [], []
        for n in range(3):
            cache = Path(tmp) / f"cache{n}"
            env = {**env, "KZGRAPH_CACHE": str(cache)}
            mine.write_text(head + f'kz:almaty rdfs:comment "Note {n}."@en .\n', encoding="utf-8")
            cold.append(cold_cli(env, str(mine)))       # empty cache: everything from scratch
            mine.write_text(head + f'kz:almaty rdfs:comment "Note {n}, edited."@en .\n',
                            encoding="utf-8")
            again.append(cold_cli(env, str(mine)))      # the edit revalidated
    return {"cold_s": min(w for w, _ in cold), "cold_cpu_s": min(c for _, c in cold),
            "revalidation_s": min(w for w, _ in again),
            "revalidation_cpu_s": min(c for _, c in again)}


def _split(data: Path, size: int, folder: Path, parts: int = 10) -> list[Path]:
    """The benchmark graph of ``size`` triples as ``parts`` N-Triples files, whole subjects
    per file (lines with a blank node all in the first: labels are local to a file)."""
    lines = (data / f"kzgraph-{size}.nt").read_text(encoding="utf-8").splitlines()
    blank = [line for line in lines if "_:" in line]
    rest = [line for line in lines if "_:" not in line]
    chunks, per = [blank], len(rest) // parts + 1
    current, subject = [], None
    for line in rest:
        s = line.split(" ", 1)[0]
        if s != subject and len(current) >= per:
            chunks.append(current)
            current = []
        subject = s
        current.append(line)
    chunks.append(current)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, chunk in enumerate(chunks):
        path = folder / f"part-{i:02d}.nt"
        path.write_text("\n".join(chunk) + "\n", encoding="utf-8")
        out.append(path)
    return out


def incremental(graph: str = "real", data: Path = HERE / "data") -> dict:
    """Full validation of a copy of the graph files (``graph``: "real", or a benchmark size
    split into files), then one file edited and revalidated: seconds of both, and what was
    reused (kzgraph.incremental)."""
    from kzgraph import incremental as inc, paths

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KZGRAPH_CACHE"] = str(Path(tmp) / "cache")
        copy = Path(tmp) / "graph"
        if graph == "real":
            shutil.copytree(paths.data_root() / "graph", copy)
            files = [paths.ontology_file(), *sorted(copy.glob("*.ttl"))]
            edited = copy / "places.ttl"
        else:
            files = _split(data, int(graph), copy)
            edited = files[len(files) // 2]
        subject = edited.read_text(encoding="utf-8").split("\n", 1)[0].split(" ", 1)[0] \
            if graph != "real" else "kz:almaty"
        out = {}
        for label, options in (("", {}), ("shacl_", {"checks": False, "consistency": False})):
            inc.validate_files(files, **options)  # fills the caches
            edited.write_text(edited.read_text(encoding="utf-8") + f"\n# edited {label}\n"
                              f"{subject} <http://www.w3.org/2000/01/rdf-schema#comment> "
                              f"\"Edited {label}.\"@en .\n", encoding="utf-8")
            start = time.perf_counter()  # the edited files parsed and validated in full
            first = inc.validate_files(files, use_cache=False, **options)
            full = time.perf_counter() - start
            start = time.perf_counter()
            second = inc.validate_files(files, **options)
            again = time.perf_counter() - start
            out.update({f"{label}full_s": full, f"{label}incremental_s": again,
                        f"{label}reused": second.reuse.text(),
                        f"{label}same_report": first.report.to_dict() == second.report.to_dict()})
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "validate.json")
    parser.add_argument("--parts", nargs="+", default=["shacl", "cli", "incremental"],
                        help="what to measure (default: all)")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "GRAPH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.data)))
        return
    from bench.generate import data_file

    for size in args.sizes:
        data_file(args.data, size)  # regenerated when the real graph changed
    names = ["real"] + [str(s) for s in args.sizes] if "shacl" in args.parts else []
    if 100_000 in args.sizes and names:
        names.append("100000-broken")
    rows = []
    for name in names:
        size = 5_000 if name == "real" else int(name.removesuffix("-broken"))
        row = {"graph": name}
        for engine in ("compiled", "pyshacl"):
            if engine == "pyshacl" and size > PYSHACL_MAX:
                row["pyshacl"] = None  # skipped: would run past 10 minutes
                continue
            print(f"bench/validate: {engine} on {name} ...", file=sys.stderr, flush=True)
            row[engine] = _run("--child", engine, name, "--data", str(args.data))
        fast, slow = row["compiled"], row.get("pyshacl")
        row["triples"] = fast["triples"]
        row["identical"] = None if slow is None else fast["violations"] == slow["violations"]
        row["violations"] = len(fast["violations"])
        rows.append(row)
    env = {k: v for k, v in os.environ.items() if k != "KZGRAPH_CACHE"}
    runs = [cold_cli(env) for _ in range(3)] if "cli" in args.parts else None
    cold = runs and min(w for w, _ in runs)
    cold_cpu = runs and min(c for _, c in runs)
    cli = cli_revalidation(env) if "cli" in args.parts else None
    inc = None
    if "incremental" in args.parts:
        inc = {"real": incremental()}
        if 100_000 in args.sizes:
            print("bench/validate: incremental at 100000 ...", file=sys.stderr, flush=True)
            inc["100000"] = incremental("100000", args.data)
    report = {"rows": [{**r, "compiled": {k: v for k, v in r["compiled"].items() if k != "violations"},
                        "pyshacl": r["pyshacl"] and {k: v for k, v in r["pyshacl"].items()
                                                     if k != "violations"}} for r in rows],
              "cold_cli_validate_s": cold, "cold_cli_validate_cpu_s": cold_cpu,
              "cli_revalidation": cli, "incremental": inc}
    args.output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(table(report))


def table(report: dict) -> str:
    lines = ["| graph | triples | violations | compiled s | compiled peak MB | pySHACL s | "
             "pySHACL peak MB | speed-up | identical reports |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in report["rows"]:
        fast, slow = r["compiled"], r["pyshacl"]
        lines.append(
            f"| {r['graph']} | {r['triples']:,} | {r['violations']} | {fast['seconds']:.2f} | "
            f"{fast['peak_memory_mb']:.0f} | "
            + (f"{slow['seconds']:.2f} | {slow['peak_memory_mb']:.0f} | "
               f"{slow['seconds'] / fast['seconds']:.0f}× | {'yes' if r['identical'] else 'NO'} |"
               if slow else "skipped (> 10 min) | – | – | – |"))
    cold, cli = report["cold_cli_validate_s"], report.get("cli_revalidation")
    lines.append("")
    if cold is not None:
        lines.append(f"`kzgraph validate` cold (new process, empty cache, real graph, SHACL + "
                     f"checks + OWL RL): {cold:.2f} s wall, "
                     f"{report.get('cold_cli_validate_cpu_s') or 0:.2f} s CPU")
    if cli is not None:
        lines.append(f"`kzgraph validate mine.ttl` (new processes): cold {cli['cold_s']:.2f} s "
                     f"wall / {cli['cold_cpu_s']:.2f} s CPU, after an edit of mine.ttl "
                     f"{cli['revalidation_s']:.2f} s wall / {cli['revalidation_cpu_s']:.2f} s CPU")
    for graph, inc in (report["incremental"] or {}).items():
        for label, what in (("", "SHACL + checks + OWL RL"), ("shacl_", "SHACL only")):
            lines.append(f"{graph}: edited one graph file ({what}): full "
                         f"{inc[label + 'full_s']:.2f} s, revalidation "
                         f"{inc[label + 'incremental_s']:.2f} s ({inc[label + 'reused']}; same "
                         f"report as a full validation: "
                         f"{'yes' if inc[label + 'same_report'] else 'NO'})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
