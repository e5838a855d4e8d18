"""Serialising query results: a text table, the W3C SPARQL results formats, RDF formats."""
from __future__ import annotations

import csv
import io
import json

from .sparql import QueryResult

TABULAR = ("table", "csv", "tsv", "json", "xml")
RDF_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}
MAX_CELL = 60


def _cell(term) -> str:
    from rdflib import Literal, URIRef

    from .namespaces import shorten

    if term is None:
        return ""
    if isinstance(term, URIRef):
        return shorten(str(term))
    return str(term) if isinstance(term, Literal) else str(term)


def table(result: QueryResult) -> str:
    """A plain-text table (SELECT), 'true'/'false' (ASK) or Turtle (graphs)."""
    if result.form == "ASK":
        return "true" if result.boolean else "false"
    if result.graph is not None:
        return rdf(result, "ttl")
    return text_table(result.variables, [[_cell(t) for t in row] for row in result.rows])


def text_table(headers, rows) -> str:
    """Aligned columns of strings under a header and a rule, long cells cut, a row count."""
    rows = [[c if len(c) <= MAX_CELL else c[: MAX_CELL - 1] + "…" for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def _binding(term) -> dict:
    from rdflib import BNode, Literal

    if isinstance(term, Literal):
        out = {"type": "literal", "value": str(term)}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype:
            out["datatype"] = str(term.datatype)
        return out
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    return {"type": "uri", "value": str(term)}


def sparql_json(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results JSON."""
    if result.form == "ASK":
        return json.dumps({"head": {}, "boolean": bool(result.boolean)})
    bindings = [{v: _binding(t) for v, t in zip(result.variables, row) if t is not None}
                for row in result.rows]
    return json.dumps({"head": {"vars": result.variables}, "results": {"bindings": bindings}},
                      ensure_ascii=False, indent=1)


def sparql_xml(result: QueryResult) -> str:
    """SPARQL Query Results XML."""
    from xml.sax.saxutils import escape, quoteattr

    out = ['<?xml version="1.0"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if result.form == "ASK":
        out += ["<head/>", f"<boolean>{'true' if result.boolean else 'false'}</boolean>", "</sparql>"]
        return "\n".join(out)
    out.append("<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in result.variables)
               + "</head>")
    out.append("<results>")
    for row in result.rows:
        cells = []
        for var, term in zip(result.variables, row):
            if term is None:
                continue
            b = _binding(term)
            if b["type"] == "uri":
                inner = f"<uri>{escape(b['value'])}</uri>"
            elif b["type"] == "bnode":
                inner = f"<bnode>{escape(b['value'])}</bnode>"
            else:
                attrs = ""
                if "xml:lang" in b:
                    attrs = f" xml:lang={quoteattr(b['xml:lang'])}"
                elif "datatype" in b:
                    attrs = f" datatype={quoteattr(b['datatype'])}"
                inner = f"<literal{attrs}>{escape(b['value'])}</literal>"
            cells.append(f"<binding name={quoteattr(var)}>{inner}</binding>")
        out.append("<result>" + "".join(cells) + "</result>")
    out += ["</results>", "</sparql>"]
    return "\n".join(out)


def sparql_csv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results CSV (plain values, no datatypes)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if result.form == "ASK":
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.boolean else "false"])
        return buf.getvalue()
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow(["" if t is None else str(t) for t in row])
    return buf.getvalue()


def sparql_tsv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results TSV (terms in Turtle syntax)."""
    if result.form == "ASK":
        return "?boolean\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join(f"?{v}" for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join("" if t is None else t.n3() for t in row))
    return "\n".join(lines) + "\n"


def rdf(result: QueryResult, fmt: str) -> str:
    """A CONSTRUCT/DESCRIBE result as Turtle, N-Triples or JSON-LD (deterministic)."""
    return graph_bytes(result.graph, fmt).decode("utf-8")


def graph_bytes(graph, fmt: str) -> bytes:
    """An rdflib graph as ttl, nt, jsonld or rdfxml bytes (deterministic but for JSON-LD's
    key order within a node)."""
    from .export import _with_prefixes, to_ntriples, to_rdfxml, to_turtle

    if fmt == "ttl":
        return to_turtle(graph)
    if fmt == "nt":
        return to_ntriples(graph)
    if fmt == "rdfxml":
        return to_rdfxml(graph)
    return _with_prefixes(graph).serialize(format="json-ld", auto_compact=True,
                                           encoding="utf-8")


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
