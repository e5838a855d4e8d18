"""The one query runner: parses and vets SPARQL, binds parameters, runs it on an engine.

Every read in kzgraph (stats, checks, stored queries, the API) goes through `run`, so the
same code works on every engine. Queries are vetted before any engine sees them: SPARQL
Update, SERVICE and FROM/FROM NAMED are refused, because rdflib and Oxigraph would
otherwise fetch remote data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .errors import InputError

MAX_QUERY_LENGTH = 64 * 1024


class QuerySyntaxError(InputError):
    """A malformed query; carries the 1-based line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.line, self.column, self.detail = line, column, message
        where = f" at line {line}, column {column}" if line else ""
        super().__init__(f"SPARQL syntax error{where}: {message}")


class QueryRefused(InputError):
    """A well-formed query kzgraph will not run (update, SERVICE, FROM ...). ``reason`` says
    which rule: "policy" (update, LOAD, SERVICE), "dataset" (FROM) or "length"."""

    def __init__(self, message: str, reason: str = "policy") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Prepared:
    """A vetted query: its text, form and projected variables, plus the parsed rdflib query."""

    text: str
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    variables: tuple[str, ...]
    parsed: Any = field(repr=False, compare=False, default=None)


@dataclass
class QueryResult:
    """What a query returns: rows of rdflib terms (SELECT), a boolean (ASK) or a graph."""

    form: str
    variables: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    boolean: bool | None = None
    graph: Any = None

    def __len__(self) -> int:
        if self.form == "ASK":
            return int(bool(self.boolean))
        return len(self.graph) if self.graph is not None else len(self.rows)

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as dicts of Python values (str, int, Decimal, date, ...); unbound → None."""
        return [{v: to_python(t) for v, t in zip(self.variables, row)} for row in self.rows]


def to_python(term) -> Any:
    """rdflib term → Python value: IRIs and blank nodes to str, literals to their value."""
    from rdflib import Literal

    if term is None:
        return None
    if isinstance(term, Literal):
        value = term.toPython()
        return str(term) if isinstance(value, Literal) else value
    return str(term)


def _position(text: str, loc: int) -> tuple[int, int]:
    line = text.count("\n", 0, loc) + 1
    col = loc - (text.rfind("\n", 0, loc) + 1) + 1
    return line, col


@lru_cache(maxsize=512)
def prepare(text: str) -> Prepared:
    """Parse and vet a query (cached by text). Raises QuerySyntaxError or QueryRefused.

    Literals in the query keep their lexical form, as the loaded graph does, so that
    ``"…Z"^^xsd:dateTime`` in a query matches "…Z" in the graph (rdflib's SPARQL parser has no
    per-call switch, hence the scoped `kzgraph.loader.lexical_forms`)."""
    from .loader import lexical_forms

    with lexical_forms():
        return _prepare(text)


def _prepare(text: str) -> Prepared:
    from pyparsing import ParseException
    from rdflib.plugins.sparql import algebra
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    if len(text) > MAX_QUERY_LENGTH:
        raise QueryRefused(f"query is {len(text)} characters long; the limit is {MAX_QUERY_LENGTH}",
                           "length")
    try:
        tree = parseQuery(text)
    except ParseException as exc:
        try:
            parseUpdate(text)
        except Exception:
            line, col = _position(text, exc.loc)
            raise QuerySyntaxError(exc.msg, line, col) from None
        raise QueryRefused("SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP ...) is not allowed: "
                           "kzgraph is read-only") from None
    except Exception as exc:  # pyparsing can raise other errors on pathological input
        raise QuerySyntaxError(str(exc)) from None
    undeclared = _undeclared_prefixes(tree)
    # rdflib would accept its built-in prefixes (rdfs:, skos: ...) undeclared; Oxigraph not
    if undeclared is not None:
        raise QuerySyntaxError(f"unknown prefix '{undeclared}:' (declare it with PREFIX)")
    body = tree[1]
    if "datasetClause" in body.keys():
        raise QueryRefused("FROM and FROM NAMED are not allowed: kzgraph never loads remote or "
                           "file graphs; query the default graph", "dataset")
    try:
        query = algebra.translateQuery(tree)
    except Exception as exc:  # bad aggregate, ... (undeclared prefixes are caught above)
        raise QuerySyntaxError(str(exc)) from None

    def visit(node):
        if getattr(node, "name", None) == "ServiceGraphPattern":
            raise QueryRefused("SERVICE is not allowed: kzgraph never makes outbound requests")
        return None

    algebra.traverse(query.algebra, visitPre=visit)
    form = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
            "DescribeQuery": "DESCRIBE"}[query.algebra.name]
    variables = tuple(str(v) for v in query.algebra.get("PV", ())) if form == "SELECT" else ()
    return Prepared(text=text, form=form, variables=variables, parsed=query)


def _undeclared_prefixes(tree) -> str | None:
    """The first prefix used in a parsed query but not declared with PREFIX, or None."""
    from rdflib.plugins.sparql.parserutils import CompValue

    declared = {dict.get(decl, "prefix") or "" for decl in tree[0]
                if getattr(decl, "name", None) == "PrefixDecl"}
    stack = [tree[1]]
    while stack:  # iterative: deeply nested queries must not hit the recursion limit
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "pname":
                prefix = dict.get(node, "prefix") or ""
                if prefix not in declared:
                    return prefix
            stack.extend(node.values())
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)) or hasattr(node, "asList"):
            stack.extend(node)
    return None


def run(engine, text: str, bindings: dict[str, Any] | None = None) -> QueryResult:
    """Vet ``text`` and run it on ``engine`` with ``bindings`` (variable name → rdflib term)."""
    prepared = prepare(text)
    return engine.query(prepared, dict(bindings or {}))
