"""``kzgraph serve``: the validated graph over HTTP — a SPARQL 1.1 Protocol endpoint, the
stored queries, linked-data pages for every ``kz:`` IRI, dataset downloads and a query page.

A thin Starlette layer over the Python API: every query is vetted by the query runner
(`kzgraph.sparql.prepare`, the first step of `kzgraph.sparql.run`: no update, LOAD or SERVICE;
FROM / FROM NAMED and ``default-graph-uri`` / ``named-graph-uri`` may name only the graph's own
named graphs, `kzgraph.dataset`), so the server never writes and never makes an outbound
request. Queries are vetted
here (400/403 at once, verdicts cached by text) and evaluated in worker *processes*
(`kzgraph.workers`), each with the validated graph in an in-memory Oxigraph store, at most
``workers`` at a time; a worker writes SELECT/ASK answers with Oxigraph's own serialiser.
The answer is complete before the status line is sent. ``GET /sparql`` without a query
answers the service description (`kzgraph.service`). Limits (see the README's behaviour
table):

* a query that takes longer than ``timeout`` seconds → 503 with ``Retry-After``; its worker
  is killed (SIGKILL) and replaced, so a runaway query never keeps running or holds a slot;
* every worker busy → the request waits for one (at most ``timeout`` seconds, then 503);
  with ``queue`` requests already waiting → 503 at once (runaway queries cannot pile up);
* more than ``max_rows`` rows (or triples) → 413 asking for a LIMIT (never a silently cut
  result).

Complete successful query answers are kept in the server's process (`kzgraph.answers`, LRU
within ``answer_cache`` bytes) and carry an ``ETag``; ``If-None-Match`` gets 304.
"""
from __future__ import annotations

import atexit
import contextlib
import html
import threading
from pathlib import Path
from urllib.parse import quote

from . import __version__, answers, catalog, sparql
from .engine import OxigraphEngine
from .errors import InputError, KzGraphError
from .formats import graph_bytes
from .namespaces import KZ, shorten
from .protocol import (EXTENSIONS, HTTPError, error_status, negotiate, parse_pairs,
                       query_from, result_format)
from .workers import Pool

STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_ROWS = 10_000
DEFAULT_WORKERS = 4
DEFAULT_QUEUE = 32            # requests that may wait for a busy worker; more → 503
DEFAULT_ANSWER_CACHE = answers.DEFAULT_MB * 2**20  # bytes of answers kept; 0: none
DEFAULT_SHORT_LANE = 1        # workers that take only queries not known to be long
MAX_BODY = 128 * 1024        # bytes of a POST body → 413 above
MAX_QUERY_STRING = 32 * 1024  # bytes of a URL's query string → 414 above (use POST)
MAX_HEADERS = 256 * 1024      # bytes of a request head the HTTP server reads at most

# -- what the workers load, what the vetting decided ---------------------------------------


def served_nquads(kg) -> bytes:
    """The dataset ``kg`` serves as N-Quads (the union default graph and the named graphs),
    what the query workers load."""
    if isinstance(kg.engine, OxigraphEngine):
        import pyoxigraph

        return kg.engine.store.dump(format=pyoxigraph.RdfFormat.N_QUADS)
    from .dataset import nquads, quads

    if hasattr(kg.engine, "named_parts"):  # the memory engine
        return nquads(kg.engine.graph, kg.engine.named_parts())
    return quads(kg.graph)


def served_ntriples(kg) -> bytes:
    """The default graph ``kg`` serves as N-Triples (the union of the named graphs)."""
    if isinstance(kg.engine, OxigraphEngine):
        import pyoxigraph

        return kg.engine.store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                                    from_graph=pyoxigraph.DefaultGraph())
    from .export import to_ntriples

    return to_ntriples(kg.graph)


class Verdicts:
    """`kzgraph.sparql.prepare`'s answers by query text — the `Prepared` query or the error
    it raised — for the last ``size`` texts (the parser's own cache keeps no refusals)."""

    def __init__(self, size: int = 2048) -> None:
        from collections import OrderedDict

        self.size, self.known, self.lock = size, OrderedDict(), threading.Lock()
        self.parsing = threading.Lock()  # rdflib's parser (pyparsing) is not thread-safe

    def get(self, text: str):
        with self.lock:
            verdict = self.known.get(text)
            if verdict is not None:
                self.known.move_to_end(text)
            return verdict

    def decide(self, text: str):
        try:
            with self.parsing:
                verdict = sparql.prepare(text)
            verdict = verdict.light()
        except KzGraphError as exc:
            verdict = exc.with_traceback(None)
        with self.lock:
            self.known[text] = verdict
            while len(self.known) > self.size:
                self.known.popitem(last=False)
        return verdict


GRAPH_TYPES = {"text/turtle": "ttl", "application/ld+json": "jsonld",
               "application/n-triples": "nt", "application/rdf+xml": "rdfxml"}
MEDIA = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json",
         "rdfxml": "application/rdf+xml"}


def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def local_href(iri: str) -> str:
    """The address of a node on this server when it is a kz: IRI, else the IRI itself."""
    if iri.startswith(KZ):
        return "/id/" + quote(iri[len(KZ):], safe="-._~")
    return iri if iri.startswith(("http://", "https://")) else "#"


def _link(iri: str, label: str | None = None) -> str:
    text = label or shorten(iri)
    return f'<a href="{_esc(local_href(iri))}" title="{_esc(iri)}">{_esc(text)}</a>'


def page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_esc(title)} — kzgraph</title>"
            "<link rel=\"stylesheet\" href=\"/static/style.css\"></head><body>"
            "<nav><a href=\"/\">query</a> · <a href=\"/queries\">stored queries</a> · "
            "<a href=\"/ontology\">ontology</a> · <a href=\"/dataset.ttl\">dataset</a> · "
            f"<a href=\"/void.ttl\">VoID</a></nav><main>{body}</main></body></html>")


def entity_page(entity, facts, sources) -> str:
    parts = [f"<h1>{_esc(entity.label or entity.curie)}</h1>",
             f"<p class=\"iri\"><code>{_esc(entity.iri)}</code> · also as "
             f"<a href=\"?format=ttl\">Turtle</a>, <a href=\"?format=jsonld\">JSON-LD</a></p>"]
    if entity.alt_labels:
        parts.append(f"<p>Also called: {_esc('; '.join(entity.alt_labels))}</p>")
    if entity.types:
        parts.append("<p>Types: " + ", ".join(_link(t) for t in entity.types) + "</p>")
    rows = []
    for f in facts:
        if f.direction == "in":
            subject = _link(f.subject, f.subject_label)
        else:
            subject = "<em>this</em>"
        is_node = isinstance(f.object, str) and f.object.startswith(("http://", "https://"))
        if is_node and (f.object_label is not None or f.object.startswith(KZ)):
            obj = _link(f.object, f.object_label)
        elif f.direction == "in":
            obj = "<em>this</em>"
        else:
            obj = _esc(f.object)
        when = " – ".join(x for x in (f.start, f.end) if x) if (f.start or f.end) else ""
        if f.as_of:
            when = (when + " " if when else "") + f"as of {f.as_of}"
        if f.time_note:
            when = (when + " " if when else "") + f"({f.time_note})"
        cited = ", ".join(_link(s, label) for s, label in zip(f.sources, f.source_labels))
        rows.append(f"<tr><td>{subject}</td><td>{_link(f.predicate, f.predicate_label)}</td>"
                    f"<td>{obj}</td><td>{_esc(when)}</td><td>{cited}</td></tr>")
    parts.append(f"<h2>Facts ({len(rows)})</h2><table><thead><tr><th>subject</th>"
                 "<th>property</th><th>value</th><th>time</th><th>sources</th></tr></thead>"
                 "<tbody>" + "".join(rows) + "</tbody></table>")
    if sources:
        parts.append("<h2>Sources</h2><ul>" + "".join(
            f"<li>{_link(s.iri, s.label)}</li>" for s in sources) + "</ul>")
    return page(entity.label or entity.curie, "".join(parts))


def queries_page(stored) -> str:
    items = []
    for q in stored:
        params = ", ".join(f"<code>{_esc(p.name)}</code> ({_esc(p.type)}"
                           f"{', required' if p.required else ''})" for p in q.params) or "—"
        items.append(f"<tr><td><a href=\"/?query={_esc(quote(q.name))}\">{_esc(q.name)}</a>"
                     f"</td><td>{_esc(q.title)}<br><small>{_esc(q.description)}</small></td>"
                     f"<td>{params}</td><td><a href=\"/queries/{_esc(quote(q.name))}?format=csv\">"
                     "csv</a> · <a href=\"/queries/" + _esc(quote(q.name)) + "?format=json\">"
                     "json</a></td></tr>")
    return page("Stored queries", "<h1>Stored queries</h1><table><thead><tr><th>name</th>"
                "<th>question</th><th>parameters</th><th>run</th></tr></thead><tbody>"
                + "".join(items) + "</tbody></table>")


def void_turtle(kg, base: str) -> bytes:
    """The VoID + DCAT description (`kzgraph.metadata.describe`) with this server's endpoint
    and downloads."""
    from .export import to_turtle
    from .metadata import describe

    return to_turtle(describe(kg, base + "sparql",
                              tuple(f"{base}dataset.{ext}" for ext in ("ttl", "nt", "jsonld"))))


# -- the app ---------------------------------------------------------------------------------


def create_app(kg, *, timeout: float = DEFAULT_TIMEOUT, max_rows: int = DEFAULT_MAX_ROWS,
               workers: int = DEFAULT_WORKERS, queue: int = DEFAULT_QUEUE,
               answer_cache: int = DEFAULT_ANSWER_CACHE,
               short_lane: int = DEFAULT_SHORT_LANE):
    """The Starlette app serving ``kg`` (a `kzgraph.KZGraph`, normally ``kzgraph.load()``):
    ``workers`` query processes (``short_lane`` of them for short queries only), ``queue``
    requests waiting for one at most, ``answer_cache`` bytes of answers kept (0: none)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.requests import Request
    from starlette.responses import (FileResponse, HTMLResponse, JSONResponse,
                                     PlainTextResponse, RedirectResponse, Response)
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    nquads = served_nquads(kg)
    build = answers.build_identity(nquads)  # what every answer's key starts with
    pool = Pool(nquads, workers, timeout, max_rows, queue, short_lane)
    del nquads
    known_graphs = tuple(kg.graphs())  # what a dataset may name
    atexit.register(pool.close)
    kept = answers.Answers(answer_cache)
    queries = catalog.load()  # the stored queries, read once
    cache: dict = {}
    cache_lock = threading.Lock()

    def cached(key, build):
        with cache_lock:
            if key not in cache:
                cache[key] = build()
            return cache[key]

    verdicts = Verdicts()

    async def vet(text: str):
        """`kzgraph.sparql.prepare`'s verdict on ``text``: cached by text, refusals too; a
        new text is parsed in a thread (rdflib's parser takes milliseconds, the event loop
        keeps answering meanwhile)."""
        verdict = verdicts.get(text)
        if verdict is None:
            verdict = await run_in_threadpool(verdicts.decide, text)
        if isinstance(verdict, Exception):
            raise verdict
        return verdict

    def error(exc: Exception) -> Response:
        status = error_status(exc)
        message = exc.message if isinstance(exc, HTTPError) else str(exc)
        headers = exc.headers if isinstance(exc, HTTPError) else {}
        return PlainTextResponse(message + "\n", status_code=status, headers=headers)

    async def answer(request: Request, text: str, bindings: dict, fmt: str | None,
                     filename: str = "result", dataset=None) -> Response:
        prepared = await vet(text)  # syntax / refusal errors before any work
        # the protocol's dataset before the text's FROM; only the graph's own named graphs
        chosen = sparql.resolve_dataset(kg.engine, prepared, dataset, known_graphs)
        key, media = result_format(prepared.form, request.headers.get("accept"), fmt)
        # the text the worker evaluates (parameters written in) and the dataset it runs on
        # determine the answer
        query = OxigraphEngine.text(prepared, bindings)
        cache_key = answers.AnswerKey(build, query, key, answers.dataset_key(chosen))
        headers = {"Vary": "Accept", "ETag": answers.etag(cache_key),
                   "Cache-Control": answers.CACHE_CONTROL}
        if fmt:
            headers["Content-Disposition"] = \
                f'attachment; filename="{filename}.{EXTENSIONS[key]}"'
        condition = request.headers.get("if-none-match")
        if answers.matches(condition, headers["ETag"]):
            return not_modified(request, headers)
        light = sparql.Prepared(query, prepared.form, prepared.variables,
                                concat=prepared.concat, dataset=prepared.dataset)
        body = await kept.fetch(cache_key, lambda: pool.run(light, {}, key, chosen))
        if condition is not None and condition.strip() == "*":
            return not_modified(request, headers)
        charset = "" if key == "jsonld" or media.endswith("+xml") else "; charset=utf-8"
        return Response(body, media_type=None, headers={**headers,
                                                          "Content-Type": media + charset})

    def not_modified(request: Request, headers: dict) -> Response:
        """304 to a GET or HEAD whose ``If-None-Match`` holds the answer's ETag; 412 to a
        POST (RFC 9110, 13.1.2)."""
        if request.method in ("GET", "HEAD"):
            return Response(status_code=304, headers={k: v for k, v in headers.items()
                                                      if k != "Content-Disposition"})
        return PlainTextResponse("If-None-Match holds this answer's ETag: precondition "
                                 "failed (send it with GET for a 304)\n", 412)

    async def endpoint(request: Request) -> Response:
        try:
            raw = request.scope.get("query_string", b"")
            pairs = parse_pairs(raw, "query string")
            body = b""
            if request.method == "POST":
                length = request.headers.get("content-length")
                if length and length.isdigit() and int(length) > MAX_BODY:
                    raise HTTPError(413, f"the request body is over {MAX_BODY} bytes")
                chunks, size = [], 0
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise HTTPError(413, f"the request body is over {MAX_BODY} bytes")
                    chunks.append(chunk)
                body = b"".join(chunks)
            elif not raw:
                return await service_description(request)
            asked = query_from(request.method, pairs, request.headers.get("content-type"), body)
            return await answer(request, asked.query, {}, asked.fmt, dataset=asked.dataset)
        except (HTTPError, KzGraphError) as exc:
            return error(exc)

    described: dict = {}  # (endpoint, format) → bytes, for a few endpoints (Host headers);
    # the triple counts behind it are counted once

    async def service_description(request: Request) -> Response:
        """GET /sparql without a query: the SPARQL 1.1 Service Description (`kzgraph.service`)
        in the RDF format ``Accept`` asks for; browsers are sent to the query page."""
        from . import service

        media = negotiate(request.headers.get("accept"), [*GRAPH_TYPES, "text/html"])
        if media == "text/html":
            return RedirectResponse("/", status_code=303)
        if media is None:
            return PlainTextResponse("this is a SPARQL endpoint: send a query, or ask for its "
                                     "service description as one of " + ", ".join(GRAPH_TYPES)
                                     + "\n", 406)
        key = (str(request.base_url) + "sparql", GRAPH_TYPES[media])
        body = described.get(key)
        if body is None:
            sizes = await run_in_threadpool(cached, "graph sizes",
                                            lambda: service.graph_sizes(kg))
            body = await run_in_threadpool(service.serialize, kg, *key, sizes)
            if len(described) < 64:
                described[key] = body
        charset = "" if media == "application/ld+json" or media.endswith("+xml") \
            else "; charset=utf-8"
        return Response(body, headers={"Content-Type": media + charset, "Vary": "Accept"})

    async def list_queries(request: Request) -> Response:
        stored = list(queries.values())
        if negotiate(request.headers.get("accept"), ["application/json", "text/html"]) \
                == "text/html" and request.query_params.get("format") != "json":
            return HTMLResponse(queries_page(stored))
        return JSONResponse([{
            "name": q.name, "title": q.title, "description": q.description,
            "params": [{"name": p.name, "type": p.type, "required": p.required,
                        "default": p.default, "description": p.description} for p in q.params],
            "examples": list(q.examples), "text": q.text,
            "href": f"/queries/{q.name}"} for q in stored])

    async def stored_query(request: Request) -> Response:
        try:
            name = request.path_params["name"]
            pairs = parse_pairs(request.scope.get("query_string", b""), "query string")
            values, fmt, graphs = {}, None, {"default-graph-uri": [], "named-graph-uri": []}
            for key, value in pairs:
                if key == "format":
                    fmt = value
                elif key in graphs:  # a dataset, as on /sparql
                    graphs[key].append(value)
                elif key in values:
                    raise HTTPError(400, f"parameter {key!r} is given more than once")
                else:
                    values[key] = value
            stored = catalog.pick(queries, name)
            bindings = catalog.bindings(stored, values)
            from .dataset import Dataset

            dataset = Dataset.request(graphs["default-graph-uri"], graphs["named-graph-uri"])
            return await answer(request, stored.text, bindings, fmt, filename=name,
                                dataset=dataset)
        except (HTTPError, KzGraphError) as exc:
            return error(exc)

    def _entity_graph(iri: str):
        from rdflib import URIRef

        text = ("CONSTRUCT { ?e ?p ?o . ?s ?q ?e } WHERE { { ?e ?p ?o } UNION { ?s ?q ?e } }")
        return sparql.run(kg.engine, text, {"e": URIRef(iri)}).graph

    async def entity(request: Request) -> Response:
        local = request.path_params["local"]
        iri = KZ + local
        fmt = request.query_params.get("format")
        if fmt is not None and fmt not in MEDIA:
            return PlainTextResponse(f"format must be one of {', '.join(MEDIA)}\n", 400)
        media = MEDIA[fmt] if fmt else negotiate(
            request.headers.get("accept"), ["text/html", *GRAPH_TYPES])
        if media is None:
            return PlainTextResponse("available: text/html, " + ", ".join(GRAPH_TYPES) + "\n",
                                     406)
        headers = {"Vary": "Accept"}
        if media == "text/html":
            def build():
                found = kg.entity(iri)
                return entity_page(found, found.facts(), found.sources())
            try:
                return HTMLResponse(await run_in_threadpool(build), headers=headers)
            except (LookupError, InputError):
                return HTMLResponse(page("Not found", f"<h1>Not found</h1><p>No node "
                                                      f"<code>{_esc(iri)}</code> in the graph."
                                                      "</p>"), 404)
        graph = await run_in_threadpool(_entity_graph, iri)
        if len(graph) == 0:
            return PlainTextResponse(f"no node {iri} in the graph\n", 404)
        body = await run_in_threadpool(graph_bytes, graph, GRAPH_TYPES[media])
        return Response(body, headers={**headers, "Content-Type": media})

    def _download(kind: str, fmt: str) -> bytes:
        """The same bytes as ``kzgraph export`` (dataset) or the ontology file in ``fmt``."""
        from .export import serialize

        if kind == "dataset":
            return serialize(kg.graph, fmt)
        from .loader import parse_turtle
        from .paths import ontology_file

        if fmt == "ttl":
            return ontology_file().read_bytes()
        return serialize(parse_turtle(ontology_file()), fmt)

    async def download(request: Request) -> Response:
        kind, ext = request.path_params["kind"], request.path_params.get("ext")
        if kind not in ("dataset", "ontology"):
            return PlainTextResponse("not found; see / for what this server offers\n", 404)
        if ext is None:
            media = negotiate(request.headers.get("accept"), list(GRAPH_TYPES))
            if media is None:
                return PlainTextResponse("available: " + ", ".join(GRAPH_TYPES) + "\n", 406)
            ext = GRAPH_TYPES[media]
        if ext not in ("ttl", "nt", "jsonld"):
            return PlainTextResponse("available: .ttl, .nt, .jsonld\n", 404)
        body = await run_in_threadpool(cached, (kind, ext), lambda: _download(kind, ext))
        return Response(body, headers={"Content-Type": MEDIA[ext], "Vary": "Accept"})

    async def void(request: Request) -> Response:
        base = str(request.base_url)
        body = await run_in_threadpool(cached, ("void", base), lambda: void_turtle(kg, base))
        return Response(body, headers={"Content-Type": "text/turtle"})

    async def home(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "triples": len(kg),
                             "timeout": timeout, "max_rows": max_rows, "workers": workers,
                             "queue": queue, "short_lane": pool.short_lane,
                             "workers_idle": pool.idle(), "worker_pids": pool.pids,
                             "answer_cache": kept.stats()})

    routes = [
        Route("/", home, methods=["GET"]),
        Route("/sparql", endpoint, methods=["GET", "POST"]),
        Route("/queries", list_queries, methods=["GET"]),
        Route("/queries/{name}", stored_query, methods=["GET"]),
        Route("/id/{local:path}", entity, methods=["GET"]),
        Route("/void.ttl", void, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/{kind:str}.{ext:str}", download, methods=["GET"]),
        Route("/{kind:str}", download, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    middleware = [Middleware(_Limits), Middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"], expose_headers=["Content-Disposition", "Retry-After", "ETag"],
        max_age=86400)]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        pool.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.pool, app.state.answers = pool, kept
    return app


class _Limits:
    """ASGI middleware: 414 for an over-long query string, for every route, before routing;
    security headers on every answer."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("query_string", b"")) > MAX_QUERY_STRING:
            body = (f"the query string is over {MAX_QUERY_STRING} bytes; POST the query "
                    "instead\n").encode()
            await send({"type": "http.response.start", "status": 414, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"access-control-allow-origin", b"*")]})
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _block_outbound() -> None:
    """Defence in depth for ``serve``: refuse any socket connection that is not to loopback
    (Python-level only; the real guard is the query vetting in `kzgraph.sparql`)."""
    import sys

    def hook(event, args):
        if event == "socket.connect":
            address = args[1]
            host = address[0] if isinstance(address, tuple) else ""
            if isinstance(address, tuple) and host not in ("127.0.0.1", "::1", "localhost"):
                raise PermissionError(f"kzgraph serve makes no outbound connections ({host})")
        elif event == "urllib.Request":
            raise PermissionError("kzgraph serve makes no outbound requests")

    sys.addaudithook(hook)


def serve(kg=None, *, host: str = "127.0.0.1", port: int = 8000,
          timeout: float = DEFAULT_TIMEOUT, max_rows: int = DEFAULT_MAX_ROWS,
          workers: int = DEFAULT_WORKERS, queue: int = DEFAULT_QUEUE,
          answer_cache: int = DEFAULT_ANSWER_CACHE, short_lane: int = DEFAULT_SHORT_LANE,
          log_level: str = "info", http: str = "granian") -> None:
    """Serve ``kg`` (default: the validated packaged graph) until interrupted (SIGINT or
    SIGTERM). ``http``: "granian" (Rust HTTP, the default: 1.3-2x uvicorn's requests per
    second here, see docs/design.md) or "uvicorn" (h11, pure Python)."""
    if kg is None:
        from . import load

        kg = load()
    app = create_app(kg, timeout=timeout, max_rows=max_rows, workers=workers, queue=queue,
                     answer_cache=answer_cache, short_lane=short_lane)
    _block_outbound()
    if http == "uvicorn":
        import uvicorn

        uvicorn.run(app, host=host, port=port, http="h11", log_level=log_level,
                    h11_max_incomplete_event_size=MAX_HEADERS, timeout_graceful_shutdown=2)
        return
    import asyncio
    import logging
    import signal

    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server.embed import Server

    logging.getLogger("_granian").addFilter(  # "Embedded server is experimental!" every start
        lambda record: "experimental" not in record.getMessage())
    server = Server(app, address=host, port=port, interface=Interfaces.ASGI,
                    http=HTTPModes.http1, websockets=False, log_level=LogLevels(log_level),
                    http1_settings=HTTP1Settings(max_buffer_size=MAX_HEADERS))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        await server.serve()

    asyncio.run(main())
