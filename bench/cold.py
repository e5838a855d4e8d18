"""Cold start: whole-process wall time of `kzgraph query NAME` (warm build cache) against a bare
rdflib script and a bare pyoxigraph script that load the exported Turtle and run the same query.
Runs are interleaved (kzgraph, rdflib, pyoxigraph, kzgraph, ...) so that load on the machine hits
all three alike; medians over ``--runs`` (≥ 11 for the record). Part of `make bench`
(`bench/run.py`); never a timed test.

    python bench/cold.py                    # 11 runs each of `kzgraph query ownership`
    python bench/cold.py --runs 21 --query internet-users

Goals (issue 15): median ≤ 0.25 s and ≥ 2.5× faster than the bare rdflib script.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

GOALS = {"median_s": 0.25, "speedup_vs_rdflib": 2.5}

RDFLIB = """import sys
import rdflib
graph = rdflib.Graph()
graph.parse(sys.argv[1], format="turtle")
result = graph.query(open(sys.argv[2], encoding="utf-8").read())
print(result.serialize(format="csv").decode("utf-8"), end="")
"""

PYOXIGRAPH = """import sys
import pyoxigraph
store = pyoxigraph.Store()
store.bulk_load(path=sys.argv[1], format=pyoxigraph.RdfFormat.TURTLE)
result = store.query(open(sys.argv[2], encoding="utf-8").read())
sys.stdout.buffer.write(result.serialize(format=pyoxigraph.QueryResultsFormat.CSV))
"""


def kzgraph_command() -> list[str]:
    """The installed `kzgraph` next to this Python (what a user runs), else ``-m``."""
    script = Path(sys.executable).with_name("kzgraph")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kzgraph.cli"]


def prepare(folder: Path, name: str) -> dict[str, list[str]]:
    """Warm the build cache, export the Turtle, write the two bare scripts and the query
    (its parameters written in as constants); returns the three commands by label."""
    from kzgraph import catalog
    from kzgraph.engine import substitute

    env = os.environ.copy()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "kzgraph")],
                   check=True, stdout=subprocess.DEVNULL)  # as an installed wheel would be
    warm = subprocess.run([*kzgraph_command(), "query", name], capture_output=True, text=True,
                          env=env)
    if warm.returncode != 0:
        sys.exit(f"cold: kzgraph query {name} failed:\n{warm.stderr}")
    ttl = folder / "kzgraph.ttl"
    done = subprocess.run([*kzgraph_command(), "export", "--format", "ttl", "-o", str(ttl)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"cold: export failed:\n{done.stderr}")
    query = catalog.get(name)
    text = substitute(query.text, catalog.bindings(query, {}))
    (folder / "query.rq").write_text(text, encoding="utf-8")
    (folder / "bare_rdflib.py").write_text(RDFLIB, encoding="utf-8")
    (folder / "bare_pyoxigraph.py").write_text(PYOXIGRAPH, encoding="utf-8")
    return {
        "kzgraph": [*kzgraph_command(), "query", name],
        "rdflib": [sys.executable, str(folder / "bare_rdflib.py"), str(ttl),
                   str(folder / "query.rq")],
        "pyoxigraph": [sys.executable, str(folder / "bare_pyoxigraph.py"), str(ttl),
                       str(folder / "query.rq")],
    }


def rows(command: list[str]) -> int:
    """Data rows a command prints (a sanity check that all three answer the query)."""
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    if lines and lines[-1].startswith("(") and lines[-1].endswith(")"):  # kzgraph's table
        return len(lines) - 3
    return len(lines) - 1


def measure(runs: int = 11, name: str = "ownership") -> dict:
    """Interleaved wall-clock times (seconds) of the three commands, ``runs`` each."""
    with tempfile.TemporaryDirectory(prefix="kzgraph-cold-") as tmp:
        commands = prepare(Path(tmp), name)
        counts = {label: rows(command) for label, command in commands.items()}
        if len(set(counts.values())) != 1:
            sys.exit(f"cold: the three commands disagree on the rows: {counts}")
        times: dict[str, list[float]] = {label: [] for label in commands}
        labels = list(commands)
        for i in range(runs):
            for label in labels[i % 3:] + labels[:i % 3]:  # rotate who goes first
                start = time.perf_counter()
                subprocess.run(commands[label], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=True)
                times[label].append(time.perf_counter() - start)
    medians = {label: statistics.median(values) for label, values in times.items()}
    return {"query": name, "runs": runs, "rows": counts["kzgraph"], "times_s": times,
            "median_s": medians, "min_s": {k: min(v) for k, v in times.items()},
            "speedup_vs_rdflib": medians["rdflib"] / medians["kzgraph"],
            "speedup_vs_pyoxigraph": medians["pyoxigraph"] / medians["kzgraph"],
            "load_average": os.getloadavg()[0]}


def table(result: dict) -> str:
    lines = [f"cold `kzgraph query {result['query']}` ({result['rows']} rows), "
             f"{result['runs']} interleaved runs each, load average {result['load_average']:.1f}",
             "| command | median s | min s | median vs kzgraph |", "|---|---:|---:|---:|"]
    base = result["median_s"]["kzgraph"]
    for label in ("kzgraph", "rdflib", "pyoxigraph"):
        what = {"kzgraph": f"kzgraph query {result['query']}",
                "rdflib": "bare rdflib script (parse Turtle, query)",
                "pyoxigraph": "bare pyoxigraph script (load Turtle, query)"}[label]
        lines.append(f"| {what} | {result['median_s'][label]:.3f} | "
                     f"{result['min_s'][label]:.3f} | {result['median_s'][label] / base:.2f}× |")
    return "\n".join(lines)


def goals(result: dict) -> list[str]:
    checks = [
        (result["median_s"]["kzgraph"] <= GOALS["median_s"],
         f"median {result['median_s']['kzgraph']:.3f} s (goal ≤ {GOALS['median_s']} s)"),
        (result["speedup_vs_rdflib"] >= GOALS["speedup_vs_rdflib"],
         f"{result['speedup_vs_rdflib']:.2f}× faster than bare rdflib "
         f"(goal ≥ {GOALS['speedup_vs_rdflib']}×)"),
    ]
    return [f"{'met   ' if ok else 'MISSED'} cold start: {text}" for ok, text in checks]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--query", default="ownership", help="a stored query without "
                        "required parameters")
    parser.add_argument("-o", "--output", type=Path, help="also write the result as JSON")
    args = parser.parse_args(argv)
    result = measure(args.runs, args.query)
    result["goals"] = goals(result)
    print(table(result))
    for line in result["goals"]:
        print(line)
    if args.output:
        args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
