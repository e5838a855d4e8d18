"""The benchmark scripts work (generator shape and determinism, the runner's JSON and goal
lines). Nothing here is timed: speed is measured by `make bench`, never asserted in tests."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib

from bench import generate, run

ROOT = Path(__file__).resolve().parent.parent
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
STAKE = "<https://w3id.org/kzgraph/ontology#OwnershipStake>"


@pytest.fixture(scope="module")
def base():
    return generate.base_lines()


def _nodes(lines: list[str]) -> dict[str, int]:
    """Lines per kz: subject."""
    counts: dict[str, int] = {}
    for line in lines:
        if line.startswith(generate.ID):
            subject = line.split(" ", 1)[0]
            counts[subject] = counts.get(subject, 0) + 1
    return counts


def test_generator_is_deterministic_and_takes_whole_nodes(base):
    first = generate.generate(12_000, base)
    assert first == generate.generate(12_000, list(base))
    largest = max(_nodes(base).values())
    assert 12_000 <= len(first) < 12_000 + largest
    assert first[:len(base)] == base  # copy 0 is the real graph, unchanged
    real = _nodes(base)
    copied = _nodes(first[len(base):])
    assert len(copied) > len(real)  # at least one whole copy and a partial one
    # every copied node carries all its triples (a cut node would fail the shapes)
    for subject, count in copied.items():
        assert count == real[re.sub(r"/id/c[0-9]+-", "/id/", subject)], subject


def test_generator_is_deterministic_across_processes(base):
    """Blank nodes are labelled canonically: another process gives the same bytes."""
    code = ("import hashlib, sys; sys.path.insert(0, '.'); from bench import generate; "
            "print(hashlib.sha256(chr(10).join(generate.generate(6000)).encode()).hexdigest())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    here = hashlib.sha256("\n".join(generate.generate(6000, base)).encode()).hexdigest()
    assert done.stdout.strip() == here
    assert any(line.startswith("_:") for line in base)  # the case that needs it is there


def test_generated_graph_validates(base):
    """A partial last copy keeps references to nodes it did not take pointing into copy 0:
    the generated graph passes the same SHACL shapes and checks as the real graph."""
    from kzgraph.loader import keep_lexical_forms
    from kzgraph.validate import validate_graph

    lines = generate.generate(len(base) + 1500, base)  # a whole copy is about 4,100 lines
    keep_lexical_forms()
    graph = rdflib.Graph().parse(data="\n".join(lines), format="nt")
    report = validate_graph(graph)
    assert report.conforms, str(report)[:2000]


def test_generator_keeps_the_shape(base):
    lines = generate.generate(3 * len(base), base)
    graph = rdflib.Graph().parse(data="\n".join(lines), format="nt")
    assert len(graph) == len(set(lines))  # every generated line is a distinct triple
    def stakes(prefix: str) -> int:
        return sum(1 for line in lines if line.startswith(f"<{generate.ID[1:]}{prefix}")
                   and line.endswith(f"{TYPE} {STAKE} ."))

    real = sum(1 for line in base if line.endswith(f"{TYPE} {STAKE} ."))
    assert real == 5  # hand-counted stakes of the real graph (tests/data/class_counts.tsv)
    # each further copy repeats every stake of the real graph under its own IRIs
    assert stakes("c1-") == stakes("c2-") == real
    labels = [o for s, p, o in graph.triples((None, rdflib.RDFS.label, None))
              if "/id/c1-" in str(s)]
    assert labels and all(str(label).endswith(" c1") for label in labels)


def test_runner_child_measures_every_query(tmp_path, base):
    data = tmp_path / "small.nt"
    data.write_text("\n".join(generate.generate(len(base) + 500, base)) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--repeat", "1",
                           "--child", "oxigraph", str(data)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    from kzgraph import catalog

    assert set(result["queries_s"]) == set(catalog.load())
    assert all(v is not None and v >= 0 for v in result["queries_s"].values())
    assert len(base) + 500 <= result["triples"] < len(base) + 500 + max(_nodes(base).values())
    assert result["effective_share"] == "24.99"
    assert "| oxigraph |" in run.table([result])
    # name lookups through the index: a unique name, the organisation rule, real ambiguity
    assert result["lookup_ok"] is True
    assert result["name_count"] > 500
    assert all(result[k] >= 0 for k in ("name_index_s", "lookup_s", "lookup_chosen_s",
                                        "lookup_ambiguous_s"))
    assert "| oxigraph |" in run.lookup_table([result])


def test_cold_start_bench_runs(tmp_path):
    """bench/cold.py with two interleaved runs: three commands that agree on the rows,
    medians, ratios and goal lines (the numbers themselves are not judged here)."""
    out = tmp_path / "cold.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "cold.py"), "--runs", "2",
                           "--query", "internet-users", "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["rows"] > 5 and result["runs"] == 2
    assert set(result["times_s"]) == {"kzgraph", "rdflib", "pyoxigraph"}
    assert all(len(v) == 2 and min(v) > 0 for v in result["times_s"].values())
    assert result["speedup_vs_rdflib"] == pytest.approx(
        result["median_s"]["rdflib"] / result["median_s"]["kzgraph"])
    assert "| kzgraph query internet-users |" in done.stdout
    assert len(result["goals"]) == 2 and all(g.startswith(("met", "MISSED"))
                                             for g in result["goals"])


def test_timed_stops_a_runaway_call():
    import signal
    import time

    before = signal.getsignal(signal.SIGALRM)

    seconds, value = run._timed(lambda: time.sleep(5), repeat=3, timeout=1)
    assert (seconds, value) == (None, None)
    seconds, value = run._timed(lambda: 42, repeat=3, timeout=1)
    assert value == 42 and seconds is not None
    assert signal.getsignal(signal.SIGALRM) is before  # no handler left behind


def test_goal_lines_report_misses():
    result = {"engine": "oxigraph", "triples": 1_000_000, "load_s": 2.5, "peak_memory_mb": 900,
              "queries_s": {"fast": 0.2, "slow": 1.4, "stuck": None}}
    lines = run.goals([result])
    assert lines[0].startswith("met") and "load 2.50 s" in lines[0]
    assert lines[1].startswith("MISSED") and "slow 1.40 s" in lines[1] and "stuck timed out" in lines[1]
    assert lines[2].startswith("met")
    assert run.goals([dict(result, triples=100_000)]) == []


def test_partial_copies_keep_observations_in_their_series(base):
    """Wherever the last copy is cut, an observation it takes is in the series of its own
    measure (the 100,000-triple file once failed the observation-in-wrong-series check: the
    cut took the measures and observations of a copy but not their series). The quality checks
    run at cut points spread over one whole copy."""
    from kzgraph.engine import OxigraphEngine
    from kzgraph.loader import keep_lexical_forms
    from kzgraph.validate import run_checks

    keep_lexical_forms()
    size = sum(_nodes(base).values())
    for cut in range(250, size, 250):
        lines = generate.generate(len(base) + cut, base)
        graph = rdflib.Graph().parse(data="\n".join(lines), format="nt")
        failures, _ = run_checks(OxigraphEngine.from_graph(graph))
        assert [f.text()[:300] for f in failures] == [], f"cut after {cut} lines of copy 1"

def test_serve_benchmark_runs_both_servers(tmp_path, kg):
    """bench/serve.py with a few requests: both servers answer every request, with the same
    rows, over the same graph; the report has the numbers and the goal lines."""
    out = tmp_path / "serve.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "serve.py"), "--graphs", "real",
                           "--requests", "30", "--concurrency", "3", "--workers", "2", "-o",
                           str(out)], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    (result,) = report["graphs"]
    assert result["graph"] == "real" and result["triples"] == len(kg)
    assert result["same_answers"] is True
    # kzgraph as it starts by default (answer cache on), with --answer-cache 0, Oxigraph
    assert list(result["servers"]) == ["kzgraph", "kzgraph-nocache", "oxigraph"]
    for server, numbers in result["servers"].items():
        assert numbers["statuses"] == {"200": 30}
        assert 0 < numbers["p50_ms"] <= numbers["p99_ms"]
        assert numbers["requests_per_second"] > 0 and numbers["cpu_ms_per_request"] > 0
        assert numbers["memory_mb"]["pss_total"] > 0
    for variant in ("kzgraph", "kzgraph-nocache"):
        assert result["ratios"][variant] == pytest.approx(
            result["servers"][variant]["requests_per_second"]
            / result["servers"]["oxigraph"]["requests_per_second"], abs=0.001)
    assert result["ratio"] == result["ratios"]["kzgraph"]
    assert "| real | " in done.stdout and "| kzgraph |" in done.stdout
    assert "| kzgraph --answer-cache 0 |" in done.stdout
    goals = [line for line in done.stdout.splitlines() if line.startswith(("met", "MISSED"))]
    assert len(goals) == 8 and "the same rows as Oxigraph" in goals[3]
    assert "[kzgraph --answer-cache 0]" in goals[4]


def test_serve_goal_lines_report_misses():
    from bench import serve

    numbers = {"requests_per_second": 400.0, "p99_ms": 80.0, "statuses": {"200": 1990, "503": 10}}
    report = {"graphs": [{"graph": "1000000", "triples": 1_000_123, "ratio": 0.8,
                          "same_answers": False,
                          "servers": {"kzgraph": numbers, "oxigraph": numbers}}]}
    lines = serve.goal_lines(report)
    assert lines[0].startswith("met") and "80%" in lines[0]
    assert lines[1].startswith("MISSED") and "p99 80.0 ms" in lines[1]
    assert lines[2].startswith("MISSED") and "10 5xx" in lines[2]
    assert lines[3].startswith("MISSED") and "DIFFER" in lines[3]
    report["graphs"][0].update(ratio=0.4, same_answers=True)
    assert serve.goal_lines(report)[0].startswith("MISSED")
    assert serve.goal_lines(report)[3].startswith("met")


def test_benchmark_data_is_regenerated_when_its_sources_change(tmp_path):
    """`bench.generate.data_file` reuses a file made from today's sources and regenerates one
    made from other sources (a stale stamp, a missing stamp), never measuring a stale copy."""
    path = generate.data_file(tmp_path, 6000)
    stamp = path.with_name(path.name + ".source")
    made = path.read_bytes()
    assert stamp.read_text(encoding="utf-8").strip() == generate.source_digest()
    assert len(made.splitlines()) >= 6000
    path.write_bytes(b"# a copy of another day's graph\n")
    generate.data_file(tmp_path, 6000)
    assert path.read_bytes() == b"# a copy of another day's graph\n"  # stamp matches: reused
    stamp.write_text("0" * 64 + "\n", encoding="utf-8")
    generate.data_file(tmp_path, 6000)
    assert path.read_bytes() == made  # stale stamp: regenerated
    stamp.unlink()
    path.write_bytes(b"x\n")
    generate.data_file(tmp_path, 6000)
    assert path.read_bytes() == made and stamp.exists()  # no stamp: regenerated
