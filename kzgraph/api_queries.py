"""The SPARQL behind the Python API: the stored queries in ``queries/api/*.rq``.

They use the catalog's ``#+`` header format (title, description, typed parameters, example)
and run through `KZGraph.execute`, the one query runner, so the API works on every engine.
Parameters are bound as typed terms, never pasted into the text.

>>> sorted(stored())[:3]
['coverage-citations', 'coverage-sources', 'coverage-subjects']
>>> get("owners").params
Traceback (most recent call last):
...
kzgraph.catalog.UnknownQuery: no stored query named 'owners'; did you mean: ...
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from . import catalog, paths

_NUMERIC = {
    "http://www.w3.org/2001/XMLSchema#" + t
    for t in ("decimal", "integer", "int", "long", "short", "byte", "nonNegativeInteger",
              "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedInt",
              "unsignedLong", "unsignedShort", "unsignedByte")
}
_FLOAT = {"http://www.w3.org/2001/XMLSchema#double", "http://www.w3.org/2001/XMLSchema#float"}
_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"


def directory():
    """``queries/api`` in the checkout, ``kzgraph/data/queries/api`` in a wheel."""
    return paths.queries_dir() / "api"


@lru_cache(maxsize=1)
def stored() -> dict[str, catalog.StoredQuery]:
    """Every API query, by name (the file stem)."""
    return catalog.load(directory())


def get(name: str) -> catalog.StoredQuery:
    """The API query called ``name``; `kzgraph.catalog.UnknownQuery` otherwise."""
    return catalog.pick(stored(), name)


def run(kg, name: str, **params: Any):
    """Run the API query ``name`` on ``kg`` with typed parameters; the raw `QueryResult`."""
    query = get(name)
    bindings = catalog.bindings(query, {k: v for k, v in params.items() if v is not None})
    return kg.execute(query.text, bindings, stored=False)


def rows(kg, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run an API query and return its rows as dicts of `plain` values."""
    result = run(kg, name, **params)
    return [{v: plain(t) for v, t in zip(result.variables, row)} for row in result.rows]


def plain(term) -> Any:
    """An rdflib term as a plain value: IRIs as str, numbers as int/Decimal/float, booleans
    as bool, every other literal (strings, dates, durations) as its lexical form, so that
    dates of every precision come back exactly as the graph writes them, on every engine."""
    from rdflib import BNode, Literal

    if term is None:
        return None
    if isinstance(term, BNode):
        return f"_:{term}"
    if not isinstance(term, Literal):
        return str(term)
    datatype = str(term.datatype) if term.datatype else None
    text = str(term)
    try:
        if datatype == _NUMERIC_DECIMAL:
            return tidy(Decimal(text))
        if datatype in _NUMERIC:
            return int(Decimal(text))
        if datatype in _FLOAT:
            return float(text)
    except ArithmeticError:
        return text
    if datatype == _BOOLEAN:
        return text in ("true", "1")
    if datatype == _DATETIME and text.endswith("+00:00"):
        return text[:-6] + "Z"   # the graph writes UTC as "Z"; some stores rewrite it
    return text


_NUMERIC_DECIMAL = "http://www.w3.org/2001/XMLSchema#decimal"


def tidy(number: Decimal) -> Decimal:
    """A decimal without trailing zeros and never in exponent form, so that every engine's
    lexical form of the same value gives the same Decimal (rdflib keeps ``51.0``, Oxigraph
    writes ``51``).

    >>> tidy(Decimal("24.9900")), tidy(Decimal("80.0")), tidy(Decimal("1E+3"))
    (Decimal('24.99'), Decimal('80'), Decimal('1000'))
    """
    if not number.is_finite():
        return number
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()
