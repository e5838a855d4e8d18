"""The one query runner: parses and vets SPARQL, binds parameters, runs it on an engine.

Every read in kzgraph (stats, checks, stored queries, the API) goes through `run`, so the
same code works on every engine. Queries are vetted before any engine sees them: SPARQL
Update, LOAD and SERVICE are refused, because rdflib and Oxigraph would otherwise write or
fetch remote data; FROM / FROM NAMED (and a protocol dataset) may name only the graph's own
named graphs (`kzgraph.dataset`), checked in `run` before the engine is called.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .errors import InputError

MAX_QUERY_LENGTH = 64 * 1024
#: The base IRI of relative IRIs in a query without BASE (``<kcell>`` is kz:kcell), the same
#: on every local engine; the SPARQL 1.1 Protocol leaves it to the service.
BASE_IRI = "https://w3id.org/kzgraph/id/"


class QuerySyntaxError(InputError):
    """A malformed query; carries the 1-based line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.line, self.column, self.detail = line, column, message
        where = f" at line {line}, column {column}" if line else ""
        super().__init__(f"SPARQL syntax error{where}: {message}")


class QueryRefused(InputError):
    """A well-formed query kzgraph will not run (update, LOAD, SERVICE, too long). ``reason``
    says which rule: "policy" (update, LOAD, SERVICE) or "length". (A FROM naming an unknown
    graph is a `kzgraph.dataset.UnknownGraph`.)"""

    def __init__(self, message: str, reason: str = "policy") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Prepared:
    """A vetted query: its text, form and projected variables. ``parsed`` (rdflib's algebra,
    which only the memory engine needs) is made on first use: a stored query whose verdict
    is known (`known_verdict`) runs on Oxigraph without loading rdflib's SPARQL parser."""

    text: str
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    variables: tuple[str, ...]
    _parsed: Any = field(repr=False, compare=False, default=None)
    #: (variable, separator) of every projected GROUP_CONCAT (see `canonical_order`)
    concat: tuple[tuple[str, str], ...] = ()
    #: the dataset of the query's FROM / FROM NAMED clauses, None without them
    dataset: Any = None

    def light(self) -> "Prepared":
        """The same verdict without rdflib's parsed query (what is pickled to a worker)."""
        return Prepared(self.text, self.form, self.variables, concat=self.concat,
                        dataset=self.dataset)

    @property
    def parsed(self):
        """rdflib's parsed query (parsed and vetted now when the verdict came from the
        cache)."""
        if self._parsed is None:
            object.__setattr__(self, "_parsed", _vet(self.text).parsed)
        return self._parsed

    algebra = parsed

    @property
    def from_cache(self) -> bool:
        """Whether no rdflib parse has been needed yet (the verdict came from the cache)."""
        return self._parsed is None


class QueryResult:
    """What a query returns: rows (SELECT), a boolean (ASK) or a graph (CONSTRUCT/DESCRIBE).

    Rows are held as canonical pyoxigraph terms (``terms``, see `kzgraph.terms`) whichever
    engine answered, so every engine gives the same terms and the same bytes; ``rows`` are
    the same as rdflib terms, made on first use. Rows of rdflib terms given to the
    constructor are canonicalised here, the one place where that happens."""

    def __init__(self, form: str, variables=None, rows=None, boolean: bool | None = None,
                 graph: Any = None, *, terms=None) -> None:
        self.form = form
        self.variables = list(variables or [])
        self.boolean = boolean
        self.graph = graph
        if terms is None:
            from .terms import canonical_rows

            terms = canonical_rows(rows or [])
        self.terms: list[tuple] = terms
        self._rows: list[tuple] | None = None

    @property
    def rows(self) -> list[tuple]:
        """The rows as rdflib terms (unbound → None)."""
        if self._rows is None:
            from .terms import ToRdflib

            convert = ToRdflib()
            self._rows = [tuple(map(convert, row)) for row in self.terms]
        return self._rows

    def __len__(self) -> int:
        if self.form == "ASK":
            return int(bool(self.boolean))
        return len(self.graph) if self.graph is not None else len(self.terms)

    def __repr__(self) -> str:
        return f"<QueryResult {self.form} {len(self)}>"

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
    per-call switch, hence the scoped `kzgraph.loader.lexical_forms`).

    A packaged query (``queries/**/*.rq``) that an earlier run vetted is taken from the
    verdicts kept in the build cache (`known_verdict`, keyed by the SHA-256 of the text, so
    only that exact text matches); every other text is parsed and vetted here."""
    known = known_verdict(text)
    if known is not None:
        return known
    from .loader import lexical_forms

    with lexical_forms():
        return _vet(text)


def _vet(text: str) -> Prepared:
    """Parse ``text`` with rdflib and apply every rule (the full vetting)."""
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
    try:
        query = algebra.translateQuery(tree, base=BASE_IRI)
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
    return Prepared(text=text, form=form, variables=variables, _parsed=query,
                    concat=_group_concats(query.algebra, variables),
                    dataset=_dataset_clause(query.algebra))


def _dataset_clause(tree):
    """The `kzgraph.dataset.Dataset` of FROM / FROM NAMED (IRIs as written, prefixes
    expanded), or None when the query has neither."""
    clauses = tree.get("datasetClause") or ()
    if not clauses:
        return None
    from .dataset import Dataset

    # dict.get: CompValue.get answers a missing key with the key's own name
    default = [str(dict.get(c, "default")) for c in clauses if dict.get(c, "default") is not None]
    named = [str(dict.get(c, "named")) for c in clauses if dict.get(c, "named") is not None]
    return Dataset(tuple(default), tuple(named))


def _group_concats(tree, variables) -> tuple[tuple[str, str], ...]:
    """(variable, separator) for the projected variables bound to a GROUP_CONCAT."""
    from rdflib.plugins.sparql import algebra

    separators: dict[str, str] = {}
    bound: dict[str, str] = {}

    def visit(node):
        name = getattr(node, "name", None)
        if name == "Aggregate_GroupConcat":
            separator = node.get("separator")
            separators[str(node.res)] = " " if separator is None else str(separator)
        elif name == "Extend" and type(node.expr).__name__ == "Variable":
            bound[str(node.var)] = str(node.expr)
        return None

    algebra.traverse(tree, visitPre=visit)
    return tuple((v, separators[bound[v]]) for v in variables
                 if v in bound and bound[v] in separators)


def canonical_order(prepared: Prepared, result: QueryResult) -> QueryResult:
    """GROUP_CONCAT gives its items in an order of the engine's choosing (SPARQL leaves it
    open; rdflib and Oxigraph differ). Here the items of every projected GROUP_CONCAT are
    put in code-point order and the value made a simple literal (as SPARQL 1.1 defines it;
    Oxigraph keeps a shared language tag), so every engine answers the same. An empty
    GROUP_CONCAT is left unbound, as Oxigraph leaves it when every item is an error (an
    unbound ``STR(?x)``); rdflib skips the errors and answers ``""``."""
    if not prepared.concat or result.form != "SELECT" or not result.terms:
        return result
    from .terms import literal

    columns = [(result.variables.index(v), sep) for v, sep in prepared.concat
               if v in result.variables]
    rows = []
    for row in result.terms:
        row = list(row)
        for i, sep in columns:
            if row[i] is not None and type(row[i]).__name__ == "Literal":
                value = row[i].value
                row[i] = None if value == "" else literal(
                    sep.join(sorted(value.split(sep))) if sep else "".join(sorted(value)))
        rows.append(tuple(row))
    return QueryResult(result.form, result.variables, terms=rows)


# -- verdicts of the packaged queries, kept in the build cache --------------------------------

_VERDICTS: tuple | None = None  # (cache folder, verdicts)


def _verdict_key() -> str:
    """Verdicts hold for one kzgraph version and one text of these vetting rules."""
    import hashlib
    from pathlib import Path

    from . import __version__

    return hashlib.sha256(__version__.encode() + b"\0" + Path(__file__).read_bytes()).hexdigest()


def _text_key(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def known_verdict(text: str) -> Prepared | None:
    """The `Prepared` of a packaged query whose verdict is in the build cache, else None."""
    global _VERDICTS
    from . import cache

    folder = cache.cache_dir()
    if _VERDICTS is None or _VERDICTS[0] != folder:  # read once per cache folder
        _VERDICTS = (folder, cache.lookup_verdicts(_verdict_key()) or {})
    hit = _VERDICTS[1].get(_text_key(text))
    if hit is None:
        return None
    dataset = None
    if len(hit) > 3 and hit[3] is not None:
        from .dataset import Dataset

        dataset = Dataset(tuple(hit[3][0]), tuple(hit[3][1]))
    return Prepared(text=text, form=hit[0], variables=tuple(hit[1]),
                    concat=tuple(tuple(pair) for pair in hit[2]), dataset=dataset)


def store_verdicts(texts) -> int:
    """Vet ``texts`` (the packaged queries) and keep the verdicts of those accepted in the
    build cache; returns how many. Refused or broken texts are never kept."""
    global _VERDICTS
    from . import cache

    verdicts = {}
    for text in texts:
        try:
            prepared = _vet(text)
        except InputError:
            continue
        verdicts[_text_key(text)] = _record(prepared)
    cache.store_verdicts(_verdict_key(), verdicts)
    _VERDICTS = None
    return len(verdicts)


def _record(prepared: Prepared) -> list:
    """A verdict as kept in the build cache (what `known_verdict` reads back)."""
    dataset = prepared.dataset
    return [prepared.form, list(prepared.variables), [list(pair) for pair in prepared.concat],
            None if dataset is None else [list(dataset.default), list(dataset.named)]]


def keep_verdicts(prepared) -> None:
    """Add the verdicts of ``prepared`` (`Prepared` values of packaged queries, vetted in
    this process) to those kept in the build cache, so that the next process runs them
    without parsing them with rdflib (`kzgraph validate` keeps its checks' verdicts)."""
    global _VERDICTS
    from . import cache

    old = cache.lookup_verdicts(_verdict_key()) or {}
    new = dict(old)
    for p in prepared:
        new[_text_key(p.text)] = _record(p)
    if new != old:
        cache.store_verdicts(_verdict_key(), new)
        _VERDICTS = None


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


def run(engine, text: str, bindings: dict[str, Any] | None = None,
        dataset=None) -> QueryResult:
    """Vet ``text`` and run it on ``engine`` with ``bindings`` (variable name → rdflib term)
    on ``dataset`` (a `kzgraph.dataset.Dataset`; it replaces the query's FROM / FROM NAMED,
    as protocol parameters do). Every graph the dataset names must be one of the engine's
    named graphs (`kzgraph.dataset.UnknownGraph` otherwise), checked before the engine sees
    the query."""
    prepared = prepare(text)
    chosen = resolve_dataset(engine, prepared, dataset)
    if chosen is None:  # the service dataset: engines are called as they always were
        return canonical_order(prepared, engine.query(prepared, dict(bindings or {})))
    return canonical_order(prepared, engine.query(prepared, dict(bindings or {}),
                                                  dataset=chosen))


def resolve_dataset(engine, prepared: Prepared, dataset=None, known=None):
    """The dataset a vetted query runs on (protocol ``dataset`` before the text's FROM),
    checked against the known graphs (``known``, else the engine's); None for the service
    dataset. Raises `kzgraph.dataset.UnknownGraph`."""
    if dataset is None and prepared.dataset is None:
        return None
    from .dataset import check, effective, known_graphs

    chosen = effective(dataset, prepared.dataset)
    if chosen is not None:
        check(chosen, known_graphs(engine) if known is None else known)
    return chosen
