"""Serialising query results: a text table, the W3C SPARQL results formats, RDF formats.

The SPARQL results writers (JSON, XML, CSV, TSV) read the canonical pyoxigraph terms of a
`QueryResult` and write exactly the bytes pyoxigraph's own serialiser writes for the same
answer (tests/test_engines.py holds them equal for every stored query), so every engine gives
the same bytes, and a server may hand out Oxigraph's serialisation directly
(`OXIGRAPH_FORMATS`). None of them needs rdflib.
"""
from __future__ import annotations

import re
from json import dumps as _dumps

from .sparql import QueryResult

TABULAR = ("table", "csv", "tsv", "json", "xml")
RDF_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}
#: pyoxigraph.QueryResultsFormat member names of the formats written here byte for byte
OXIGRAPH_FORMATS = {"json": "JSON", "xml": "XML", "csv": "CSV", "tsv": "TSV"}
MAX_CELL = 60
_XSD = "http://www.w3.org/2001/XMLSchema#"


def _kind(term) -> str:
    return type(term).__name__  # NamedNode, BlankNode, Literal (pyoxigraph)


def _cell(term) -> str:
    from .namespaces import shorten

    if term is None:
        return ""
    if _kind(term) == "NamedNode":
        return shorten(term.value)
    return term.value


def table(result: QueryResult) -> str:
    """A plain-text table (SELECT), 'true'/'false' (ASK) or Turtle (graphs)."""
    if result.form == "ASK":
        return "true" if result.boolean else "false"
    if result.graph is not None:
        return rdf(result, "ttl")
    return text_table(result.variables, [[_cell(t) for t in row] for row in result.terms])


def text_table(headers, rows) -> str:
    """Aligned columns of strings under a header and a rule, long cells cut, a row count."""
    rows = [[c if len(c) <= MAX_CELL else c[: MAX_CELL - 1] + "…" for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


# -- SPARQL 1.1 Query Results JSON -----------------------------------------------------------

def _json_string(value: str) -> str:
    return _dumps(value, ensure_ascii=False)


def _json_term(term) -> str:
    kind, value = _kind(term), _json_string(term.value)
    if kind == "NamedNode":
        return '{"type":"uri","value":' + value + "}"
    if kind == "BlankNode":
        return '{"type":"bnode","value":' + value + "}"
    if term.language is not None:
        return '{"type":"literal","value":' + value + ',"xml:lang":' + \
            _json_string(term.language) + "}"
    datatype = term.datatype.value
    if datatype == _XSD + "string":
        return '{"type":"literal","value":' + value + "}"
    return '{"type":"literal","value":' + value + ',"datatype":' + _json_string(datatype) + "}"


def _bound_cells(result: QueryResult, heads: list[str], write):
    """Per row, ``head + write(term)`` for each bound cell (unbound cells are left out); each
    distinct term is written once per answer (labels and classes repeat in every row)."""
    memo: dict = {}
    for row in result.terms:
        cells = []
        for head, term in zip(heads, row):
            if term is None:
                continue
            text = memo.get(term)
            if text is None:
                text = memo[term] = write(term)
            cells.append(head + text)
        yield cells


def sparql_json(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results JSON, compact, as pyoxigraph writes it."""
    if result.form == "ASK":
        return '{"head":{},"boolean":' + ("true" if result.boolean else "false") + "}"
    names = [_json_string(v) for v in result.variables]
    rows = ["{" + ",".join(cells) + "}"
            for cells in _bound_cells(result, [n + ":" for n in names], _json_term)]
    return ('{"head":{"vars":[' + ",".join(names) + ']},"results":{"bindings":['
            + ",".join(rows) + "]}}")


# -- SPARQL Query Results XML ----------------------------------------------------------------

_XML_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;"}
_XML_SPECIAL = re.compile(r"[<>&'\"]")
_XML_EDGE = re.compile(r"^[ \t\r\n]+|[ \t\r\n]+$")


def _xml_text(value: str) -> str:
    """Text content escaped as pyoxigraph (quick-xml) does: the five XML specials, and
    whitespace at either end as character references (kept verbatim by XML readers)."""
    value = _XML_SPECIAL.sub(lambda m: _XML_ESCAPES[m.group()], value)
    return _XML_EDGE.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), value)


def _xml_term(term) -> str:
    kind = _kind(term)
    if kind == "NamedNode":
        return "<uri>" + _xml_text(term.value) + "</uri>"
    if kind == "BlankNode":
        return "<bnode>" + _xml_text(term.value) + "</bnode>"
    if term.language is not None:
        attrs = ' xml:lang="' + _xml_text(term.language) + '"'
    elif term.datatype.value != _XSD + "string":
        attrs = ' datatype="' + _xml_text(term.datatype.value) + '"'
    else:
        attrs = ""
    return "<literal" + attrs + ">" + _xml_text(term.value) + "</literal>"


def sparql_xml(result: QueryResult) -> str:
    """SPARQL Query Results XML, on one line, as pyoxigraph writes it."""
    out = ['<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if result.form == "ASK":
        out.append("<head></head><boolean>" + ("true" if result.boolean else "false")
                   + "</boolean></sparql>")
        return "".join(out)
    names = ['<binding name="' + _xml_text(v) + '">' for v in result.variables]
    out.append("<head>" + "".join(f'<variable name="{_xml_text(v)}"/>'
                                  for v in result.variables) + "</head><results>")
    for cells in _bound_cells(result, names, _xml_term):
        out.append("<result>" + "".join(c + "</binding>" for c in cells) + "</result>")
    out.append("</results></sparql>")
    return "".join(out)


# -- SPARQL 1.1 Query Results CSV and TSV ----------------------------------------------------

def _csv_term(term) -> str:
    if term is None:
        return ""
    kind = _kind(term)
    if kind == "NamedNode":
        return term.value
    if kind == "BlankNode":
        return "_:" + term.value
    value = term.value
    if any(c in value for c in '",\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def sparql_csv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results CSV (plain values, no datatypes), as pyoxigraph writes it."""
    if result.form == "ASK":
        return "true" if result.boolean else "false"
    lines = [",".join(result.variables)]
    lines += [",".join(_csv_term(t) for t in row) for row in result.terms]
    return "\r\n".join(lines) + "\r\n"


_TSV_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_TSV_SPECIAL = re.compile(r'[\t\n\r"\\]')
_TSV_BARE = {  # Turtle's short forms, which pyoxigraph writes bare
    _XSD + "integer": re.compile(r"[+-]?[0-9]+"),
    _XSD + "decimal": re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    _XSD + "double": re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+"),
    _XSD + "boolean": re.compile(r"true|false"),
}


def _tsv_term(term) -> str:
    if term is None:
        return ""
    kind = _kind(term)
    if kind == "NamedNode":
        return "<" + term.value + ">"
    if kind == "BlankNode":
        return "_:" + term.value
    value = term.value
    quoted = '"' + _TSV_SPECIAL.sub(lambda m: _TSV_ESCAPES[m.group()], value) + '"'
    if term.language is not None:
        return quoted + "@" + term.language
    datatype = term.datatype.value
    if datatype == _XSD + "string":
        return quoted
    bare = _TSV_BARE.get(datatype)
    if bare is not None and bare.fullmatch(value):
        return value
    return quoted + "^^<" + datatype + ">"


def sparql_tsv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results TSV (terms in Turtle syntax), as pyoxigraph writes it."""
    if result.form == "ASK":
        return "true" if result.boolean else "false"
    lines = ["\t".join(f"?{v}" for v in result.variables)]
    lines += ["\t".join(_tsv_term(t) for t in row) for row in result.terms]
    return "\n".join(lines) + "\n"


def rdf(result: QueryResult, fmt: str) -> str:
    """A CONSTRUCT/DESCRIBE result as Turtle, N-Triples or JSON-LD (deterministic)."""
    return graph_bytes(result.graph, fmt).decode("utf-8")


def graph_bytes(graph, fmt: str, prefixes: dict | None = None) -> bytes:
    """An rdflib graph as ttl, nt, jsonld or rdfxml bytes, deterministic in every format
    (JSON-LD: keys and arrays sorted as in the export); ``prefixes`` are bound besides
    kzgraph's own."""
    import json

    from .export import _sort_json, _with_prefixes, to_ntriples, to_rdfxml, to_turtle

    if fmt == "ttl":
        return to_turtle(graph, prefixes)
    if fmt == "nt":
        return to_ntriples(graph)
    if fmt == "rdfxml":
        return to_rdfxml(graph, prefixes)
    text = _with_prefixes(graph, prefixes).serialize(format="json-ld", auto_compact=True, encoding="utf-8")
    return (json.dumps(_sort_json(json.loads(text)), indent=2, ensure_ascii=False)
            + "\n").encode("utf-8")


def render(result: QueryResult, fmt: str) -> str:
    """``result`` in output format ``fmt`` (table, csv, tsv, json, xml, ttl, nt, jsonld)."""
    from .errors import InputError

    is_graph = result.form in ("CONSTRUCT", "DESCRIBE")
    if fmt == "table":
        return table(result)
    if is_graph and fmt in RDF_FORMATS:
        return rdf(result, fmt)
    if not is_graph and fmt in TABULAR:
        return {"csv": sparql_csv, "tsv": sparql_tsv, "json": sparql_json, "xml": sparql_xml}[fmt](result)
    allowed = ", ".join(("table", *RDF_FORMATS) if is_graph else TABULAR)
    raise InputError(f"format {fmt!r} does not fit a {result.form} query; use one of: {allowed}")
