"""The HTTP side of the SPARQL 1.1 Protocol, kept free of any web framework: content
negotiation, strict parsing of query strings and bodies, and the HTTP status of each kzgraph
error. `kzgraph.server` is the Starlette app that uses it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from .errors import InputError
from .sparql import QueryRefused, QuerySyntaxError

#: Result media types by query form, the first one the default (for ``*/*`` or no Accept).
TABULAR_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
RDF_TYPES = {
    "text/turtle": "ttl",
    "application/n-triples": "nt",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/x-turtle": "ttl",
    "text/plain": "nt",
    "application/json": "jsonld",
    "application/xml": "rdfxml",
}
#: The ``format=`` shortcut (download links) → the media type sent back.
FORMAT_TYPES = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
    "csv": "text/csv", "tsv": "text/tab-separated-values", "ttl": "text/turtle",
    "nt": "application/n-triples", "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
#: Other names clients send in ``format=`` (SPARQLWrapper sends its return format's name).
FORMAT_ALIASES = {
    "turtle": "ttl", "n3": "ttl", "text/turtle": "ttl", "json-ld": "jsonld",
    "ntriples": "nt", "n-triples": "nt", "rdf": "rdfxml", "rdf+xml": "rdfxml",
    "rdf/xml": "rdfxml", "text/csv": "csv", "text/tab-separated-values": "tsv",
    "application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
    "application/rdf+xml": "rdfxml", "application/ld+json": "jsonld", "application/n-triples": "nt",
}
#: For graphs, the tabular names mean their RDF counterparts.
GRAPH_ALIASES = {"json": "jsonld", "xml": "rdfxml"}
EXTENSIONS = {"json": "srj", "xml": "srx", "csv": "csv", "tsv": "tsv", "ttl": "ttl", "nt": "nt",
              "jsonld": "jsonld", "rdfxml": "rdf"}


class HTTPError(Exception):
    """An answer other than 200: status, plain-text message, extra headers."""

    def __init__(self, status: int, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """``Accept`` → [(media range, q)] sorted by preference (q, then specificity, order)."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    ranges = []
    for index, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        ranges.append((media, q, specificity, index))
    ranges.sort(key=lambda r: (-r[1], -r[2], r[3]))
    return [(m, q) for m, q, _, _ in ranges]


def _matches(media_range: str, media: str) -> bool:
    if media_range == "*/*":
        return True
    if media_range.endswith("/*"):
        return media.split("/")[0] == media_range[:-2]
    return media_range == media


def negotiate(header: str | None, offered: list[str]) -> str | None:
    """The best of ``offered`` (media types, default first) for an Accept header, or None.

    Each type gets the q of the most specific range that matches it; the highest q wins,
    ties go to the earlier offer."""
    ranges = parse_accept(header)
    best, best_q = None, 0.0
    for media in offered:
        matching = [(2 if r == media else 1 if r.endswith("/*") and r != "*/*" else 0, q)
                    for r, q in ranges if _matches(r, media)]
        if not matching:
            continue
        q = max(matching)[1]
        if q > best_q:
            best, best_q = media, q
    return best


def result_format(form: str, accept: str | None, fmt: str | None = None) -> tuple[str, str]:
    """(format key, media type) for a query form; 406 when nothing acceptable is offered."""
    graph = form in ("CONSTRUCT", "DESCRIBE")
    table = RDF_TYPES if graph else TABULAR_TYPES
    if fmt:
        # A name or a media type; SPARQLWrapper sends its Accept list for JSON-LD
        # ("application/ld+json,application/x-json+ld"): the first known entry wins.
        names = [FORMAT_ALIASES.get(n, n) for n in (p.strip().lower() for p in fmt.split(",")) if n]
        if graph:
            names = [GRAPH_ALIASES.get(n, n) for n in names]
        keys = set(table.values())
        chosen = next((n for n in names if n in keys), None)
        if chosen is None:
            shown = names[0] if len(names) == 1 else fmt
            raise HTTPError(400, f"format={shown!r} does not fit a {form} query; use one of: "
                                 f"{', '.join(sorted(keys))}")
        return chosen, FORMAT_TYPES[chosen]
    media = negotiate(accept, list(table))
    if media is None:
        raise HTTPError(406, f"cannot answer a {form} query as {accept!r}; available: "
                             f"{', '.join(table)}")
    return table[media], FORMAT_TYPES[table[media]]


def parse_pairs(raw: bytes | str, what: str) -> list[tuple[str, str]]:
    """A query string or form body → pairs; 400 when it is not UTF-8."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("ascii")
        except UnicodeDecodeError:
            raise HTTPError(400, f"the {what} is not URL-encoded ASCII") from None
    try:
        return parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict",
                         max_num_fields=1000)
    except UnicodeDecodeError:
        raise HTTPError(400, f"the {what} is not UTF-8 (percent-encode UTF-8 bytes)") from None
    except ValueError as exc:
        raise HTTPError(400, f"cannot parse the {what}: {exc}") from None


_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\s;\"]+)", re.I)


def media_type(content_type: str | None) -> tuple[str, str | None]:
    """``Content-Type`` → (media type, charset or None)."""
    if not content_type:
        return "", None
    media = content_type.split(";")[0].strip().lower()
    match = _CHARSET.search(content_type)
    return media, (match.group(1).lower() if match else None)


@dataclass
class ProtocolRequest:
    """What a SPARQL protocol request asks for: the query, a result format, and the dataset
    (``default-graph-uri`` / ``named-graph-uri``, each repeatable, from the query string and
    a form body alike; see `dataset`)."""

    query: str
    fmt: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)

    @property
    def dataset(self):
        """The `kzgraph.dataset.Dataset` of the graph parameters, None without any (then the
        query's FROM / FROM NAMED, or the service dataset, apply)."""
        from .dataset import Dataset

        return Dataset.request(self.default_graphs, self.named_graphs)


def query_from(method: str, query_pairs: list[tuple[str, str]], content_type: str | None,
               body: bytes) -> ProtocolRequest:
    """The query of a GET or POST request, checked against the protocol's rules."""
    pairs = list(query_pairs)
    if method == "POST":
        media, charset = media_type(content_type)
        if charset and charset not in ("utf-8", "utf8"):
            raise HTTPError(400, f"charset {charset} is not supported; send UTF-8")
        if media == "application/x-www-form-urlencoded":
            pairs += parse_pairs(body, "form body")
        elif media == "application/sparql-query":
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise HTTPError(400, "the request body is not UTF-8") from None
            if any(k == "query" for k, _ in pairs):
                raise HTTPError(400, "the query is given twice (body and query= parameter)")
            pairs.append(("query", text))
        elif media == "application/sparql-update":
            raise HTTPError(403, "SPARQL Update is not allowed: kzgraph is read-only")
        elif not media:
            raise HTTPError(400, "a POST needs a Content-Type: application/sparql-query or "
                                 "application/x-www-form-urlencoded")
        else:
            raise HTTPError(415, f"unsupported Content-Type {media!r}; send "
                                 "application/sparql-query or "
                                 "application/x-www-form-urlencoded")
    names = [k for k, _ in pairs]
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise HTTPError(403, "SPARQL Update is not allowed: kzgraph is read-only")
    queries = [v for k, v in pairs if k == "query"]
    if not queries:
        raise HTTPError(400, "no query: pass query=... (GET or form POST) or POST the query "
                             "as application/sparql-query")
    if len(queries) > 1:
        raise HTTPError(400, "query is given more than once; send exactly one")
    formats = [v for k, v in pairs if k == "format"]
    return ProtocolRequest(queries[0], formats[-1] if formats else None,
                           [v for k, v in pairs if k == "default-graph-uri"],
                           [v for k, v in pairs if k == "named-graph-uri"])


def error_status(exc: Exception) -> int:
    """The HTTP status of a kzgraph error."""
    if isinstance(exc, HTTPError):
        return exc.status
    if isinstance(exc, QuerySyntaxError):
        return 400
    if isinstance(exc, QueryRefused):
        # length: over sparql.MAX_QUERY_LENGTH; update, LOAD, SERVICE: policy refusals (an
        # unknown graph in FROM or a graph parameter is a kzgraph.dataset.UnknownGraph: 400)
        return {"dataset": 400, "length": 413}.get(exc.reason, 403)
    if isinstance(exc, LookupError):
        return 404
    if isinstance(exc, InputError):
        return 400
    return 500
