"""The one loader: reads Turtle files into an rdflib graph, with file and line on errors."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import InputError, ParseError


def keep_lexical_forms() -> None:
    """Make rdflib keep literals as written ("…Z" stays "…Z", "51.0" stays "51.0").

    rdflib normalises by default, also when unpickling a cached graph; kzgraph turns that off
    before it parses or unpickles anything, so exports and STR() match the source files."""
    import rdflib

    rdflib.NORMALIZE_LITERALS = False


def parse_turtle(path: Path | str, into=None):
    """Parse one Turtle file into ``into`` (a new rdflib Graph when None).

    Raises `ParseError` naming the file and the 1-based line; never fetches anything.
    Literals keep their lexical form (rdflib would turn "…Z" into "…+00:00" and "51.0" into
    "51.0"/"51" by value), so exports show what the files say and STR() agrees across engines.
    """
    import rdflib
    from rdflib.plugins.parsers.notation3 import BadSyntax

    keep_lexical_forms()

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
        graph.parse(data=text, format="turtle", publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        raise ParseError(str(path), exc.lines + 1, exc._why) from None
    except Exception as exc:  # rdflib raises assorted errors for bad IRIs, literals, prefixes
        raise ParseError(str(path), None, f"{type(exc).__name__}: {exc}") from None
    return graph


def load_files(paths: Iterable[Path | str], parse=None):
    """Merge Turtle files into one graph; also return which file each subject came from.
    ``parse(path)`` reads one file (default `parse_turtle`; `kzgraph.incremental` passes its
    per-file cache)."""
    import rdflib

    from .progress import bar

    paths = list(paths)
    sizes = [Path(p).stat().st_size if Path(p).is_file() else 0 for p in paths]
    graph = rdflib.Graph()
    origin: dict = {}
    # A bar only for big inputs (and only on a terminal: see kzgraph.progress).
    with bar("loading", total=sum(sizes), show=sum(sizes) > 5_000_000) as advance:
        for path, size in zip(paths, sizes):
            part = (parse or parse_turtle)(path)
            name = Path(path).name
            for s in part.subjects(unique=True):
                origin.setdefault(s, name)
            graph += part
            advance(size)
    return graph, origin
