"""Engines answer vetted SPARQL: Oxigraph (the default; a store loaded from the build cache),
rdflib in memory, or any SPARQL 1.1 server. Every engine's answer is a `QueryResult` of
canonical terms, so they agree byte for byte.

Every engine serves the same dataset (`kzgraph.dataset`): the union default graph and one
named graph per source section; ``query(..., dataset=...)`` runs on the graphs a
`kzgraph.dataset.Dataset` selects (checked against the known graphs by the query runner)."""
from __future__ import annotations

from typing import Protocol

from .sparql import Prepared, QueryResult


class Engine(Protocol):
    """What the query runner needs from a store."""

    name: str

    def query(self, prepared: Prepared, bindings: dict, dataset=None) -> QueryResult: ...

    def __len__(self) -> int: ...


class MemoryEngine:
    """rdflib's in-memory store; SPARQL evaluated by rdflib. Answers are brought to
    Oxigraph's canonical terms by `QueryResult` (`kzgraph.terms.canonical`).

    ``graph`` (the plain union graph) answers every query without GRAPH or a dataset, as
    before; the others run on an rdflib ``Dataset`` made on first use: the union as its
    default graph and the named graphs ``named()`` returns (default: `kzgraph.dataset.split`
    of ``graph``). A selected dataset is applied as a FROM / FROM NAMED clause over that
    Dataset, which rdflib evaluates by copying the selected graphs (with
    ``SPARQL_LOAD_GRAPHS = False`` it never fetches a graph it lacks)."""

    name = "memory"

    def __init__(self, graph, named=None) -> None:
        import rdflib.plugins.sparql as rdflib_sparql

        # FROM / FROM NAMED / LOAD must never fetch (kzgraph.sparql checks them too).
        rdflib_sparql.SPARQL_LOAD_GRAPHS = False
        self.graph = graph
        self._named = named
        self._dataset = None

    def __len__(self) -> int:
        return len(self.graph)

    def named_parts(self) -> dict:
        """The named graphs: IRI → rdflib Graph."""
        if not isinstance(self._named, dict):
            from .dataset import split

            self._named = self._named() if self._named is not None else split(self.graph)
        return self._named

    @property
    def dataset(self):
        """The rdflib Dataset: ``graph`` as the default graph, plus the named graphs."""
        if self._dataset is None:
            import rdflib

            named = self.named_parts()
            ds = rdflib.Dataset(default_union=False)
            default = ds.default_graph
            for triple in self.graph:
                default.add(triple)
            for iri, part in named.items():
                target = ds.graph(rdflib.URIRef(iri))
                for triple in part:
                    target.add(triple)
            self._dataset = ds
        return self._dataset

    def query(self, prepared: Prepared, bindings: dict, dataset=None) -> QueryResult:
        target, query = self.graph, prepared.algebra
        if dataset is not None or _has_graph_pattern(query.algebra):
            import warnings

            target = self.dataset
            if dataset is not None:
                query = _with_dataset(query, dataset)
            with warnings.catch_warnings():
                # rdflib's own Dataset evaluation calls its deprecated default_context and
                # contexts() once per pattern: thousands of warnings no caller can act on
                warnings.filterwarnings("ignore", r"Dataset\.\w+ is deprecated",
                                        DeprecationWarning)
                return self._result(prepared, target.query(
                    query, initBindings=rdflib_bindings(bindings)))
        return self._result(prepared, target.query(query, initBindings=rdflib_bindings(bindings)))

    @staticmethod
    def _result(prepared: Prepared, result) -> QueryResult:
        """rdflib's result as a `QueryResult` (read inside the caller's warning filter)."""
        if prepared.form == "ASK":
            return QueryResult("ASK", boolean=bool(result.askAnswer))
        if prepared.form in ("CONSTRUCT", "DESCRIBE"):
            return QueryResult(prepared.form, graph=canonical_graph(result))
        variables = [str(v) for v in result.vars]
        return QueryResult("SELECT", variables=variables, rows=[tuple(r) for r in result])


def _has_graph_pattern(tree) -> bool:
    """Whether a query's algebra has a GRAPH pattern (rdflib answers those on a Dataset)."""
    from rdflib.plugins.sparql import algebra

    found = []

    def visit(node):
        if getattr(node, "name", None) == "Graph":
            found.append(node)
        return None

    algebra.traverse(tree, visitPre=visit)
    return bool(found)


def _with_dataset(query, dataset):
    """rdflib's parsed ``query`` with its FROM / FROM NAMED replaced by ``dataset``."""
    from rdflib import URIRef
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.plugins.sparql.sparql import Query

    clauses = [CompValue("DatasetClause", default=URIRef(iri)) for iri in dataset.default]
    clauses += [CompValue("DatasetClause", named=URIRef(iri)) for iri in dataset.named]
    main = CompValue(query.algebra.name, **dict(query.algebra))
    # no clause at all would mean "the whole store" to rdflib: the empty dataset is asked
    # for as one empty named graph (never fetched: SPARQL_LOAD_GRAPHS is False)
    main["datasetClause"] = clauses or [CompValue("DatasetClause",
                                                  named=URIRef("urn:kzgraph:empty"))]
    return Query(query.prologue, main)


def rdflib_bindings(bindings: dict) -> dict | None:
    """Bindings of pyoxigraph (or rdflib) terms as rdflib terms, for ``initBindings``."""
    if not bindings:
        return None
    from .terms import ToRdflib

    convert = ToRdflib()
    return {name: convert(term) for name, term in bindings.items()}


def canonical_graph(triples):
    """An rdflib Graph of ``triples`` with every literal in Oxigraph's canonical form."""
    import rdflib

    from .terms import ToRdflib, canonical, to_oxigraph

    triples = list(triples)
    objects = {o: to_oxigraph(o) for _, _, o in triples if isinstance(o, rdflib.Literal)}
    mapping = canonical(objects.values())
    convert = ToRdflib()
    graph = rdflib.Graph()
    for s, p, o in triples:
        if o in objects and objects[o] in mapping:
            o = convert(mapping[objects[o]])
        graph.add((s, p, o))
    return graph


#: kept for callers of the former name
def _FromOxigraph():  # noqa: N802
    from .terms import ToRdflib

    return ToRdflib()


def collect(prepared: Prepared, result, tick=None) -> QueryResult:
    """Read a pyoxigraph query result into a `QueryResult` (its terms are Oxigraph's own,
    canonical already). ``tick(count)``, when given, is called before each row (the server
    uses it to stop at a cap or deadline)."""
    if prepared.form == "ASK":
        return QueryResult("ASK", boolean=bool(result))
    if prepared.form in ("CONSTRUCT", "DESCRIBE"):
        import rdflib

        from .terms import ToRdflib

        convert = ToRdflib()
        graph = rdflib.Graph()
        for count, t in enumerate(result, 1):
            if tick is not None:
                tick(count)
            graph.add((convert(t.subject), convert(t.predicate), convert(t.object)))
        return QueryResult(prepared.form, graph=graph, terms=[])
    variables = [v.value for v in result.variables]
    if tick is None:  # a solution iterates over its values in variable order
        rows = [tuple(solution) for solution in result]
    else:
        rows = []
        for count, solution in enumerate(result, 1):
            tick(count)
            rows.append(tuple(solution))
    return QueryResult("SELECT", variables=variables, terms=rows)


class OxigraphEngine:
    """pyoxigraph's store: same queries, Rust evaluation. Queries arrive already vetted."""

    name = "oxigraph"

    def __init__(self, store=None) -> None:
        import pyoxigraph

        self.store = store if store is not None else pyoxigraph.Store()
        self._length: int | None = None

    @classmethod
    def from_graph(cls, graph) -> "OxigraphEngine":
        """An in-memory store of ``graph`` with its named graphs (`kzgraph.dataset.quads`)."""
        from .dataset import quads

        return cls.from_nquads(quads(graph))

    @classmethod
    def from_nquads(cls, data: bytes) -> "OxigraphEngine":
        import pyoxigraph

        engine = cls()
        engine.store.bulk_load(data, format=pyoxigraph.RdfFormat.N_QUADS)
        return engine

    @classmethod
    def from_ntriples(cls, data: bytes) -> "OxigraphEngine":
        import pyoxigraph

        engine = cls()
        engine.store.bulk_load(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
        return engine

    def __len__(self) -> int:
        """The triples of the default graph (the union; the named graphs repeat them)."""
        if self._length is None:
            if next(iter(self.store.named_graphs()), None) is None:
                self._length = len(self.store)
            else:
                result = self.store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
                self._length = int(next(iter(result))[0].value)
        return self._length

    def query(self, prepared: Prepared, bindings: dict, dataset=None) -> QueryResult:
        return collect(prepared, self.evaluate(prepared, bindings, dataset))

    def evaluate(self, prepared: Prepared, bindings: dict, dataset=None):
        """Oxigraph's lazy result for the query with its parameters written in, on
        ``dataset`` when given (Oxigraph's ``default_graph=`` / ``named_graphs=``, which
        replace the text's FROM / FROM NAMED). A query that rdflib accepts and Oxigraph does
        not (``SELECT *`` with ``GROUP BY``, a variable bound twice ...) raises
        `QuerySyntaxError` with Oxigraph's position, never a traceback."""
        import re

        from .sparql import QuerySyntaxError

        store, options = self.store, {}
        if dataset is not None and len(dataset.default) > 1:
            store = self._merged(dataset)  # the merge, and the named graphs, on their own
        elif dataset is not None:
            import pyoxigraph

            options = {"default_graph": [pyoxigraph.NamedNode(g) for g in dataset.default],
                       "named_graphs": [pyoxigraph.NamedNode(g) for g in dataset.named]}
        try:
            from .sparql import BASE_IRI

            return store.query(self.text(prepared, bindings), base_iri=BASE_IRI, **options)
        except SyntaxError as exc:
            first = str(exc).split("\n", 1)[0]
            match = re.match(r"error at (\d+):(\d+): (.*)", first)
            if match is None:
                raise QuerySyntaxError(f"Oxigraph refuses the query: {first[:300]}") from None
            raise QuerySyntaxError(f"Oxigraph refuses the query: {match.group(3)[:300]}",
                                   int(match.group(1)), int(match.group(2))) from None

    def _merged(self, dataset):
        """An in-memory store holding the RDF merge of ``dataset``'s default graphs as its
        default graph and its named graphs: Oxigraph 0.5 answers a default graph of several
        graphs with a triple they share once per graph (oxigraph issue #1919), where SPARQL
        asks for their merge (a set). Kept for the last few datasets."""
        import pyoxigraph

        cache = self.__dict__.setdefault("_merges", {})
        if dataset in cache:
            return cache[dataset]
        merged = pyoxigraph.Store()
        default = pyoxigraph.DefaultGraph()
        for graph in dataset.default:
            merged.extend(pyoxigraph.Quad(q.subject, q.predicate, q.object, default)
                          for q in self.store.quads_for_pattern(None, None, None,
                                                                pyoxigraph.NamedNode(graph)))
        for graph in dataset.named:
            merged.extend(self.store.quads_for_pattern(None, None, None,
                                                       pyoxigraph.NamedNode(graph)))
        while len(cache) >= 8:
            cache.pop(next(iter(cache)))
        cache[dataset] = merged
        return merged

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
    escaped serialisation (pyoxigraph's N-Triples form or rdflib ``.n3()``; IRIs — also datatype IRIs — with forbidden
    characters are refused). The remote engine re-parses and re-vets the result
    (`kzgraph.sparql.prepare`) before sending it; Oxigraph's query API is read-only.
    """
    from .errors import InputError

    def iri(name: str, value: str) -> str:
        if any(c in value for c in '<>"{}|^`\\') or any(ord(c) <= 0x20 for c in value):
            raise InputError(f"parameter {name!r}: not a valid IRI: {value!r}")
        return f"<{value}>"

    if not bindings:
        return text
    terms = {name: _constant(name, term, iri) for name, term in bindings.items()}
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


def _constant(name: str, term, iri) -> str:
    """The SPARQL text of one bound term: an IRI (checked by ``iri``) or an escaped literal.
    pyoxigraph terms need no rdflib (their ``str`` is the escaped N-Triples form)."""
    from .errors import InputError
    from .terms import is_oxigraph

    if is_oxigraph(term):
        kind = type(term).__name__
        if kind == "NamedNode":
            return iri(name, term.value)
        if kind == "Literal":
            if term.language is None:
                iri(name, term.datatype.value)
            return str(term)
    else:
        from rdflib import Literal, URIRef

        if isinstance(term, URIRef):
            return iri(name, str(term))
        if isinstance(term, Literal):
            if term.datatype is not None:
                iri(name, str(term.datatype))
            return term.n3()
    raise InputError(f"parameter {name!r}: {term!r} cannot be written into a query "
                     "(give an IRI or a literal)")


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
    a named graph; a query's own dataset (`kzgraph.dataset.Dataset`) is sent as
    ``default-graph-uri`` / ``named-graph-uri`` parameters instead of those of the URL. Only
    ``http``/``https`` URLs; nothing is loaded or validated locally."""

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

    def _url(self, dataset) -> str:
        """The endpoint URL for ``dataset``: the URL as given, or with its own dataset
        parameters replaced by those of ``dataset``."""
        if dataset is None:
            return self.url
        from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

        parts = urlsplit(self.url)
        pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                 if k not in ("default-graph-uri", "named-graph-uri")]
        pairs += [("default-graph-uri", g) for g in dataset.default]
        pairs += [("named-graph-uri", g) for g in dataset.named]
        return urlunsplit(parts._replace(query=urlencode(pairs)))

    def _post(self, text: str, accept: str, dataset=None) -> bytes:
        import urllib.request

        request = urllib.request.Request(
            self._url(dataset), data=text.encode("utf-8"), method="POST",
            headers={"Content-Type": "application/sparql-query; charset=utf-8",
                     "Accept": accept, "User-Agent": "kzgraph"})
        return _send(request, self.timeout, "the SPARQL server")

    def __len__(self) -> int:
        from .sparql import prepare

        result = self.query(prepare("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"), {})
        return int(result.rows[0][0])

    def query(self, prepared: Prepared, bindings: dict, dataset=None) -> QueryResult:
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

            data = self._post(text, "application/n-triples", dataset)
            graph = rdflib.Graph()
            with lexical_forms():  # rdflib's N-Triples parser has no per-call switch
                graph.parse(data=data.decode("utf-8"), format="nt")
            return QueryResult(prepared.form, graph=canonical_graph(graph))
        answer = json.loads(self._post(text, "application/sparql-results+json", dataset))
        if prepared.form == "ASK":
            return QueryResult("ASK", boolean=bool(answer["boolean"]))
        variables = list(answer["head"].get("vars", []))
        rows = [tuple(_json_term(b.get(v)) for v in variables)
                for b in answer["results"]["bindings"]]
        return QueryResult("SELECT", variables=variables, rows=rows)


def publish(graph, endpoint: str, graph_iri: str | None = None, timeout: float = 600.0,
            named: dict | None = None) -> int:
    """Upload ``graph`` to a SPARQL 1.1 Graph Store (``endpoint``: the Graph Store Protocol
    URL, e.g. ``http://host:7878/store`` for Oxigraph) with PUT, which *replaces* the target
    graph (``?graph=IRI``, else ``?default``): running it twice leaves no duplicates. Then
    each of the ``named`` graphs (IRI → rdflib Graph: the dataset's named graphs,
    `kzgraph.graph.KZGraph.named_graphs`) is PUT to its own IRI the same way. Returns the
    number of bytes sent."""
    sent = _put(graph, endpoint, graph_iri, timeout)
    for iri, part in sorted((named or {}).items()):
        sent += _put(part, endpoint, iri, timeout, label=f"publishing <{iri}>")
    return sent


def _put(graph, endpoint: str, graph_iri: str | None, timeout: float,
         label: str = "publishing") -> int:
    """PUT ``graph`` to one graph of the Graph Store; the bytes sent."""
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
        with bar(label, total=len(data)) as advance:
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
