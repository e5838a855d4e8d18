"""Incremental validation: after editing one graph file, revalidate only what the edit can reach.

Two things are kept in the build cache (`kzgraph.cache.cache_dir`, a private folder):

* a **parse cache**: each input file's triples (as numbered terms, `_pack`), pickled, keyed
  by the file's path and the SHA-256 of its bytes, so an unchanged file is never parsed again;
* a **validation state** per list of input files (and shapes, checks, kzgraph version): the
  digest of each file, the SHACL violations of the last run and its OWL RL verdict with the
  `kzgraph.rl_rules.summary` of its closure.

When files changed since the state was written, the triples each changed file gained or lost
are compared (old parse against new parse). The focus nodes whose SHACL result can change are
the nodes of those triples, every node one step away from them in either direction (a node
that points to a changed node with a path, an sh:class or a SPARQL constraint) and, for the
shapes' transitive paths (``(kzo:partOf|^kzo:hasPart)*``), every node linked to them through
those predicates. Only they are validated again (`kzgraph.shacl_sparql.run` with ``focus``,
and only the queries of shapes that target one of them); the violations of every other focus
node are reused. Everything else is validated in full: no state yet, the ontology file
changed, a changed triple is a schema axiom (rdfs:subClassOf, owl:...), a blank node changed,
or a shape must go to pySHACL. The quality checks are global and run every time. The OWL RL
verdict is reused when `kzgraph.rl_rules.inert` says no rule sees the changed triples, and
computed again otherwise.
"""
from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

from . import __version__

SCHEMA = ("http://www.w3.org/2000/01/rdf-schema#subClassOf",
          "http://www.w3.org/2000/01/rdf-schema#subPropertyOf",
          "http://www.w3.org/2000/01/rdf-schema#domain",
          "http://www.w3.org/2000/01/rdf-schema#range")
OWL = "http://www.w3.org/2002/07/owl#"


@dataclass
class Reuse:
    """What a validation took from the previous run."""

    files: int = 0
    files_reused: int = 0      # parsed results taken from the parse cache
    focus: int = 0             # focus nodes of the shapes in the graph
    focus_checked: int = 0     # focus nodes validated this time
    full: str = ""             # why everything was validated ("" when incremental)
    consistency: bool = False  # the OWL RL verdict reused (the edit touches no rule)

    def text(self) -> str:
        files = f"reused: {self.files_reused:,} of {self.files:,} files parsed before"
        owl = ", the OWL RL verdict (no rule sees the edit)" if self.consistency else ""
        if self.full:
            return (f"{files}{owl}; SHACL: all {self.focus:,} focus nodes validated "
                    f"({self.full})")
        return (f"{files}{owl}, SHACL results of {self.focus - self.focus_checked:,} of "
                f"{self.focus:,} focus nodes ({self.focus_checked:,} validated again)")


@dataclass
class Outcome:
    report: object   # kzgraph.validate.Report
    graph: object    # the merged rdflib graph
    origin: dict
    reuse: Reuse


last: Reuse | None = None  # the `Reuse` of the latest `validate_files` (the CLI prints it)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _folder() -> Path:
    from .cache import cache_dir

    return cache_dir()


def _read(name: str):
    from .loader import unpickle

    try:
        # literals rebuilt with their lexical forms kept, without touching rdflib's globals
        return unpickle((_folder() / name).read_bytes())
    except Exception:  # missing or damaged entry: as if never written
        return None


def _write(name: str, value) -> None:
    from .export import write_atomic

    try:
        folder = _folder()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(folder / name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except (OSError, pickle.PicklingError):
        pass  # a read-only or full cache is not an error


def _parse_name(path: Path, digest: str) -> str:
    return f"parsed2-{_digest(str(path.resolve()).encode() + digest.encode())}.pickle"


def _pack(graph) -> tuple[list, list]:
    """A parsed file as (terms, triples of term numbers): plain strings and ints, which
    unpickle ~10× faster than an rdflib graph (whose literals must be rebuilt one by one
    through `kzgraph.loader.unpickle`)."""
    from rdflib import BNode, Literal

    numbers: dict = {}
    terms: list = []
    triples = []
    for triple in graph:
        row = []
        for term in triple:
            n = numbers.get(term)
            if n is None:
                n = numbers[term] = len(terms)
                if isinstance(term, Literal):
                    terms.append(("L", str(term), term.datatype and str(term.datatype),
                                  term.language))
                else:
                    terms.append(("B" if isinstance(term, BNode) else "U", str(term)))
            row.append(n)
        triples.append(tuple(row))
    return terms, triples


def _unpack(packed, into=None):
    """Add the triples of a `_pack` to ``into`` (a new rdflib graph when None; literals with
    their lexical forms as written); returns (the graph, the subjects)."""
    import rdflib
    from rdflib import BNode, URIRef

    from .loader import literal

    terms, triples = packed
    made = [literal(t[1], datatype=t[2] and URIRef(t[2]), lang=t[3]) if t[0] == "L"
            else BNode(t[1]) if t[0] == "B" else URIRef(t[1]) for t in terms]
    graph = rdflib.Graph() if into is None else into
    graph.addN((made[s], made[p], made[o], graph) for s, p, o in triples)
    return graph, {made[s] for s, _, _ in triples}


def _read_part(name: str, into=None):
    """A parsed file from the parse cache as `_unpack` gives it, or None."""
    packed = _read(name)
    try:
        return None if packed is None else _unpack(packed, into)
    except (TypeError, ValueError, IndexError):
        return None  # not a `_pack`: as if never written


class _Parser:
    """`kzgraph.loader.parse_turtle` behind the parse cache, as a `load_files` ``merge``;
    counts the reused files."""

    def __init__(self, digests: dict, use_cache: bool) -> None:
        self.digests, self.use_cache, self.reused = digests, use_cache, 0

    def __call__(self, path, graph):
        from .loader import parse_turtle

        path = Path(path)
        name = _parse_name(path, self.digests[path])
        if self.use_cache:
            found = _read_part(name, into=graph)
            if found is not None:
                self.reused += 1
                return found[1]
        part = parse_turtle(path)
        if self.use_cache:
            _write(name, _pack(part))
        graph += part
        return set(part.subjects(unique=True))


def _state_name(files: list[Path]) -> str:
    """The state holds SHACL results only: the same for any choice of checks/consistency."""
    from . import build

    key = hashlib.sha256(f"{__version__}\0".encode())
    for path in build.validation_inputs():
        key.update(path.name.encode() + b"\0" + Path(path).read_bytes())
    for path in files:
        key.update(str(Path(path).resolve()).encode() + b"\0")
    return f"validation-{key.hexdigest()}.pickle"


def validate_files(files, *, checks: bool = True, consistency: bool = True,
                   use_cache: bool = True, shapes=None, progress: bool = True) -> Outcome:
    """Parse (from the parse cache where possible) and validate ``files``, reusing the SHACL
    results of the previous run for focus nodes the edits cannot reach. Never raises on a
    non-conforming graph; `Outcome.reuse` says what was reused."""
    global last
    from . import shacl_sparql
    from .loader import load_files
    from .progress import bar
    from .validate import Report, compiled_shapes, fast_violations, run_checks

    files = [Path(f) for f in files]
    digests = {f: _digest(f.read_bytes()) for f in files}
    parser = _Parser(digests, use_cache)
    graph, origin = load_files(files, merge=parser)
    if shapes is None:
        shapes, compiled = _shapes(use_cache)
    else:
        compiled = compiled_shapes(shapes)
    engine = shacl_sparql.load(graph)
    reuse = Reuse(files=len(files), files_reused=parser.reused,
                  focus=_focus_count(engine, compiled))
    state_name = _state_name(files)
    state = _read(state_name) if use_cache else None
    affected, why, delta = _affected(state, files, digests, engine, shapes, compiled)
    big = len(graph) > 100_000
    with bar("validating (SHACL)", total=len(compiled.queries), show=big) as advance:
        if affected is None:
            reuse.full = why
            reuse.focus_checked = reuse.focus
            violations = fast_violations(graph, shapes, origin, engine=engine, progress=advance)
        else:
            from .validate import _term

            names = {_term(n) for n in affected}
            kept = [v for v in state["violations"] if v.focus not in names]
            # only the queries of shapes that target an affected node can find anything
            hit, reuse.focus_checked = _targeted(engine, compiled, affected)
            fresh = shacl_sparql.run(engine, compiled, origin, focus=affected, graph=graph,
                                     progress=advance, skip=set(_tops(compiled)) - hit)
            violations = sorted(set(kept) | set(fresh))
    report = Report(violations=violations)
    if checks:
        with bar("quality checks", show=big):
            report.check_failures, report.checks_run = run_checks(engine)
        if use_cache:  # the next process runs them without rdflib's SPARQL parser
            from . import catalog, sparql

            sparql.keep_verdicts([sparql.prepare(q.text) for q in catalog.checks().values()])
    closure = None  # what the OWL RL verdict depends on (`kzgraph.rl_rules.summary`)
    if consistency:
        from . import rl_rules
        from .reason import consistency as owl_rl

        before = (state or {}).get("consistency")
        if before is not None and delta is not None and rl_rules.inert(delta, before[1], graph):
            report.inconsistencies, closure = list(before[0]), before  # no rule sees the edit
            reuse.consistency = True
        else:
            with bar("OWL RL consistency", show=big):
                report.inconsistencies, summary = owl_rl(graph)
            closure = None if summary is None else (report.inconsistencies, summary)
    if use_cache:
        _write(state_name, {"digests": {str(f): d for f, d in digests.items()},
                            "violations": violations,
                            "consistency": closure})
    last = reuse
    return Outcome(report=report, graph=graph, origin=origin, reuse=reuse)


def _affected(state, files, digests, engine, shapes, compiled):
    """(focus nodes to validate again or None, why everything is validated, the triples the
    changed files gained or lost or None when not known)."""
    from . import paths

    if state is None:
        return None, "no earlier validation of these files", None
    old = state["digests"]
    changed = [f for f in files if old.get(str(f)) != digests[f]]
    if not changed:
        return set(), "", set()
    if any(f.resolve() == paths.ontology_file().resolve() for f in changed):
        return None, "the ontology changed", None
    from rdflib import BNode, Literal

    delta = set()
    for f in changed:
        before = _read_part(_parse_name(f, old[str(f)])) if str(f) in old else None
        before = before and before[0]
        if before is None:
            return None, f"no earlier parse of {f.name}", None
        now = _read_part(_parse_name(f, digests[f]))
        now = now and now[0]
        if now is None:
            return None, f"no parse of {f.name}", None
        delta |= set(before) ^ set(now)
    if compiled.fallback(engine):
        return None, "some shapes are validated by pySHACL", delta
    nodes = set()
    for s, p, o in delta:
        if str(p) in SCHEMA or str(p).startswith(OWL) or isinstance(s, BNode) \
                or isinstance(o, BNode):
            return None, "a schema axiom or a blank node changed", delta
        nodes.add(s)
        if not isinstance(o, Literal):
            nodes.add(o)
    reach = _reach(engine, shapes, nodes)
    if any(isinstance(n, BNode) for n in reach):
        return None, "a blank node is within reach of the edit", delta
    return reach, "", delta


def _star_predicates(shapes) -> list[str]:
    """Predicates inside sh:zeroOrMorePath / sh:oneOrMorePath (transitive reach)."""
    from rdflib import BNode, URIRef
    from rdflib.namespace import SH

    out, todo = set(), [o for p in (SH.zeroOrMorePath, SH.oneOrMorePath)
                        for o in shapes.objects(None, p)]
    seen = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, URIRef):
            out.add(str(node))
        elif isinstance(node, BNode):
            todo += [o for _, o in shapes.predicate_objects(node)]
    return sorted(p for p in out if not p.startswith(str(SH)) and "rdf-syntax-ns" not in p)


def _reach(engine, shapes, nodes) -> set:
    """``nodes``, their neighbours, and everything linked to either by a transitive path."""
    from rdflib import BNode

    from .engine import collect
    from .sparql import Prepared

    stars = _star_predicates(shapes)
    star = "|".join(f"<{p}>|^<{p}>" for p in stars)

    def ask(text: str, values) -> set:
        found = set()
        values = sorted(values, key=str)
        for i in range(0, len(values), 500):  # VALUES in slices: queries stay small
            chunk = " ".join(v.n3() for v in values[i:i + 500])
            query = text.replace("VALUES_HERE", f"VALUES ?c {{ {chunk} }}")
            found |= {row[0] for row in collect(Prepared(query, "SELECT", ("n",)),
                                                engine.store.query(query)).rows}
            if any(isinstance(n, BNode) for n in found):
                return found  # the caller validates everything
        return found

    def closure(values) -> set:
        if not star or any(isinstance(n, BNode) for n in values):
            return set(values)
        return set(values) | ask(f"SELECT DISTINCT ?n WHERE {{ VALUES_HERE ?n ({star})+ ?c . "
                                 f"FILTER(!isLiteral(?n)) }}", values)

    start = closure(nodes)
    around = ask("SELECT DISTINCT ?n WHERE { VALUES_HERE { ?n ?p ?c } UNION { ?c ?p ?n } "
                 "FILTER(!isLiteral(?n)) }", start)
    return closure(start | around)


def _tops(compiled) -> list:
    """The shapes with targets that compiled queries validate for, in a fixed order."""
    return sorted({t for q in compiled.queries for t in q.top}, key=str)


def _focus_count(engine, compiled) -> int:
    """How many distinct focus nodes the compiled shapes have in ``engine``."""
    parts = sorted({p for top in _tops(compiled) for p in compiled.targets.get(top, ())})
    if not parts:
        return 0
    query = ("SELECT (COUNT(DISTINCT ?this) AS ?n) WHERE { { "
             + " } UNION { ".join(parts) + " } }")
    return int(next(iter(engine.store.query(query)))[0].value)


def _targeted(engine, compiled, nodes) -> tuple[set, int]:
    """(the shapes with targets that have one of ``nodes`` as a focus node, how many of
    ``nodes`` are focus nodes): one query, so that only those shapes' queries run again."""
    from rdflib import BNode

    tops = _tops(compiled)
    nodes = sorted((n for n in nodes if not isinstance(n, BNode)), key=str)
    if not nodes or not tops:
        return set(), 0
    branches = [f"{{ {part} BIND({i} AS ?i) }}" for i, top in enumerate(tops)
                for part in compiled.targets.get(top, ())]
    query = ("SELECT DISTINCT ?this ?i WHERE { VALUES ?this { "
             + " ".join(n.n3() for n in nodes) + " } " + " UNION ".join(branches) + " }")
    rows = [(this, int(i.value)) for this, i in engine.store.query(query)]
    return {tops[i] for _, i in rows}, len({this for this, _ in rows})


_SHAPES: dict = {}  # digest of the shapes file → (shapes graph, compiled shapes)


def _shapes(use_cache: bool):
    """The shapes graph of ``paths.shapes_file()`` and its compiled form: kept in memory per
    content, and pickled in the build cache, so a revalidation neither parses nor compiles
    them again."""
    from . import paths, shacl_sparql
    from .loader import parse_turtle
    from .validate import compiled_shapes

    digest = _digest(paths.shapes_file().read_bytes())
    if digest not in _SHAPES:
        name = f"shapes-{_digest(f'{__version__}{digest}'.encode())}.pickle"
        kept = _read(name) if use_cache else None
        if kept is None:
            shapes = parse_turtle(paths.shapes_file())
            kept = (shapes, shacl_sparql.compile_shapes(shapes))
            if use_cache:
                _write(name, kept)
        _SHAPES.clear()
        _SHAPES[digest] = kept
    shapes, compiled = _SHAPES[digest]
    compiled_shapes(shapes, compiled)  # remembered for fast_violations
    return shapes, compiled
