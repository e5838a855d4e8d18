"""The published graph in the tools users already have, with their default settings.

Every check runs a stock tool on the real exports, written by the real ``kzgraph export``
command into a temporary folder: the ``pyshacl`` command line, and short scripts run in a fresh
interpreter that import only rdflib, pyoxigraph, pyshacl or SPARQLWrapper (no kzgraph import, no
changed rdflib global: rdflib normalises literals there, "…Z" is read as "…+00:00"). The server
checks talk to a real ``kzgraph serve`` subprocess. The truth each answer is held to comes from
elsewhere: ``kzgraph stats`` for the triple count, ``kzgraph query`` (the CLI) for the answers
over HTTP, broken copies of the exports that must be refused. Jena (``riot``, ``shacl``) is
checked in tests/jena.py. The README section "Using kzgraph's data in other tools" shows the
same commands with their outputs.

The last test turns it round: kzgraph itself in a fresh interpreter with rdflib's defaults keeps
its lexical forms and leaves rdflib's global setting as the user had it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from functools import lru_cache
from pathlib import Path

import pytest

from .conftest import ROOT, free_port

BIN = Path(sys.executable).parent
KZGRAPH, PYSHACL = BIN / "kzgraph", BIN / "pyshacl"
SHAPES = ROOT / "ontology" / "shapes.ttl"
FORMATS = ("ttl", "nt", "nq", "trig", "jsonld", "xml")
QUAD_FORMATS = ("nq", "trig", "jsonld")
#: The graph's one time of day that the broken copies move to local time (+06:00).
UTC_TIME = "2022-01-05T10:30:00Z"
LOCAL_TIME = "2022-01-05T16:30:00+06:00"
KZ = "https://w3id.org/kzgraph/id/"


def run(*args, timeout=600, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          cwd=kwargs.pop("cwd", ROOT), **kwargs)


def stock_python(script: str, *args) -> dict:
    """Run ``script`` in a fresh interpreter (cwd outside the project, so that only installed
    packages import); it prints one JSON document."""
    proc = run(sys.executable, "-c", script, *args, cwd=tempfile.gettempdir())
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pyshacl_cli(*data, extra=()) -> subprocess.CompletedProcess:
    """The command a user types: ``pyshacl -s ontology/shapes.ttl DATA...`` (JSON-LD files need
    ``-df json-ld``: pySHACL guesses the format from ``.json`` but not from ``.jsonld``)."""
    fmt = ["-df", "json-ld"] if any(str(d).endswith(".jsonld") for d in data) else []
    return run(PYSHACL, "-s", SHAPES, *fmt, *extra, *data)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("exports")
    files = {}
    for fmt in FORMATS:
        path = out / f"kzgraph.{fmt}"
        proc = run(KZGRAPH, "export", "--format", fmt, "-o", path)
        assert proc.returncode == 0, proc.stderr
        files[fmt] = path
    return files


@pytest.fixture(scope="module")
def broken_exports(exports, tmp_path_factory) -> dict[str, Path]:
    """Each export with the UTC time of the Cloudflare-reported shutdown moved to local time."""
    out = tmp_path_factory.mktemp("broken")
    files = {}
    for fmt, path in exports.items():
        text = path.read_text(encoding="utf-8")
        assert text.count(UTC_TIME) == 1, (fmt, text.count(UTC_TIME))
        files[fmt] = out / path.name
        files[fmt].write_text(text.replace(UTC_TIME, LOCAL_TIME), encoding="utf-8")
    return files


@lru_cache(maxsize=None)
def stats_triples() -> int:
    proc = run(KZGRAPH, "stats", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["triples"]


# -- pySHACL's command line ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_pyshacl_cli_conforms(exports, fmt):
    proc = pyshacl_cli(exports[fmt])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Conforms: True" in proc.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_pyshacl_cli_refuses_a_local_time(broken_exports, fmt):
    """The same command is not blind: one time moved to +06:00 gives exactly one violation."""
    proc = pyshacl_cli(broken_exports[fmt])
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Conforms: False" in proc.stdout and "Results (1):" in proc.stdout, proc.stdout
    assert "kzsh:Time-utc" in proc.stdout
    assert "event-shutdown-2022-01-05-cloudflare" in proc.stdout


SPLIT = r'''
import json, sys, collections
import pyoxigraph as ox
source, folder = sys.argv[1:3]
parts = collections.defaultdict(list)
for q in ox.parse(path=source, format=ox.RdfFormat.N_QUADS):
    parts[getattr(q.graph_name, "value", "")].append(ox.Triple(q.subject, q.predicate, q.object))
names = []
for i, (graph, triples) in enumerate(sorted(parts.items())):
    name = f"{folder}/graph{i:02d}.nt"
    ox.serialize(triples, output=name, format=ox.RdfFormat.N_TRIPLES)
    names.append([graph, name, len(triples)])
print(json.dumps(names))
'''


def test_named_graphs_conform_together_not_apart(exports, tmp_path):
    """The named graphs (one per source section, plus the ontology) are parts of one graph: a
    section graph points to nodes typed in others, and the class hierarchy is in the ontology
    graph. pySHACL validates the union of a quad file (test above) and of several files given
    together; --validate-each, one graph at a time, must fail, or this split would mean nothing."""
    parts = stock_python(SPLIT, exports["nq"], tmp_path)
    graphs = [graph for graph, _, _ in parts]
    assert len(graphs) >= 20 and "https://w3id.org/kzgraph/graph/ontology" in graphs, graphs
    files = [name for _, name, _ in parts]
    together = pyshacl_cli(*files)
    assert together.returncode == 0 and "Conforms: True" in together.stdout, together.stdout[-3000:]
    apart = pyshacl_cli(*files, extra=("--validate-each",))
    assert apart.returncode == 1 and "Conforms: False" in apart.stdout, apart.stdout[-3000:]


# -- rdflib and pyoxigraph read every format, with the same triples --------------------------

READ = r'''
import hashlib, json, sys
import rdflib, pyoxigraph as ox
from rdflib.compare import to_canonical_graph
OX = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
      "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD, "xml": ox.RdfFormat.RDF_XML}
out = {"normalize": rdflib.NORMALIZE_LITERALS}
for arg in sys.argv[1:]:
    fmt, path = arg.split("=", 1)
    graph = rdflib.Graph().parse(path)             # what a user types first
    dataset = rdflib.Dataset().parse(path)         # named graphs kept
    union = {(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))}
    quads = list(ox.parse(path=path, format=OX[fmt]))
    ox_union = {(q.subject, q.predicate, q.object) for q in quads}
    times = sorted(str(o) for _, p, o in union if str(p) == "https://w3id.org/kzgraph/ontology#start"
                   and str(getattr(o, "datatype", "")).endswith("#dateTime"))
    ox_times = sorted(q.object.value for q in quads if q.predicate.value.endswith("ontology#start")
                      and isinstance(q.object, ox.Literal) and q.object.datatype.value.endswith("#dateTime"))
    flat = rdflib.Graph()
    for triple in union:
        flat.add(triple)
    # blank nodes (the ontology's RDF lists) get new labels on every read: rdflib relabels them
    # canonically; for Oxigraph the triples without blank nodes are compared, and counted with
    ground = lambda terms: not any(isinstance(x, (rdflib.BNode, ox.BlankNode)) for x in terms)
    rdflib_lines = sorted(" ".join(x.n3() for x in triple) for triple in to_canonical_graph(flat))
    ox_lines = sorted({str(ox.Triple(q.subject, q.predicate, q.object)) for q in quads
                       if ground((q.subject, q.object))})
    ox_lines.append(str(len({(q.subject, q.predicate, q.object) for q in quads})))
    out[fmt] = {"graph": len(graph), "rdflib": len(union),
                "rdflib_digest": hashlib.sha256("\n".join(rdflib_lines).encode()).hexdigest(),
                "oxigraph_digest": hashlib.sha256("\n".join(ox_lines).encode()).hexdigest(),
                "rdflib_quads": sum(1 for _ in dataset.quads((None, None, None, None))),
                "graphs": len({g for *_, g in dataset.quads((None, None, None, None))}),
                "oxigraph": len(ox_union), "oxigraph_quads": len(quads),
                "times": times, "ox_times": ox_times}
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def read_counts(exports) -> dict:
    return stock_python(READ, *(f"{fmt}={path}" for fmt, path in exports.items()))


@pytest.mark.parametrize("fmt", FORMATS)
def test_rdflib_and_oxigraph_read_the_same_triples(read_counts, fmt):
    counts = read_counts[fmt]
    assert read_counts["normalize"] is True  # rdflib's default: the trap is really set
    assert counts["rdflib"] == counts["oxigraph"] == stats_triples(), counts
    if fmt in QUAD_FORMATS:
        # one graph per source section plus the ontology: as many quads in both tools; a plain
        # Graph().parse() keeps only the default graph (the README tells users to take a Dataset)
        assert counts["rdflib_quads"] == counts["oxigraph_quads"] > counts["rdflib"], counts
        assert counts["graph"] < counts["rdflib"]
    else:
        assert counts["graph"] == counts["rdflib"], counts


def test_every_format_carries_the_same_triples(read_counts):
    """Not only as many: the same triples, term for term, in every format (each tool's own
    spelling of the terms, so rdflib's and Oxigraph's digests differ from each other)."""
    for tool in ("rdflib_digest", "oxigraph_digest"):
        digests = {fmt: read_counts[fmt][tool] for fmt in FORMATS}
        assert len(set(digests.values())) == 1, (tool, digests)


@pytest.mark.parametrize("fmt", FORMATS)
def test_times_read_as_utc_by_both(read_counts, fmt):
    """rdflib's defaults spell the UTC times "+00:00", Oxigraph keeps "Z": the same instants."""
    counts = read_counts[fmt]
    assert len(counts["times"]) == len(counts["ox_times"]) == 2, counts
    assert all(t.endswith("+00:00") for t in counts["times"]), counts["times"]
    assert all(t.endswith("Z") for t in counts["ox_times"]), counts["ox_times"]
    assert [t.removesuffix("+00:00") for t in counts["times"]] == \
        [t.removesuffix("Z") for t in counts["ox_times"]]


OXIGRAPH_SHACL = r'''
import json, sys
import pyoxigraph as ox, pyshacl
shapes, path = sys.argv[1:3]
store = ox.Store()
store.load(path=path, format=ox.RdfFormat.N_QUADS)
conforms, _, text = pyshacl.validate(store, shacl_graph=shapes, inference="none")
print(json.dumps([len(store), conforms, text]))
'''


@pytest.mark.slow
def test_oxigraph_store_validates(broken_exports):
    """pySHACL on a pyoxigraph Store (Oxigraph keeps "…Z"), all shapes, the union of the named
    graphs: the N-Quads copy with one time moved to +06:00 gives exactly that one violation, so
    the rest of the graph as Oxigraph reads it conforms, "Z" times included. One run only:
    pySHACL over a Store takes minutes (rdflib in memory: seconds)."""
    quads, conforms, text = stock_python(OXIGRAPH_SHACL, SHAPES, broken_exports["nq"])
    assert quads > stats_triples()
    assert conforms is False and "Results (1):" in text, text[-3000:]
    assert "kzsh:Time-utc" in text and "event-shutdown-2022-01-05-cloudflare" in text, text


# -- SPARQLWrapper against kzgraph serve ------------------------------------------------------

PREFIXES = ("PREFIX kzo: <https://w3id.org/kzgraph/ontology#>\n"
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")
QUERIES = {
    # typed literals of every time precision (gYear, gYearMonth, date, dateTime "…Z"),
    # decimals, language-tagged labels and unbound values
    "select": PREFIXES + "SELECT ?e ?label ?start ?share WHERE { ?e rdfs:label ?label . "
                         "OPTIONAL { ?e kzo:start ?start } OPTIONAL { ?e kzo:share ?share } "
                         "FILTER(BOUND(?start) || BOUND(?share)) } ORDER BY ?e",
    "ask-true": PREFIXES + 'ASK { ?e kzo:start '
                           '"2022-01-05T10:30:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> }',
    "ask-false": PREFIXES + "ASK { ?e kzo:share ?s FILTER(?s > 100) }",
    "construct": PREFIXES + "CONSTRUCT { ?e kzo:start ?t ; rdfs:label ?l } "
                            "WHERE { ?e kzo:start ?t ; rdfs:label ?l }",
}
#: (query, SPARQLWrapper return format, kzgraph query --format) pairs compared.
CASES = [("select", f, f) for f in ("json", "xml", "csv", "tsv")] + \
        [("ask-true", f, f) for f in ("json", "xml", "csv", "tsv")] + [("ask-false", "json", "json")] + \
        [("construct", "turtle", "ttl"), ("construct", "n3", "ttl"), ("construct", "rdf+xml", "nt"),
         ("construct", "xml", "nt"), ("construct", "json-ld", "jsonld"), ("construct", "json", "jsonld")]
ENTITIES = ("kcell", "event-shutdown-2022-01-05-cloudflare")


@pytest.fixture(scope="module")
def server():
    """``kzgraph serve`` in a subprocess on a free loopback port; its base URL."""
    port = free_port()
    proc = subprocess.Popen([str(KZGRAPH), "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ), cwd=ROOT)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(base + "health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("kzgraph serve did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture(scope="module")
def cli_answers(tmp_path_factory) -> dict[str, Path]:
    """``kzgraph query --sparql Q --format F`` for every case."""
    out = tmp_path_factory.mktemp("answers")
    files = {}
    for name, fmt in sorted({(q, cli) for q, _, cli in CASES}):
        proc = run(KZGRAPH, "query", "--sparql", QUERIES[name], "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        files[f"{name}.{fmt}"] = out / f"{name}.{fmt}"
        files[f"{name}.{fmt}"].write_text(proc.stdout, encoding="utf-8")
    return files


CLIENT = r'''
import csv, io, json, sys
from decimal import Decimal, InvalidOperation
import xml.etree.ElementTree as ET
import rdflib
from SPARQLWrapper import SPARQLWrapper

base, export = sys.argv[1:3]
cases, queries, answers = map(json.loads, sys.argv[3:6])
RES = "{http://www.w3.org/2005/sparql-results#}"

def number(text):
    try:
        return format(Decimal(text).normalize(), "f")
    except (InvalidOperation, ValueError):
        return text

def key(term):
    # an RDF term as a value: 80.0 and 80 (xsd:decimal) are one number, "…Z" and "…+00:00" one time
    if isinstance(term, rdflib.URIRef):
        return ["uri", str(term)]
    if isinstance(term, rdflib.BNode):
        return ["bnode"]
    value = term.value
    if isinstance(value, Decimal):
        shown = number(str(value))
    elif hasattr(value, "isoformat"):
        shown = value.isoformat()
    else:
        shown = str(term)
    return ["literal", shown, str(term.datatype) if term.datatype else None, term.language]

def cell(kind, value, datatype=None, lang=None):
    if kind == "uri":
        return rdflib.URIRef(value)
    if kind == "bnode":
        return rdflib.BNode(value)
    return rdflib.Literal(value, datatype=datatype, lang=lang)

def json_rows(doc):
    if "boolean" in doc:
        return doc["boolean"]
    return [sorted([name, key(cell(v["type"].replace("typed-literal", "literal"), v["value"],
                                    v.get("datatype"), v.get("xml:lang")))]
                   for name, v in b.items()) for b in doc["results"]["bindings"]]

def xml_rows(text):
    root = ET.fromstring(text)
    boolean = root.find(RES + "boolean")
    if boolean is not None:
        return boolean.text.strip() == "true"
    rows = []
    for result in root.iter(RES + "result"):
        row = []
        for b in result.findall(RES + "binding"):
            term = b[0]
            row.append([b.get("name"), key(cell(term.tag.removeprefix(RES), term.text or "",
                        term.get("datatype"), term.get("{http://www.w3.org/XML/1998/namespace}lang")))])
        rows.append(sorted(row))
    return rows

def csv_rows(text):
    # CSV drops types: numbers are compared as numbers
    return [[number(v) for v in r] for r in csv.reader(io.StringIO(text)) if r]

def tsv_rows(text):
    lines = [line.split("\t") for line in text.splitlines() if line]
    if not lines or lines[0] == ["?boolean"]:
        return lines
    out = [lines[0]]
    for line in lines[1:]:
        terms = []
        for v in line:
            if not v:
                terms.append(None)
                continue
            g = rdflib.Graph().parse(data=f"<urn:s> <urn:p> {v} .", format="turtle")
            terms.append(key(next(iter(g.objects()))))
        out.append(terms)
    return out

def graph_set(triples):
    return sorted(json.dumps([key(x) for x in triple]) for triple in triples)

def parse_graph(text, fmt):
    return rdflib.Graph().parse(data=text, format={"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}[fmt])

out = {"normalize": rdflib.NORMALIZE_LITERALS, "cases": [], "entities": {}}
for query, sw_format, cli_format in cases:
    sw = SPARQLWrapper(base + "sparql")
    sw.setQuery(queries[query])
    sw.setReturnFormat(sw_format)
    response = sw.query()
    media = response.response.headers.get("content-type", "")
    got = response.convert()
    expected = open(answers[f"{query}.{cli_format}"], encoding="utf-8").read()
    if query == "construct":
        graph = got if isinstance(got, rdflib.Graph) else rdflib.Graph().parse(data=got, format="turtle")
        a, b = graph_set(graph), graph_set(parse_graph(expected, cli_format))
    elif sw_format == "json":
        a, b = json_rows(got), json_rows(json.loads(expected))
        out[f"raw-{query}"] = got
    elif sw_format == "xml":
        a, b = xml_rows(got.toxml()), xml_rows(expected)
    elif sw_format == "csv":
        a, b = csv_rows(got.decode("utf-8")), csv_rows(expected)
    else:
        a, b = tsv_rows(got.decode("utf-8")), tsv_rows(expected)
    out["cases"].append([query, sw_format, media, a, b])
published = rdflib.Graph().parse(export)
for entity in sys.argv[6:]:
    page = rdflib.Graph().parse(base + "id/" + entity)   # content negotiation, rdflib's Accept
    node = rdflib.URIRef("https://w3id.org/kzgraph/id/" + entity)
    expected = [t for t in published if node in (t[0], t[2])]  # its triples in the export
    out["entities"][entity] = [graph_set(page), graph_set(expected)]
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def client_results(server, cli_answers, exports) -> dict:
    answers = {key: str(path) for key, path in cli_answers.items()}
    return stock_python(CLIENT, server, exports["nt"], json.dumps(CASES), json.dumps(QUERIES),
                        json.dumps(answers), *ENTITIES)


def _case(client_results, query, sw_format):
    for row in client_results["cases"]:
        if row[0] == query and row[1] == sw_format:
            return row
    raise AssertionError(f"no result for {query} / {sw_format}")


@pytest.mark.parametrize("query, sw_format, cli_format", CASES, ids=[f"{q}-{f}" for q, f, _ in CASES])
def test_sparqlwrapper_answers_like_kzgraph_query(client_results, query, sw_format, cli_format):
    _, _, media, got, expected = _case(client_results, query, sw_format)
    assert client_results["normalize"] is True
    assert got == expected, f"{query} as {sw_format} ({media}): SPARQLWrapper and kzgraph query differ"
    if query == "ask-true":
        assert got in (True, [["true"]], [["boolean"], ["true"]], [["?boolean"], ["true"]]), got
    elif query == "ask-false":
        assert got is False
    else:
        assert len(got) > 10, got  # a real answer, not two empty ones


def test_sparqlwrapper_formats_are_the_asked_ones(client_results):
    """The server answered each SPARQLWrapper return format in the media type it stands for
    (SPARQLWrapper sends format=... with media types: the server must accept them)."""
    media = {(row[0], row[1]): row[2].split(";")[0] for row in client_results["cases"]}
    assert media[("select", "json")] == "application/sparql-results+json"
    assert media[("select", "xml")] == "application/sparql-results+xml"
    assert media[("select", "csv")] == "text/csv"
    assert media[("select", "tsv")] == "text/tab-separated-values"
    assert media[("construct", "turtle")] == media[("construct", "n3")] == "text/turtle"
    assert media[("construct", "rdf+xml")] == media[("construct", "xml")] == "application/rdf+xml"
    assert media[("construct", "json-ld")] == media[("construct", "json")] == "application/ld+json"


def test_select_carries_every_kind_of_value(client_results):
    rows = _case(client_results, "select", "json")[3]
    kinds = {(value[0], *value[2:]) if value[0] == "literal" else ("uri", None, None)
             for row in rows for _, value in row}
    xsd = "http://www.w3.org/2001/XMLSchema#"
    for wanted in (("uri", None, None), ("literal", None, "en"), ("literal", xsd + "decimal", None),
                   ("literal", xsd + "gYear", None), ("literal", xsd + "date", None),
                   ("literal", xsd + "dateTime", None)):
        assert wanted in kinds, (wanted, sorted(kinds, key=str))
    raw = client_results["raw-select"]["results"]["bindings"]
    times = [b["start"]["value"] for b in raw if b.get("start", {}).get("datatype") == xsd + "dateTime"]
    assert UTC_TIME in times  # the server sends the lexical form of the files


# -- linked-data pages through content negotiation --------------------------------------------


@pytest.mark.parametrize("entity", ENTITIES)
def test_rdflib_reads_a_linked_data_page(client_results, entity):
    page, expected = client_results["entities"][entity]
    assert len(expected) > 5
    assert page == expected
    label = json.dumps([["uri", KZ + entity], ["uri", "http://www.w3.org/2000/01/rdf-schema#label"]])[:-1]
    assert any(line.startswith(label) for line in page), page[:5]


# -- SPARQLWrapper datasets: addDefaultGraph / addNamedGraph against kzgraph serve ------------

GRAPH = "https://w3id.org/kzgraph/graph/"
SHUTDOWNS, LEAD = GRAPH + "src-internet-shutdowns", GRAPH + "src-telecom-lead"
DATASET_QUERIES = {
    # one source alone: the labels the shutdowns section's facts carry
    "default": ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s ?label"),
    # sources side by side: triples per named graph
    "named": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    "ask": "ASK { GRAPH ?g { <https://w3id.org/kzgraph/id/kcell> ?p ?o } }",
}
#: (query, SPARQLWrapper default graphs, named graphs, HTTP method, kzgraph query --graph ...)
DATASET_CASES = [
    ("default", [SHUTDOWNS], [], "GET", [SHUTDOWNS]),
    ("default", [SHUTDOWNS], [], "POST", [SHUTDOWNS]),
    ("named", [], [SHUTDOWNS, LEAD], "GET", [SHUTDOWNS, LEAD]),
    ("named", [SHUTDOWNS, LEAD], [SHUTDOWNS, LEAD], "POST", [SHUTDOWNS, LEAD]),
    ("ask", [], [SHUTDOWNS], "GET", [SHUTDOWNS]),
    ("ask", [], [GRAPH + "src-telecom-satellite"], "GET", [GRAPH + "src-telecom-satellite"]),
]

DATASET_CLIENT = r"""
import json, sys
from SPARQLWrapper import GET, JSON, POST, SPARQLWrapper

base = sys.argv[1]
queries, cases = json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = []
for query, defaults, named, method, _ in cases:
    sw = SPARQLWrapper(base + "sparql")
    sw.setQuery(queries[query])
    sw.setReturnFormat(JSON)
    sw.setMethod(GET if method == "GET" else POST)
    for iri in defaults:
        sw.addDefaultGraph(iri)
    for iri in named:
        sw.addNamedGraph(iri)
    out.append(sw.query().convert())
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def dataset_answers(server) -> list:
    """SPARQLWrapper's answer for every dataset case (in a fresh interpreter), beside
    ``kzgraph query --graph ... --sparql ... --format json``'s."""
    got = stock_python(DATASET_CLIENT, server, json.dumps(DATASET_QUERIES),
                       json.dumps(DATASET_CASES))
    expected = []
    for query, _, _, _, graphs in DATASET_CASES:
        args = [a for g in graphs for a in ("--graph", g)]
        proc = run(KZGRAPH, "query", *args, "--sparql", DATASET_QUERIES[query], "--format", "json")
        assert proc.returncode == 0, proc.stderr
        expected.append(json.loads(proc.stdout))
    return list(zip(got, expected))


@pytest.mark.parametrize("index", range(len(DATASET_CASES)),
                         ids=[f"{c[0]}-{c[3]}-{len(c[1])}d{len(c[2])}n" for c in DATASET_CASES])
def test_sparqlwrapper_datasets_answer_like_kzgraph_query_graph(dataset_answers, index, exports):
    """addDefaultGraph / addNamedGraph (GET and POST) give ``kzgraph query --graph``'s answer;
    the named-graph counts are those of the N-Quads export, the one-source labels a strict
    part of the whole graph's."""
    got, expected = dataset_answers[index]
    assert got == expected
    query = DATASET_CASES[index][0]
    if query == "named":
        counts = {b["g"]["value"]: int(b["n"]["value"]) for b in got["results"]["bindings"]}
        quads = [line for line in exports["nq"].read_text(encoding="utf-8").splitlines() if line]
        assert counts == {g: sum(1 for q in quads if q.endswith(f"<{g}> .")) for g in (SHUTDOWNS, LEAD)}
    elif query == "default":
        label = "<http://www.w3.org/2000/01/rdf-schema#label>"
        in_export = [line for line in exports["nq"].read_text(encoding="utf-8").splitlines()
                     if f" {label} " in line and line.endswith(f"<{SHUTDOWNS}> .")]
        assert len(got["results"]["bindings"]) == len(in_export) == 81  # of the graph's 920
    else:  # Kcell appears in the shutdowns section, not in the satellite one
        assert got["boolean"] is (DATASET_CASES[index][2] == [SHUTDOWNS])


# -- kzgraph in a user's process: rdflib's defaults stay as they were ---------------------------

IN_USER_PROCESS = r'''
import json, sys
import rdflib
out = {"before": rdflib.NORMALIZE_LITERALS}
import kzgraph
from kzgraph.export import serialize
from kzgraph.validate import validate_graph

kg = kzgraph.load()
out["after_load"] = rdflib.NORMALIZE_LITERALS
xsd = "http://www.w3.org/2001/XMLSchema#"
start = "<https://w3id.org/kzgraph/ontology#start>"
out["ask"] = kg.query('ASK { ?e %s "2022-01-05T10:30:00Z"^^<%sdateTime> }' % (start, xsd))
text = ('SELECT (STR(?t) AS ?s) WHERE { ?e %s ?t FILTER(DATATYPE(?t) = <%sdateTime>) } ORDER BY ?s'
        % (start, xsd))
out["memory"] = [row["s"] for row in kg.query(text)]
out["oxigraph"] = [row["s"] for row in kzgraph.load(engine="oxigraph").query(text)]
out["exports"] = {fmt: serialize(kg.graph, fmt).count(b"2022-01-05T10:30:00Z")
                  for fmt in ("ttl", "nt", "trig", "jsonld", "xml")}
own = rdflib.Graph().parse(data='<urn:a> <urn:b> "2022-01-05T10:30:00Z"^^<%sdateTime> .' % xsd, format="nt")
out["users_parse"] = str(next(iter(own.objects())))
rdflib.NORMALIZE_LITERALS = False       # a caller's own choice survives a validation
out["conforms"] = validate_graph(kg.graph).conforms
out["after_validate"] = rdflib.NORMALIZE_LITERALS
print(json.dumps(out))
'''


def test_kzgraph_leaves_rdflib_defaults_alone(tmp_path):
    """kzgraph keeps its own lexical forms ("…Z" in answers, exports, both engines) without
    changing rdflib's global setting for the rest of the user's process. Run twice on a fresh
    cache: the first run builds (parse, validate, pickle), the second unpickles."""
    env = {**os.environ, "KZGRAPH_CACHE": str(tmp_path / "cache")}
    for run_number in (1, 2):
        proc = run(sys.executable, "-c", IN_USER_PROCESS, env=env, cwd=tempfile.gettempdir())
        assert proc.returncode == 0, proc.stderr[-4000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        assert out["before"] is True and out["after_load"] is True, (run_number, out)
        assert out["ask"] is True, out
        assert out["memory"] == out["oxigraph"] == ["2022-01-05T10:30:00Z", "2022-01-07T02:50:00Z"], out
        assert set(out["exports"].values()) == {1}, out
        assert out["users_parse"] == "2022-01-05T10:30:00+00:00", out  # rdflib's own default
        assert out["conforms"] is True and out["after_validate"] is False, out


LEXICAL = """@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<urn:a> <urn:t> "2022-01-05T10:30:00Z"^^xsd:dateTime ; <urn:d> "80.0"^^xsd:decimal ;
    <urn:b> "1"^^xsd:boolean ; <urn:n> 80.0 ; <urn:l> "x"@en .
"""


def test_loader_keeps_lexical_forms_under_rdflib_defaults(tmp_path, monkeypatch):
    """In-process: with rdflib's default switched on, the loader, the unpickler and the scoped
    switch keep lexical forms, and the caller's setting is the same afterwards."""
    import pickle

    import rdflib

    from kzgraph.errors import ParseError
    from kzgraph.loader import lexical_forms, parse_turtle, unpickle

    monkeypatch.setattr(rdflib, "NORMALIZE_LITERALS", True)
    path = tmp_path / "lexical.ttl"
    path.write_text(LEXICAL, encoding="utf-8")
    graph = parse_turtle(path)
    shown = {str(p): str(o) for _, p, o in graph}
    assert shown == {"urn:t": "2022-01-05T10:30:00Z", "urn:d": "80.0", "urn:b": "1", "urn:n": "80.0",
                     "urn:l": "x"}
    assert {o.language for o in graph.objects() if o.language} == {"en"}
    assert rdflib.NORMALIZE_LITERALS is True
    plain = rdflib.Graph().parse(path)  # the user's own parse: rdflib's normalisation, untouched
    assert {str(o) for o in plain.objects()} >= {"2022-01-05T10:30:00+00:00", "true"}
    again = unpickle(pickle.dumps(graph))
    assert {(p, str(o)) for _, p, o in again} == {(p, str(o)) for _, p, o in graph}
    # why kzgraph has its own: rdflib's unpickling rebuilds literals with the global setting
    assert "2022-01-05T10:30:00+00:00" in {str(o) for o in pickle.loads(pickle.dumps(graph)).objects()}
    with lexical_forms():
        with lexical_forms():
            assert rdflib.NORMALIZE_LITERALS is False
        assert rdflib.NORMALIZE_LITERALS is False
    assert rdflib.NORMALIZE_LITERALS is True
    broken = tmp_path / "broken.ttl"
    broken.write_text(LEXICAL + "<urn:a> <urn:b> .\n", encoding="utf-8")
    with pytest.raises(ParseError) as caught:
        parse_turtle(broken)
    assert caught.value.line == 4, str(caught.value)
