"""The validator: SHACL shapes (pySHACL) and the must-return-nothing SPARQL checks."""
from __future__ import annotations

from dataclasses import dataclass, field

from .namespaces import shorten

SH = "http://www.w3.org/ns/shacl#"
SUMMARY_AFTER = 20  # more violations than this: counts per shape and the first ones in full


@dataclass(frozen=True, order=True)
class Violation:
    """One SHACL result: what is wrong, where, and in which file the focus node is written."""

    focus: str
    path: str
    value: str
    message: str
    severity: str = "Violation"
    shape: str = ""
    source_file: str = ""
    component: str = ""   # the constraint component, e.g. "sh:ClassConstraintComponent"

    def text(self) -> str:
        where = f" [{self.source_file}]" if self.source_file else ""
        parts = [f"{self.severity}: {self.focus}{where}"]
        if self.path:
            parts.append(f"path {self.path}")
        if self.value:
            parts.append(f"value {self.value}")
        return ", ".join(parts) + f": {self.message}"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CheckFailure:
    """A quality-check query (queries/checks/NAME.rq) that returned rows."""

    check: str
    title: str
    rows: tuple[dict, ...]

    def text(self) -> str:
        lines = [f"Check {self.check} failed ({len(self.rows)} row(s)): {self.title}"]
        for row in self.rows:
            lines.append("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"check": self.check, "title": self.title, "rows": [dict(r) for r in self.rows]}


@dataclass
class Report:
    """The outcome of validation: SHACL violations and failing checks, both sorted."""

    violations: list[Violation] = field(default_factory=list)
    check_failures: list[CheckFailure] = field(default_factory=list)
    checks_run: int = 0
    inconsistencies: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not (self.violations or self.check_failures or self.inconsistencies)

    def to_dict(self) -> dict:
        return {"conforms": self.conforms, "violations": [v.to_dict() for v in self.violations],
                "check_failures": [c.to_dict() for c in self.check_failures],
                "checks_run": self.checks_run, "inconsistencies": list(self.inconsistencies)}

    def summary(self, first: int = 10) -> list[str]:
        """Violations per shape (most first), then the first ``first`` in full."""
        from collections import Counter

        counts = Counter(v.shape or "(no shape)" for v in self.violations)
        lines = ["Violations per shape:"]
        lines += [f"  {n:>7,}  {shape}" for shape, n in sorted(counts.items(),
                                                             key=lambda kv: (-kv[1], kv[0]))]
        lines.append(f"First {first} of {len(self.violations):,} (all of them: --format json):")
        lines += [v.text() for v in self.violations[:first]]
        return lines

    def text(self) -> str:
        if self.conforms:
            return (f"Conforms: 0 SHACL violations, {self.checks_run} quality checks passed, "
                    f"consistent under OWL RL.")
        lines = [f"Does not conform: {len(self.violations)} SHACL violation(s), "
                 f"{len(self.check_failures)} failing check(s), "
                 f"{len(self.inconsistencies)} OWL RL inconsistency(ies)."]
        if len(self.violations) > SUMMARY_AFTER:
            lines += self.summary()
        else:
            lines += [v.text() for v in self.violations]
        lines += [c.text() for c in self.check_failures]
        lines += [f"Inconsistent: {p}" for p in self.inconsistencies]
        return "\n".join(lines)


def _term(node) -> str:
    if node is None:
        return ""
    from rdflib import BNode, Literal, URIRef

    if isinstance(node, URIRef):
        return shorten(str(node))
    if isinstance(node, Literal):
        return node.n3() if len(node) < 200 else node.n3()[:200] + "…"
    if isinstance(node, BNode):
        return "[blank node]"
    return str(node)


def shacl_violations(data, shapes, ontology=None, origin: dict | None = None) -> list[Violation]:
    """Validate ``data`` (+ ``ontology`` for class hierarchy) against ``shapes`` with pySHACL.

    No inference, no owl:imports, nothing fetched. Returns sorted violations (empty = conforms).
    """
    import pyshacl
    from rdflib import Namespace

    sh = Namespace(SH)
    from .loader import lexical_forms

    # pySHACL sets rdflib.NORMALIZE_LITERALS to True when it is done, whatever it was before:
    # lexical_forms() gives the caller's setting back afterwards
    with lexical_forms():
        conforms, results, _ = pyshacl.validate(
            data, shacl_graph=shapes, ont_graph=ontology, inference="none",
            do_owl_imports=False, allow_warnings=False, meta_shacl=False, advanced=False,
        )
    origin = origin or {}
    out = []
    for r in results.subjects(sh.resultSeverity, None):
        focus = results.value(r, sh.focusNode)
        out.append(Violation(
            focus=_term(focus),
            path=_term(results.value(r, sh.resultPath)),
            value=_term(results.value(r, sh.value)),
            message=str(results.value(r, sh.resultMessage) or "constraint violated"),
            severity=_term(results.value(r, sh.resultSeverity)).removeprefix("sh:"),
            shape=_term(results.value(r, sh.sourceShape)),
            source_file=origin.get(focus, ""),
            component=_term(results.value(r, sh.sourceConstraintComponent)),
        ))
    return sorted(set(out))


def fast_violations(graph, shapes, origin: dict | None = None, *, engine=None,
                    progress=None) -> list[Violation]:
    """The same violations as `shacl_violations`, from the shapes compiled to SPARQL and run
    on Oxigraph (`kzgraph.shacl_sparql`); shapes the compiler refuses go to pySHACL.
    ``engine``: a store made by `kzgraph.shacl_sparql.load` (made here when None)."""
    from . import shacl_sparql

    compiled = compiled_shapes(shapes)
    engine = engine if engine is not None else shacl_sparql.load(graph)
    fallback = compiled.fallback(engine)
    out = shacl_sparql.run(engine, compiled, origin, graph=graph, progress=progress,
                           skip=fallback)
    if fallback:
        out += shacl_violations(graph, only(shapes, fallback), None, origin)
    return sorted(set(out))


_COMPILED: dict = {}


def compiled_shapes(shapes, compiled=None):
    """`kzgraph.shacl_sparql.compile_shapes`, memoised per shapes graph (``compiled``: the
    compiled form of ``shapes``, made elsewhere, to remember)."""
    from . import shacl_sparql

    key = (id(shapes), len(shapes))
    if compiled is not None:
        _COMPILED.clear()
        _COMPILED[key] = (shapes, compiled)
    if key not in _COMPILED:
        _COMPILED.clear()
        _COMPILED[key] = (shapes, shacl_sparql.compile_shapes(shapes))
    return _COMPILED[key][1]


def only(shapes, keep):
    """A copy of ``shapes`` in which only the shapes ``keep`` have targets (for pySHACL)."""
    import rdflib

    targets = {rdflib.URIRef(SH + p) for p in ("targetClass", "targetNode", "targetSubjectsOf",
                                               "targetObjectsOf")}
    reduced = rdflib.Graph()
    for s, p, o in shapes:
        if p in targets and s not in keep:
            continue
        reduced.add((s, p, o))
    return reduced


def run_checks(engine, directory=None, lexical=None) -> tuple[list[CheckFailure], int]:
    """Run every ``queries/checks/*.rq`` on ``engine``; return the failing ones and the count.
    A check whose header says ``#+ engine: memory`` looks at how literals are written, which
    only rdflib keeps: it runs on ``lexical`` (a memory engine) when one is given."""
    from . import catalog, sparql

    failures = []
    stored = catalog.checks(directory)
    for name, query in stored.items():
        wants_memory = query.fields.get("engine", [""])[0] == "memory"
        result = sparql.run(lexical if wants_memory and lexical is not None else engine,
                            query.text)
        rows = tuple(sorted(({k: _term(v) for k, v in zip(result.variables, row)}
                             for row in result.rows), key=lambda r: sorted(r.items())))
        if rows:
            failures.append(CheckFailure(name, query.title, rows))
    return failures, len(stored)


def validate_graph(graph, origin: dict | None = None, *, shapes=None, checks: bool = True,
                   consistency: bool = True, shacl: str = "compiled", progress=None) -> Report:
    """Validate a merged ontology + data graph: SHACL shapes, quality checks, OWL RL
    consistency. Returns a `Report`; never raises on a non-conforming graph. ``shacl``:
    "compiled" (shapes compiled to SPARQL on Oxigraph, `fast_violations`) or "pyshacl"."""
    from . import paths, shacl_sparql
    from .loader import parse_turtle

    shapes = shapes if shapes is not None else parse_turtle(paths.shapes_file())
    engine = shacl_sparql.load(graph)
    if shacl == "pyshacl":
        violations = shacl_violations(graph, shapes, None, origin)
    else:
        violations = fast_violations(graph, shapes, origin, engine=engine, progress=progress)
    report = Report(violations=violations)
    if checks:
        # The checks are plain SPARQL; Oxigraph answers them ~50x faster than rdflib, and the
        # differential tests prove both engines give the same rows for every check. They see
        # the default graph only (not the LEXICAL graph `shacl_sparql.load` adds); a check that
        # reads how literals are written runs on rdflib (`lexical`).
        from .engine import MemoryEngine

        report.check_failures, report.checks_run = run_checks(engine, lexical=MemoryEngine(graph))
    if consistency:
        from .reason import consistency_problems

        report.inconsistencies = consistency_problems(graph)
    return report
