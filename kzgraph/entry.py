"""The ``kzgraph`` console script: `kzgraph query NAME` without click, everything else by click.

The most common command, a stored query (``kzgraph [--engine E] query NAME [-p N=V ...]
[-f FORMAT]``), is recognised here and answered by `answer`, the same function the click
command calls, so only the reading of that one command line is done twice. Importing click
costs about as much as the whole query on a warm cache (40 ms of 150). Any other command line,
or anything unusual in this one (``--help``, a malformed ``-p``, an unknown format or option),
goes to click (`kzgraph.cli.main`), which parses, explains and fails exactly as it always does.
"""
from __future__ import annotations

import os
import re
import sys

FORMATS = ("table", "csv", "tsv", "json", "xml", "ttl", "nt", "jsonld")
_NAME = re.compile(r"[A-Za-z0-9][\w-]*")


def answer(load, name: str | None = None, params: dict | None = None,
           query_file=None, sparql_text: str | None = None, fmt: str = "table",
           graphs=None) -> str:
    """The output of ``kzgraph query``: the stored query ``name``, or the SPARQL in
    ``query_file`` or ``sparql_text``, run with ``params`` on the graph ``load()`` returns,
    in format ``fmt``; ``graphs`` (``--graph``, repeatable) runs it on those named graphs
    only (`kzgraph.dataset.Dataset.of`). Name, parameters and syntax are checked before the
    graph is loaded, so bad input fails fast. Raises `kzgraph.errors.InputError` on bad
    input (`kzgraph.dataset.UnknownGraph` for a graph that is not one of the named graphs)."""
    from . import sparql
    from .dataset import Dataset
    from .errors import InputError
    from .formats import render
    from .graph import KZGraph

    given = [x for x in (name, query_file, sparql_text) if x]
    if len(given) != 1:
        raise InputError("give exactly one of NAME, --file FILE or --sparql TEXT")
    if query_file:
        try:
            text = query_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{query_file}: cannot read: {exc}") from None
    else:
        text = sparql_text or name
    text, bindings = KZGraph.resolve(text, params or {}, stored=bool(name))
    try:
        sparql.prepare(text)
    except InputError as exc:
        if query_file:  # name the file, as for broken Turtle
            raise InputError(f"{query_file}: {exc}") from None
        raise
    return render(load().run(text, bindings, Dataset.of(graphs)), fmt)


def quick(args: list[str]):
    """(engine, name, params, format, graphs) when ``args`` is a plain stored-query command
    line, else None (then click handles it)."""
    engine = os.environ.get("KZGRAPH_ENGINE") or "oxigraph"
    if args[:1] == ["--engine"] and len(args) > 1:
        engine, args = args[1], args[2:]
    elif args and args[0].startswith("--engine="):
        engine, args = args[0].partition("=")[2], args[1:]
    if len(args) < 2 or args[0] != "query" or not _NAME.fullmatch(args[1]) or not engine:
        return None
    name, rest = args[1], args[2:]
    params: dict[str, str] = {}
    graphs: list[str] = []
    fmt = "table"
    while rest:
        option = rest.pop(0)
        if option in ("-p", "--param", "-f", "--format", "-g", "--graph"):
            if not rest:
                return None
            value = rest.pop(0)
        elif option.startswith(("--param=", "--format=", "--graph=")):
            option, _, value = option.partition("=")
        else:
            return None
        if option in ("-p", "--param"):
            key, sep, val = value.partition("=")
            if not sep or not key.strip():
                return None
            params[key.strip()] = val
        elif option in ("-g", "--graph"):
            graphs.append(value)
        else:
            fmt = value
    if fmt not in FORMATS:
        return None
    return engine, name, params, fmt, graphs


def main(argv=None) -> None:
    """Run one ``kzgraph`` command line (``sys.argv`` by default)."""
    args = sys.argv[1:] if argv is None else list(argv)
    found = quick(args)
    if found is None:
        from .cli import main as cli

        cli.main(args=args, prog_name="kzgraph")
        return
    engine, name, params, fmt, graphs = found
    from . import load
    from .errors import KzGraphError

    try:
        out = answer(lambda: load(engine=engine), name, params, fmt=fmt, graphs=graphs)
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
        sys.stdout.flush()
    except KzGraphError as exc:
        sys.stderr.write(f"kzgraph: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("kzgraph: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
