"""kzgraph: the open knowledge graph of telecommunications and the internet in Kazakhstan.

>>> import kzgraph
>>> kg = kzgraph.load()                                  # doctest: +SKIP
>>> kg.query("internet-users")[0]["value"]               # doctest: +SKIP

Heavy libraries (rdflib, pySHACL, owlrl) are imported only when needed, so ``import kzgraph``
is cheap, and reading the cached graph with the default Oxigraph engine needs no rdflib.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["KZGraph", "KzGraphError", "InputError", "ParseError", "ValidationError", "load",
           "UnknownEntity", "AmbiguousEntity", "__version__"]

from .errors import (AmbiguousEntity, InputError, KzGraphError, ParseError, UnknownEntity,
                     ValidationError)


def load(paths=None, *, reasoning: bool = False, engine: str = "oxigraph",
         validate: bool = True, cache: bool = True) -> "KZGraph":
    """The packaged, validated graph (plus the user's Turtle ``paths`` merged in).

    ``engine`` is "oxigraph" (the default: a pyoxigraph store kept in the build cache),
    "memory" (rdflib in memory) or the http(s) URL of a SPARQL 1.1 query endpoint (e.g. ``http://127.0.0.1:7878/query``; nothing is loaded
    locally, the server answers every call). ``reasoning`` adds the OWL RL closure;
    ``validate=False`` skips SHACL and checks (not recommended); ``cache=False`` ignores the
    build cache. Raises `ParseError` for broken Turtle and `ValidationError` when the graph
    does not conform.
    """
    from .graph import KZGraph

    return KZGraph.open(paths, reasoning=reasoning, engine=engine, validate=validate, cache=cache)


def __getattr__(name: str):
    if name == "KZGraph":
        from .graph import KZGraph

        return KZGraph
    raise AttributeError(f"module 'kzgraph' has no attribute {name!r}")
