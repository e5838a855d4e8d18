"""The stored query catalog: ``queries/*.rq`` (questions) and ``queries/checks/*.rq``.

Each file starts with a header of ``#+ key: value`` lines that the tools read::

    #+ title: Direct owners of an organisation
    #+ description: Every stake held in the organisation, with share, period and source.
    #+ param: org iri required -- the owned organisation (an IRI or kz:name)
    #+ param: limit integer default=100 -- at most this many rows
    #+ example: kzgraph query owners -p org=kz:kcell

A parameter named ``org`` binds the SPARQL variable ``?org``.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .errors import InputError

PARAM_TYPES = ("iri", "string", "integer", "decimal", "date", "year", "boolean")
_PARAM = re.compile(r"^(\w+)\s+(\w+)(?:\s+(required|default=(\S+)))?\s*(?:--\s*(.*))?$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool = False
    default: str | None = None
    description: str = ""


@dataclass(frozen=True)
class StoredQuery:
    """One ``.rq`` file: its name (file stem), header fields and SPARQL text."""

    name: str
    path: Path
    title: str
    description: str
    params: tuple[Param, ...]
    examples: tuple[str, ...]
    text: str
    fields: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_check(self) -> bool:
        return self.path.parent.name == "checks"

    @property
    def example_params(self) -> dict[str, str]:
        """The ``-p NAME=VALUE`` pairs of the first ``#+ example:`` line (what the tests and
        the benchmark run)."""
        return parse_example(self.examples[0])[1] if self.examples else {}


def parse_example(line: str) -> tuple[list[str], dict[str, str]]:
    """An ``#+ example:`` command line: its words and its ``-p NAME=VALUE`` parameters."""
    import shlex

    args = shlex.split(line)
    params = {}
    for i, arg in enumerate(args):
        if arg in ("-p", "--param"):
            name, _, value = args[i + 1].partition("=")
            params[name] = value
    return args, params


class UnknownQuery(InputError, LookupError):
    """No stored query has that name; the message lists the closest names."""


def parse_file(path: Path) -> StoredQuery:
    """Read one ``.rq`` file and its header. Raises InputError on a malformed header."""
    text = path.read_text(encoding="utf-8")
    fields: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#+"):
            continue
        key, sep, value = line[2:].strip().partition(":")
        if not sep:
            raise InputError(f"{path}:{number}: header line must be '#+ key: value'")
        fields.setdefault(key.strip(), []).append(value.strip())
    params = []
    for spec in fields.get("param", []):
        m = _PARAM.match(spec)
        if not m or m.group(2) not in PARAM_TYPES:
            raise InputError(f"{path}: bad parameter spec {spec!r}; expected "
                             f"'NAME TYPE [required|default=VALUE] -- description', TYPE one of "
                             f"{', '.join(PARAM_TYPES)}")
        params.append(Param(m.group(1), m.group(2), m.group(3) == "required", m.group(4),
                            (m.group(5) or "").strip()))
    if "title" not in fields:
        raise InputError(f"{path}: header has no '#+ title:' line")
    return StoredQuery(
        name=path.stem, path=path, title=fields["title"][0],
        description=" ".join(fields.get("description", [])), params=tuple(params),
        examples=tuple(fields.get("example", [])), text=text, fields=fields,
    )


def load(directory: Path | None = None) -> dict[str, StoredQuery]:
    """All stored queries of a folder (default: the packaged ``queries/``), by name."""
    directory = directory or paths.queries_dir()
    return {p.stem: parse_file(p) for p in sorted(directory.glob("*.rq"))}


def checks(directory: Path | None = None) -> dict[str, StoredQuery]:
    """All quality checks (``queries/checks/*.rq``): each must return no rows."""
    return load(directory or paths.checks_dir())


def get(name: str, directory: Path | None = None) -> StoredQuery:
    """The stored query called ``name``; `UnknownQuery` lists close matches otherwise."""
    return pick(load(directory), name)


def pick(queries: dict[str, StoredQuery], name: str) -> StoredQuery:
    """``queries[name]`` from already loaded queries; `UnknownQuery` lists close matches."""
    if name in queries:
        return queries[name]
    close = difflib.get_close_matches(name, list(queries), n=5, cutoff=0.4)
    hint = f"; did you mean: {', '.join(close)}?" if close else "; run 'kzgraph queries' for the list"
    raise UnknownQuery(f"no stored query named {name!r}{hint}")


def _iri(value: str):
    from .namespaces import expand
    from .terms import iri

    value = expand(value)
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]*$", value):
        raise InputError(f"not a valid IRI: {value!r}")
    try:
        return iri(value)
    except ValueError:
        raise InputError(f"not a valid IRI: {value!r}") from None


_XSD = "http://www.w3.org/2001/XMLSchema#"


def convert(param: Param, value) -> object:
    """A parameter value (string from the CLI or Python value) → the RDF term of its type,
    as a pyoxigraph term (every engine takes them; no rdflib needed). An rdflib or
    pyoxigraph term given for an ``iri`` parameter is taken as it is."""
    from .terms import is_oxigraph, literal

    if param.type == "iri":
        if is_oxigraph(value) and type(value).__name__ == "NamedNode":
            return value
        if type(value).__name__ == "URIRef":  # an rdflib IRI
            return _iri(str(value))
        return _iri(str(value))
    if param.type == "string":
        return literal(str(value))
    try:
        if param.type == "integer":
            return literal(str(int(value)), _XSD + "integer")
        if param.type == "decimal":
            from decimal import Decimal

            number = Decimal(str(value))
            if not number.is_finite():
                raise ValueError(value)
            return literal(f"{number:f}", _XSD + "decimal")
        if param.type == "boolean":
            text = str(value).lower()
            if text not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return literal("true" if text in ("true", "1") else "false", _XSD + "boolean")
        if param.type == "date":
            import datetime as dt

            return literal(dt.date.fromisoformat(str(value)).isoformat(), _XSD + "date")
        if param.type == "year":
            if not re.fullmatch(r"-?\d{4}", str(value)):
                raise ValueError(value)
            return literal(str(value), _XSD + "gYear")
    except (ValueError, ArithmeticError):
        raise InputError(f"parameter {param.name!r} must be a {param.type}, got {value!r}") from None
    raise InputError(f"parameter {param.name!r} has unknown type {param.type!r}")


def bindings(query: StoredQuery, values: dict) -> dict:
    """Check ``values`` against the query's parameters and convert them to RDF terms.

    Unknown names and missing required parameters raise InputError naming them.
    """
    known = {p.name: p for p in query.params}
    unknown = sorted(set(values) - set(known))
    if unknown:
        accepted = ", ".join(known) or "none"
        raise InputError(f"query {query.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                         f"it accepts: {accepted}")
    out = {}
    for param in query.params:
        if param.name in values and values[param.name] is not None:
            out[param.name] = convert(param, values[param.name])
        elif param.default is not None:
            out[param.name] = convert(param, param.default)
        elif param.required:
            raise InputError(f"query {query.name!r} needs parameter {param.name!r} "
                             f"({param.type}): pass -p {param.name}=VALUE")
    return out


def markdown_table(queries) -> str:
    """The catalog as a Markdown table (name, title, parameters), generated from the headers."""
    lines = ["| query | question it answers | parameters |", "|---|---|---|"]
    for q in queries:
        params = ", ".join(
            f"`{p.name}` ({p.type}{', required' if p.required else ''}"
            f"{', default ' + p.default if p.default else ''})" for p in q.params) or "—"
        lines.append(f"| `{q.name}` | {q.title} | {params} |")
    return "\n".join(lines)
