"""The one loader: reads Turtle files into an rdflib graph, with file and line on errors.

Literals keep the lexical form the files give ("…Z" stays "…Z", "80.0" stays "80.0"), whatever
rdflib's process-wide ``rdflib.NORMALIZE_LITERALS`` says: the parser used here builds its
literals with ``normalize=False`` itself, so kzgraph never has to change that global for the
user's process (see docs/design.md, "Lexical forms").
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from .errors import InputError, ParseError


def literal(lexical: str, datatype=None, lang: str | None = None):
    """``rdflib.Literal`` with its lexical form kept, whatever ``rdflib.NORMALIZE_LITERALS`` is.

    >>> from rdflib import XSD
    >>> str(literal("2022-01-05T10:30:00Z", XSD.dateTime))
    '2022-01-05T10:30:00Z'
    """
    from rdflib import Literal

    return Literal(lexical, datatype=datatype, lang=lang, normalize=False)


@lru_cache(maxsize=1)
def _sink_class():
    """rdflib's Turtle sink, building literals with `literal`."""
    from rdflib.plugins.parsers.notation3 import RDFSink

    class KeepLexicalSink(RDFSink):
        def newLiteral(self, s, dt, lang):  # noqa: N802 (rdflib's name)
            return literal(s, datatype=dt or None, lang=None if dt else lang)

    return KeepLexicalSink


def _parse_turtle_text(text: str, graph, base: str) -> None:
    """What ``graph.parse(data=text, format="turtle", publicID=base)`` does, with the sink
    above (rdflib's TurtleParser.parse, minus the global-dependent literal constructor)."""
    from rdflib.plugins.parsers.notation3 import SinkParser

    parser = SinkParser(_sink_class()(graph), baseURI=graph.absolutize(base), turtle=True)
    parser.loadBuf(text)
    for prefix, namespace in parser._bindings.items():
        graph.bind(prefix, namespace)


def parse_turtle(path: Path | str, into=None):
    """Parse one Turtle file into ``into`` (a new rdflib Graph when None).

    Raises `ParseError` naming the file and the 1-based line; never fetches anything.
    Literals keep their lexical form (rdflib's defaults would turn "…Z" into "…+00:00"), so
    exports show what the files say and STR() agrees across engines.
    """
    import rdflib
    from rdflib.plugins.parsers.notation3 import BadSyntax

    path = Path(path)
    graph = rdflib.Graph() if into is None else into
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(str(path), line, "file is not valid UTF-8") from None
    try:
        _parse_turtle_text(text, graph, path.resolve().as_uri())
    except BadSyntax as exc:
        raise ParseError(str(path), exc.lines + 1, exc._why) from None
    except Exception as exc:  # rdflib raises assorted errors for bad IRIs, literals, prefixes
        raise ParseError(str(path), None, f"{type(exc).__name__}: {exc}") from None
    return graph


def unpickle(data: bytes):
    """``pickle.loads`` for a pickled rdflib graph, literals rebuilt with `literal` (rdflib's
    own unpickling calls ``Literal(lexical, ...)``, which normalises by default)."""
    import io
    import pickle

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "rdflib.term" and name == "Literal":
                return _unpickled_literal
            return super().find_class(module, name)

    return Unpickler(io.BytesIO(data)).load()


def _unpickled_literal(lexical, lang=None, datatype=None):
    return literal(lexical, datatype=datatype, lang=lang)


_lock = threading.RLock()
_depth = 0
_callers: list = []


@contextmanager
def lexical_forms() -> Iterator[None]:
    """Inside the block, rdflib keeps lexical forms (``rdflib.NORMALIZE_LITERALS = False``);
    afterwards the caller's setting is back. For the few places where rdflib itself builds
    literals from text and offers no per-call switch (the SPARQL parser reading literals in a
    query, another library such as pySHACL); nested and concurrent uses share one switch."""
    import rdflib

    global _depth
    with _lock:
        if _depth == 0:
            _callers.append(rdflib.NORMALIZE_LITERALS)
        _depth += 1
        rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                rdflib.NORMALIZE_LITERALS = _callers.pop()
            else:
                rdflib.NORMALIZE_LITERALS = False


def keep_lexical_forms() -> None:
    """Turn rdflib's literal normalisation off for the whole process.

    For scripts that parse with rdflib directly and want the files' lexical forms (the
    benchmarks); kzgraph itself never calls it (it uses `parse_turtle`, `unpickle`, `literal`
    and `lexical_forms`)."""
    import rdflib

    rdflib.NORMALIZE_LITERALS = False


def load_files(paths: Iterable[Path | str], parse=None, *, merge=None):
    """Merge Turtle files into one graph; also return which file each subject came from.
    ``parse(path)`` reads one file (default `parse_turtle`); or ``merge(path, graph)`` adds
    one file's triples to the merged graph itself and returns that file's subjects
    (`kzgraph.incremental`'s per-file cache: the triples are added once, not copied)."""
    import rdflib

    from .progress import bar

    paths = list(paths)
    sizes = [Path(p).stat().st_size if Path(p).is_file() else 0 for p in paths]
    graph = rdflib.Graph()
    origin: dict = {}
    # A bar only for big inputs (and only on a terminal: see kzgraph.progress).
    with bar("loading", total=sum(sizes), show=sum(sizes) > 5_000_000) as advance:
        for path, size in zip(paths, sizes):
            name = Path(path).name
            if merge is not None:
                subjects = merge(path, graph)
            else:
                part = (parse or parse_turtle)(path)
                subjects = part.subjects(unique=True)
                graph += part
            for s in subjects:
                origin.setdefault(s, name)
            advance(size)
    return graph, origin
