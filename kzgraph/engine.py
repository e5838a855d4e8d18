"""Engines answer vetted SPARQL. The in-memory rdflib engine is the default."""
from __future__ import annotations

from functools import partial
from typing import Protocol

from .sparql import Prepared, QueryResult


class Engine(Protocol):
    """What the query runner needs from a store."""

    name: str

    def query(self, prepared: Prepared, bindings: dict) -> QueryResult: ...

    def __len__(self) -> int: ...


class MemoryEngine:
    """rdflib's in-memory store; SPARQL evaluated by rdflib."""

    name = "memory"

    def __init__(self, graph) -> None:
        import rdflib.plugins.sparql as rdflib_sparql

        # FROM / FROM NAMED / LOAD must never fetch (kzgraph.sparql also refuses them).
        rdflib_sparql.SPARQL_LOAD_GRAPHS = False
        self.graph = graph

    def __len__(self) -> int:
        return len(self.graph)

    def query(self, prepared: Prepared, bindings: dict) -> QueryResult:
        result = self.graph.query(prepared.parsed, initBindings=bindings or None)
        if prepared.form == "ASK":
            return QueryResult("ASK", boolean=bool(result.askAnswer))
        if prepared.form in ("CONSTRUCT", "DESCRIBE"):
            import rdflib

            graph = rdflib.Graph()
            for triple in result:
                graph.add(triple)
            return QueryResult(prepared.form, graph=graph)
        variables = [str(v) for v in result.vars]
        return QueryResult("SELECT", variables=variables, rows=[tuple(r) for r in result])


class _FromOxigraph:
    """pyoxigraph terms → rdflib terms, memoised per result (labels and classes repeat in
    every row; converting once is the cheap part of reading a large answer)."""

    def __init__(self) -> None:
        import pyoxigraph as ox
        from rdflib import BNode, Literal, URIRef

        # Oxigraph only holds valid IRIs: rdflib's per-IRI validity check can be skipped
        self.kinds = {ox.NamedNode: partial(str.__new__, URIRef), ox.BlankNode: BNode}
        self.Literal, self.URIRef = Literal, URIRef
        self.memo: dict = {None: None}
        self.languages: set[str] = set()

    def __call__(self, term):
        out = self.memo.get(term, self)
        if out is not self:
            return out
        kind = self.kinds.get(type(term))
        if kind is not None:
            out = kind(term.value)
        elif term.language:
            out = self.text(term.value, term.language)
        else:
            datatype = term.datatype.value
            out = (self.text(term.value, None) if datatype == _XSD_STRING
                   else self.Literal(term.value, datatype=self.URIRef(datatype), normalize=False))
        self.memo[term] = out
        return out

    def text(self, value: str, language: str | None):
        """``Literal(value, lang=language)`` for a plain or language-tagged string, built
        directly: rdflib's constructor checks the tag with a regex and tries to cast the
        text on every call, half the cost of reading a large answer (23,809 labels at 1M
        triples: 0.2 s). The tag is still checked by rdflib, once per distinct tag, and
        tests/test_sparql.py holds this equal to the constructor slot by slot (rdflib is
        pinned)."""
        if language is not None and language not in self.languages:
            self.languages.add(language)
            return self.Literal(value, lang=language)
        out = str.__new__(self.Literal, value)
        out._language, out._datatype, out._value, out._ill_typed = language, None, value, None
        return out


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def collect(prepared: Prepared, result, tick=None) -> QueryResult:
    """Read a pyoxigraph query result into a `QueryResult` of rdflib terms. ``tick(count)``,
    when given, is called before each row (the server uses it to stop at a cap or deadline)."""
    if prepared.form == "ASK":
        return QueryResult("ASK", boolean=bool(result))
    convert = _FromOxigraph()
    if prepared.form in ("CONSTRUCT", "DESCRIBE"):
        import rdflib

        graph = rdflib.Graph()
        for count, t in enumerate(result, 1):
            if tick is not None:
                tick(count)
            graph.add((convert(t.subject), convert(t.predicate), convert(t.object)))
        return QueryResult(prepared.form, graph=graph)
    variables = [v.value for v in result.variables]
    if tick is None:  # a solution iterates over its values in variable order
        rows = [tuple(map(convert, solution)) for solution in result]
    else:
        rows = []
        for count, solution in enumerate(result, 1):
            tick(count)
            rows.append(tuple(map(convert, solution)))
    return QueryResult("SELECT", variables=variables, rows=rows)


class OxigraphEngine:
    """pyoxigraph's store: same queries, Rust evaluation. Queries arrive already vetted."""

    name = "oxigraph"

    def __init__(self, store=None) -> None:
        import pyoxigraph

        self.store = store if store is not None else pyoxigraph.Store()

    @classmethod
    def from_graph(cls, graph) -> "OxigraphEngine":
        from .export import to_ntriples

        return cls.from_ntriples(to_ntriples(graph))

    @classmethod
    def from_ntriples(cls, data: bytes) -> "OxigraphEngine":
        import pyoxigraph

        engine = cls()
        engine.store.bulk_load(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
        return engine

    def __len__(self) -> int:
        return len(self.store)

    def query(self, prepared: Prepared, bindings: dict) -> QueryResult:
        return collect(prepared, self.evaluate(prepared, bindings))

    def evaluate(self, prepared: Prepared, bindings: dict):
        """Oxigraph's lazy result for the query with its parameters written in. A query that
        rdflib accepts and Oxigraph does not (``SELECT *`` with ``GROUP BY``, a variable bound
        twice ...) raises `QuerySyntaxError` with Oxigraph's position, never a traceback."""
        import re

        from .sparql import QuerySyntaxError

        try:
            return self.store.query(self.text(prepared, bindings))
        except SyntaxError as exc:
            first = str(exc).split("\n", 1)[0]
            match = re.match(r"error at (\d+):(\d+): (.*)", first)
            if match is None:
                raise QuerySyntaxError(f"Oxigraph refuses the query: {first[:300]}") from None
            raise QuerySyntaxError(f"Oxigraph refuses the query: {match.group(3)[:300]}",
                                   int(match.group(1)), int(match.group(2))) from None

    @staticmethod
    def text(prepared: Prepared, bindings: dict) -> str:
        """The query with its parameters written in as constants (`substitute`): Oxigraph
        plans constants well, while its ``substitutions=`` argument joins the bindings in
        front of the query and can cost a full scan (search at 1M triples: 1.6 s vs 0.4 s)."""
        return substitute(prepared.text, bindings) if bindings else prepared.text


# -- any SPARQL 1.1 server -----------------------------------------------------------------------

_TOKEN = None


def _tokens(text: str):
    """Split vetted SPARQL text into (kind, text) tokens: comment, string, iri, var, word,
    punct, space. Only variables are ever rewritten; everything else is copied verbatim."""
    import re

    global _TOKEN
    if _TOKEN is None:
        _TOKEN = re.compile(r'''
            (?P<comment>\#[^\n]*)
          | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|'\'\'(?:[^'\\]|\\.|'(?!''))*'\'\'
                      |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
          | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
          | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
          | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
          | (?P<space>\s+)
          | (?P<punct>.)''', re.X | re.S)
    for match in _TOKEN.finditer(text):
        yield match.lastgroup, match.group()


def substitute(text: str, bindings: dict) -> str:
    """Bind variables the way rdflib's initBindings and SEP-0007 do: every occurrence of a
    bound ``?var`` becomes the constant, and ``?var`` in the outermost projection becomes
    ``(constant AS ?var)``, so the answer still has the column (in a sub-SELECT's projection it becomes ``(constant AS ?kzgraph_bound_var)``).

    Safe by construction: the query is cut into tokens (strings, IRIs and comments are
    opaque), only variable tokens are replaced, and each replacement is the term's own
    escaped serialisation (rdflib ``.n3()``; IRIs — also datatype IRIs — with forbidden
    characters are refused). The remote engine re-parses and re-vets the result
    (`kzgraph.sparql.prepare`) before sending it; Oxigraph's query API is read-only.
    """
    from rdflib import Literal, URIRef

    from .errors import InputError

    def iri(name: str, value: str) -> str:
        if any(c in value for c in '<>"{}|^`\\') or any(ord(c) <= 0x20 for c in value):
            raise InputError(f"parameter {name!r}: not a valid IRI: {value!r}")
        return f"<{value}>"

    if not bindings:
        return text
    terms = {}
    for name, term in bindings.items():
        if isinstance(term, URIRef):
            terms[name] = iri(name, str(term))
        elif isinstance(term, Literal):
            if term.datatype is not None:
                iri(name, str(term.datatype))
            terms[name] = term.n3()
        else:
            raise InputError(f"parameter {name!r}: {term!r} cannot be written into a query "
                             "(give an IRI or a literal)")
    out: list[str] = []
    clause = None  # "select", "group" or "order" while in those clauses
    depth = clause_depth = braces = 0
    outer = False  # in the outermost SELECT clause (sub-SELECTs are inside braces)
    last = ""  # the previous significant token, upper-cased when a keyword
    for kind, tok in _tokens(text):
        if kind == "word":
            upper = tok.upper()
            if upper == "SELECT":
                clause, clause_depth, outer = "select", depth, braces == 0
            elif upper == "BY" and last in ("GROUP", "ORDER"):
                clause, clause_depth = last.lower(), depth
            elif upper in ("WHERE", "FROM", "HAVING", "LIMIT", "OFFSET", "VALUES", "GROUP",
                           "ORDER"):
                clause = None
        elif kind == "punct":
            if tok == "(":
                depth += 1
            elif tok == ")":
                depth -= 1
            elif tok in "{}":
                braces += 1 if tok == "{" else -1
                clause = None
        elif kind == "var" and tok[1:] in terms and last != "AS":
            constant = terms[tok[1:]]
            if clause == "select" and depth == clause_depth:
                # A sub-SELECT projects the constant under a fresh name: re-projecting ?var
                # there would clash with the outer (constant AS ?var).
                tok = f"({constant} AS {tok if outer else '?kzgraph_bound_' + tok[1:]})"
            elif clause in ("group", "order") and depth == clause_depth:
                tok = f"({constant})"
            else:
                tok = constant
        if kind not in ("space", "comment"):
            last = tok.upper() if kind == "word" else tok
        out.append(tok)
    return "".join(out)


def _json_term(cell):
    from rdflib import BNode, Literal, URIRef

    if cell is None:
        return None
    kind = cell["type"]
    if kind == "uri":
        return URIRef(cell["value"])
    if kind == "bnode":
        return BNode(cell["value"])
    if cell.get("xml:lang"):
        return Literal(cell["value"], lang=cell["xml:lang"])
    datatype = cell.get("datatype")
    if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
        return Literal(cell["value"], datatype=URIRef(datatype), normalize=False)
    return Literal(cell["value"])


class RemoteEngine:
    """Any SPARQL 1.1 server, spoken to with the SPARQL 1.1 Protocol (POST
    ``application/sparql-query``). Queries are vetted here first like on every engine;
    parameters are substituted into the text as escaped constants (`substitute`), because a
    protocol request cannot carry bindings. Put ``?default-graph-uri=IRI`` in the URL to read
    a named graph. Only ``http``/``https`` URLs; nothing is loaded or validated locally."""

    name = "remote"

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        from urllib.parse import urlsplit

        from .errors import InputError

        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise InputError(f"not an http(s) SPARQL endpoint URL: {url!r}")
        self.url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RemoteEngine({self.url!r})"

    def _post(self, text: str, accept: str) -> bytes:
        import urllib.request

        request = urllib.request.Request(
            self.url, data=text.encode("utf-8"), method="POST",
            headers={"Content-Type": "application/sparql-query; charset=utf-8",
                     "Accept": accept, "User-Agent": "kzgraph"})
        return _send(request, self.timeout, "the SPARQL server")

    def __len__(self) -> int:
        from .sparql import prepare

        result = self.query(prepare("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"), {})
        return int(result.rows[0][0])

    def query(self, prepared: Prepared, bindings: dict) -> QueryResult:
        import json

        from .loader import lexical_forms
        from .sparql import prepare

        text = prepared.text
        if bindings:
            text = substitute(text, bindings)
            again = prepare(text)  # the rewritten query is vetted again
            if again.form != prepared.form or again.variables != prepared.variables:
                raise RuntimeError("parameter substitution changed the query's shape")
        if prepared.form in ("CONSTRUCT", "DESCRIBE"):
            import rdflib

            data = self._post(text, "application/n-triples")
            graph = rdflib.Graph()
            with lexical_forms():  # rdflib's N-Triples parser has no per-call switch
                graph.parse(data=data.decode("utf-8"), format="nt")
            return QueryResult(prepared.form, graph=graph)
        answer = json.loads(self._post(text, "application/sparql-results+json"))
        if prepared.form == "ASK":
            return QueryResult("ASK", boolean=bool(answer["boolean"]))
        variables = list(answer["head"].get("vars", []))
        rows = [tuple(_json_term(b.get(v)) for v in variables)
                for b in answer["results"]["bindings"]]
        return QueryResult("SELECT", variables=variables, rows=rows)


def publish(graph, endpoint: str, graph_iri: str | None = None, timeout: float = 600.0) -> int:
    """Upload ``graph`` to a SPARQL 1.1 Graph Store (``endpoint``: the Graph Store Protocol
    URL, e.g. ``http://host:7878/store`` for Oxigraph) with PUT, which *replaces* the target
    graph (``?graph=IRI``, else ``?default``): running it twice leaves no duplicates. Returns
    the number of bytes sent."""
    import urllib.request
    from urllib.parse import quote, urlsplit

    from .errors import InputError
    from .export import to_ntriples

    if urlsplit(endpoint).scheme not in ("http", "https") or not urlsplit(endpoint).netloc:
        raise InputError(f"not an http(s) Graph Store URL: {endpoint!r}")
    if graph_iri is not None and (not urlsplit(graph_iri).scheme
                                  or any(c in graph_iri for c in '<>" {}|\\^`')):
        raise InputError(f"--graph must be an absolute IRI, got {graph_iri!r}")
    target = "graph=" + quote(graph_iri, safe="") if graph_iri else "default"
    url = endpoint + ("&" if "?" in endpoint else "?") + target
    data = to_ntriples(graph)
    from .progress import bar

    chunk = 1 << 20

    def body():
        with bar("publishing", total=len(data)) as advance:
            for start in range(0, len(data), chunk):
                yield data[start:start + chunk]
                advance(min(chunk, len(data) - start))

    request = urllib.request.Request(url, data=body(), method="PUT", headers={
        "Content-Type": "application/n-triples", "Content-Length": str(len(data)),
        "User-Agent": "kzgraph"})
    _send(request, timeout, "the Graph Store")
    return len(data)


def _send(request, timeout: float, service: str) -> bytes:
    """Send one HTTP request; the response body, or a `KzGraphError` naming the URL and the
    server's own message (never a traceback)."""
    import urllib.error
    import urllib.request

    from .errors import KzGraphError

    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read(500).decode("utf-8", "replace").strip()
        raise KzGraphError(f"{request.full_url}: HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise KzGraphError(f"{request.full_url}: cannot reach {service}: "
                           f"{getattr(exc, 'reason', exc)}") from None
