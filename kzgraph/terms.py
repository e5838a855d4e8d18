"""RDF terms between the engines: pyoxigraph terms are the canonical form of every answer.

An answer is held as pyoxigraph terms (`kzgraph.sparql.QueryResult.terms`), whichever engine
computed it; rdflib terms are made from them on demand. Oxigraph keeps typed literals by value
and writes them in their canonical form (XSD 1.1: ``51`` not ``51.0``, ``24.99`` not
``24.9900``, ``xsd:int`` read as ``xsd:integer``, UTC as ``Z``, language tags in lower case),
while rdflib keeps what it was given. `canonical` is the one place where an answer computed by
rdflib (or received from a server) is brought to those forms, and it asks Oxigraph itself, so
the two engines cannot drift apart: same answer, same terms, same bytes in every format.

Only ``import pyoxigraph`` is needed here; rdflib is imported when rdflib terms are asked for.
"""
from __future__ import annotations

from functools import partial

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
_RDF_LANG = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_SCRATCH = None  # an empty in-memory Oxigraph store that canonicalises literals


def _ox():
    import pyoxigraph

    return pyoxigraph


def is_oxigraph(term) -> bool:
    """True for a pyoxigraph term (NamedNode, BlankNode, Literal)."""
    return type(term).__module__ == "pyoxigraph"


def to_oxigraph(term):
    """An rdflib term (or a pyoxigraph term, returned as it is) as a pyoxigraph term, lexical
    form unchanged (see `canonical`). None stays None."""
    if term is None or is_oxigraph(term):
        return term
    ox = _ox()
    from rdflib import BNode, Literal

    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None and str(term.datatype) != XSD_STRING:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    return ox.NamedNode(str(term))


def needs_canonical(term) -> bool:
    """Whether Oxigraph might write this pyoxigraph term differently: a typed literal other
    than xsd:string, or a language tag with capitals."""
    if type(term).__name__ != "Literal":
        return False
    language = term.language
    if language is not None:
        return language != language.lower()
    return term.datatype.value != XSD_STRING


def canonical(terms) -> dict:
    """{term: Oxigraph's form of it} for the pyoxigraph literals in ``terms`` that need it
    (`needs_canonical`). One query on an empty in-memory store: Oxigraph reads every
    literal of a VALUES block by value and writes it back in its canonical form, exactly as
    it does for the literals of its own store."""
    global _SCRATCH
    todo = list(dict.fromkeys(t for t in terms if t is not None and needs_canonical(t)))
    if not todo:
        return {}
    ox = _ox()
    if _SCRATCH is None:
        _SCRATCH = ox.Store()
    rows = " ".join(f"({i} {term})" for i, term in enumerate(todo))
    out = {}
    for solution in _SCRATCH.query(f"SELECT ?i ?o WHERE {{ VALUES (?i ?o) {{ {rows} }} }}"):
        out[todo[int(solution[0].value)]] = solution[1]
    return out


def canonical_rows(rows) -> list[tuple]:
    """Rows of rdflib or pyoxigraph terms as rows of canonical pyoxigraph terms (each
    distinct term converted once)."""
    memo: dict = {}

    def convert(term):
        out = memo.get(term)
        if out is None:
            out = memo[term] = to_oxigraph(term)
        return out

    converted = [tuple(map(convert, row)) for row in rows]
    mapping = canonical(memo.values())
    if not mapping:
        return converted
    get = mapping.get
    return [tuple(get(t, t) for t in row) for row in converted]


class ToRdflib:
    """pyoxigraph terms → rdflib terms, memoised per answer (labels and classes repeat in
    every row; converting once is the cheap part of reading a large answer)."""

    def __init__(self) -> None:
        ox = _ox()
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
        elif not is_oxigraph(term):
            out = term  # already an rdflib term
        elif term.language:
            out = self.text(term.value, term.language)
        else:
            datatype = term.datatype.value
            out = (self.text(term.value, None) if datatype == XSD_STRING
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


def literal(value: str, datatype: str | None = None):
    """A pyoxigraph literal: ``value`` typed with the ``datatype`` IRI (a plain string when
    None)."""
    ox = _ox()
    if datatype is None or datatype == XSD_STRING:
        return ox.Literal(value)
    return ox.Literal(value, datatype=ox.NamedNode(datatype))


def iri(value: str):
    """A pyoxigraph NamedNode (raises ValueError for a string that is not an IRI)."""
    return _ox().NamedNode(value)
