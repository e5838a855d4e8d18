"""Grow the kzgraph graph to N triples keeping its shape, deterministically.

Copy 0 is the real graph (ontology + data). Every further copy k repeats the data (operators,
stakes in chains, events with dates, laws, observations, sources) under fresh IRIs
(``kz:NAME`` → ``kz:cK-NAME``, still flat names the shapes accept) with labels suffixed
`` cK`` so names stay unique; the ontology is not repeated. Copies take whole subjects (all
triples of a node) until N is reached, so a file holds at least N triples and fewer than N
plus the largest node; in the last, partial copy a reference to a node it did not take
points to that node of copy 0, so no reference dangles and the file validates like the real
graph (the partial copy takes the series nodes first, so that an observation it takes stays in
the series of its own measure). Same N → same bytes (blank nodes are labelled canonically).

    python bench/generate.py 100000 -o bench/data/kzgraph-100000.nt
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ID = "<https://w3id.org/kzgraph/id/"
LABELS = ("<http://www.w3.org/2000/01/rdf-schema#label>",
          "<http://www.w3.org/2004/02/skos/core#altLabel>")
_END = re.compile(r'"((?:\^\^<[^>]*>)|(?:@[A-Za-z0-9-]+))? \.$')


def base_lines() -> list[str]:
    """The real graph (ontology + data files, no validation) as sorted N-Triples lines, blank
    nodes labelled canonically (`kzgraph.export.serialize`)."""
    from kzgraph.build import input_files, read
    from kzgraph.export import serialize

    graph, _ = read(input_files())
    return serialize(graph, "nt").decode("utf-8").splitlines()


def _subjects(lines: list[str]) -> list[tuple[str, list[str], bool]]:
    """The data lines (kz: subjects) grouped by subject, in order, each line marked whether
    it is a label (sorted N-Triples keep a subject's lines together)."""
    groups: dict[str, list[tuple[str, bool]]] = {}
    for line in lines:
        if line.startswith(ID):
            subject, predicate, _ = line.split(" ", 2)
            groups.setdefault(subject, []).append((line, predicate in LABELS))
    return [(subject, group) for subject, group in groups.items()]


def _copy(subjects, number: int, taken: set[str] | None = None) -> list[str]:
    """Copy ``number`` of the ``subjects``' lines; with ``taken`` (a partial copy), only IRIs
    of those subjects are renamed, the rest keep pointing into copy 0."""
    prefix = f"{ID}c{number}-"
    suffix = lambda m: f' c{number}"{m.group(1) or ""} .'  # noqa: E731
    if taken is None:
        rename = lambda line: line.replace(ID, prefix)  # noqa: E731
    else:
        rename = lambda line: _IRI.sub(  # noqa: E731
            lambda m: prefix + m.group(1) + ">" if m.group(0) in taken else m.group(0), line)
    out = []
    for subject, group in subjects:
        if taken is not None and subject not in taken:
            continue
        for line, is_label in group:
            line = rename(line)
            out.append(_END.sub(suffix, line) if is_label else line)
    return out


_IRI = re.compile(re.escape(ID) + r"([^>]*)>")
SERIES = ID + "series-"


def generate(n: int, lines: list[str] | None = None) -> list[str]:
    from kzgraph.progress import bar

    lines = base_lines() if lines is None else lines
    subjects = _subjects(lines)
    size = sum(len(group) for _, group in subjects)
    out = list(lines)
    number = 0
    with bar(f"generating {n:,} triples", total=n) as advance:
        advance(min(len(out), n))
        while len(out) < n:
            number += 1
            if n - len(out) >= size:
                out += _copy(subjects, number)
                advance(size)
                continue
            taken, count = set(), 0
            # Whole subjects until n is reached, series first: an observation the partial copy
            # takes must find its series taken too (else it points to its own measure but to the
            # series of copy 0, and the check observation-in-wrong-series fails).
            for subject, group in sorted(subjects, key=lambda s: not s[0].startswith(SERIES)):
                taken.add(subject)
                count += len(group)
                if len(out) + count >= n:
                    break
            advance(n - len(out))
            out += _copy(subjects, number, taken)
    return out


def source_digest() -> str:
    """What a generated file is made from: the real graph's input files and this generator."""
    from kzgraph import cache
    from kzgraph.build import input_files

    return cache.key(input_files(), Path(__file__).read_text(encoding="utf-8"))


def data_file(data: Path, size: int) -> Path:
    """``data/kzgraph-SIZE.nt``, (re)generated when it is missing or was made from other
    sources (their digest is kept beside it in ``kzgraph-SIZE.nt.source``): a benchmark never
    runs on a copy of yesterday's graph. Both files are written atomically."""
    from kzgraph.export import write_atomic

    path = data / f"kzgraph-{size}.nt"
    stamp = path.with_name(path.name + ".source")
    digest = source_digest()
    if path.exists() and stamp.exists() and stamp.read_text(encoding="utf-8").strip() == digest:
        return path
    data.mkdir(parents=True, exist_ok=True)
    write_atomic(path, ("\n".join(generate(size)) + "\n").encode("utf-8"))
    write_atomic(stamp, (digest + "\n").encode("utf-8"))
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("triples", type=int)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    from kzgraph.export import write_atomic

    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.output, ("\n".join(generate(args.triples)) + "\n").encode("utf-8"))
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
