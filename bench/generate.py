"""Grow the kzgraph graph to N triples keeping its shape, deterministically.

Copy 0 is the real graph (ontology + data). Every further copy k repeats the data (operators,
stakes in chains, events with dates, laws, observations, sources) under fresh IRIs
(``kz:NAME`` → ``kz:cK/NAME``) with labels suffixed `` cK`` so names stay unique; the
ontology is not repeated. The last copy is cut at N lines. Same N → same bytes.

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
    """The real graph (ontology + data files, no validation) as sorted N-Triples lines."""
    from kzgraph.build import input_files, read
    from kzgraph.export import to_ntriples

    graph, _ = read(input_files())
    return to_ntriples(graph).decode("utf-8").splitlines()


def generate(n: int, lines: list[str] | None = None) -> list[str]:
    from kzgraph.progress import bar

    lines = base_lines() if lines is None else lines
    data = [line for line in lines if line.startswith(ID)]
    out = list(lines[:n])
    copy = 0
    with bar(f"generating {n:,} triples", total=n) as advance:
        advance(len(out))
        while len(out) < n:
            copy += 1
            prefix = f"{ID}c{copy}/"
            for line in data:
                line = line.replace(ID, prefix)
                if line.split(" ", 2)[1] in LABELS:
                    line = _END.sub(lambda m: f' c{copy}"{m.group(1) or ""} .', line)
                out.append(line)
                if len(out) >= n:
                    break
            advance(len(data))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("triples", type=int)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(generate(args.triples)) + "\n", encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
