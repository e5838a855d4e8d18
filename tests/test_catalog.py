"""The stored query catalog (queries/*.rq) and the quality checks (queries/checks/*.rq).

(a) every file parses, has a full header and projects its parameters;
(b) the CLI lists the queries and explains unknown names and missing parameters;
(c) every stored query returns the rows in tests/data/expected/NAME.tsv, checked by hand
    against the two source articles;
(d) differential: rdflib and Oxigraph give the same answers for every query and check;
(e) parameters cannot inject SPARQL;
(f) the worked command-line examples give the documented output.
"""
from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal, InvalidOperation

import pytest
import rdflib
from rdflib import Literal, URIRef, XSD

import kzgraph
from kzgraph import catalog, sparql
from kzgraph.catalog import parse_example
from kzgraph.engine import MemoryEngine, OxigraphEngine
from kzgraph.namespaces import shorten

from .conftest import DATA, run_cli
from .test_checks import BROKEN, PREFIXES

EXPECTED = DATA / "expected"
QUERIES = catalog.load()
CHECKS = catalog.checks()
NUMERIC = {str(XSD[t]) for t in (
    "decimal", "integer", "int", "long", "short", "byte", "double", "float", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong")}
SEPARATOR = " | "  # GROUP_CONCAT separator in the stored queries; item order is engine-specific


# -- helpers -------------------------------------------------------------------------------

def norm_number(text: str) -> str:
    """'51.0', '51', '5.1E1' → '51'; '24.9900' → '24.99' (compare numbers by value)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if value == value.to_integral_value():
        return str(value.to_integral_value())
    return format(value.normalize(), "f")


def norm_text(text: str) -> str:
    """Joined lists (GROUP_CONCAT with ' | ') are compared as sorted lists."""
    if SEPARATOR in text:
        return SEPARATOR.join(sorted(text.split(SEPARATOR)))
    return text


def norm(term) -> str:
    """An rdflib term → the plain string used in the expected files: IRIs as kz:/kzo: names,
    numbers by value, everything else (dates, durations, strings) by lexical form."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return shorten(str(term))
    if isinstance(term, Literal):
        if term.datatype is not None and str(term.datatype) in NUMERIC:
            return norm_number(str(term))
        return norm_text(str(term))
    return str(term)


def norm_expected(cell: str) -> str:
    """A cell of an expected file (or of a result, for symmetry): numbers by value."""
    if re.fullmatch(r"-?\d+(\.\d+)?", cell):
        return norm_number(cell)
    return norm_text(cell)


def has_order_by(query_text: str) -> bool:
    """True when the outermost query has ORDER BY (it follows the last closing brace)."""
    tail = query_text[query_text.rfind("}") + 1:]
    return re.search(r"\bORDER\s+BY\b", tail, re.IGNORECASE) is not None


def rows_of(result) -> list[tuple[str, ...]]:
    return [tuple(norm(t) for t in row) for row in result.rows]


def run(engine, query, params: dict | None = None):
    return sparql.run(engine, query.text, catalog.bindings(query, params or {}))


def read_expected(name: str):
    """(params, header, rows) of tests/data/expected/NAME.tsv."""
    lines = (EXPECTED / f"{name}.tsv").read_text(encoding="utf-8").split("\n")
    params: dict[str, str] = {}
    if lines and lines[0].startswith("# params:"):
        for item in lines.pop(0)[len("# params:"):].split():
            key, _, value = item.partition("=")
            params[key] = value
    while lines and lines[-1] == "":
        lines.pop()
    header = lines[0].split("\t")
    rows = [tuple(norm_expected(c) for c in line.split("\t")) for line in lines[1:]]
    return params, header, rows


def all_example_runs():
    """(query name, params) for every example line of every stored query."""
    out = []
    for name, query in QUERIES.items():
        seen = []
        for line in query.examples:
            params = parse_example(line)[1]
            if params not in seen:
                seen.append(params)
                out.append(pytest.param(name, params, id=f"{name}{'-' + '-'.join(params.values()) if params else ''}"))
    return out


# -- (a) headers, parsing, parameters -----------------------------------------------------

def test_catalog_is_large_enough():
    assert len(QUERIES) >= 25
    for name in QUERIES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), f"{name}: not kebab-case"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_stored_query_header(name):
    query = QUERIES[name]
    prepared = sparql.prepare(query.text)  # parses standalone: every PREFIX is declared
    assert prepared.form == "SELECT"
    assert query.title and query.description, f"{name}: title and description are required"
    assert query.examples, f"{name}: needs at least one '#+ example:' line"
    for line in query.examples:
        args, params = parse_example(line)
        assert args[:3] == ["kzgraph", "query", name], f"{name}: example must run this query: {line}"
        assert set(params) <= {p.name for p in query.params}, f"{name}: unknown parameter in {line}"
        catalog.bindings(query, params)  # the example's values convert to their types
    for param in query.params:
        assert param.description, f"{name}: parameter {param.name} needs a description"
        # Oxigraph substitutes only projected variables (and rdflib would silently ignore
        # a parameter that binds nothing), so every parameter must be in the projection.
        assert param.name in prepared.variables, f"{name}: parameter ?{param.name} not projected"
    required = [p.name for p in query.params if p.required]
    for line in query.examples:
        assert set(required) <= set(parse_example(line)[1]), f"{name}: example lacks a required parameter"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_stored_query_avoids_engine_pitfalls(name):
    """Rules measured on rdflib 7.6 and Oxigraph 0.5 (see docs and the comments in the files)."""
    text = "\n".join(line for line in QUERIES[name].text.splitlines() if not line.startswith("#"))
    # rdflib#2332: a VALUES block directly followed by OPTIONAL loses rows in rdflib 7.6
    # (LeftJoin over the bare VALUES table); VALUES followed by a triple pattern is fine.
    assert not re.search(r"\bVALUES\b[^{]*\{[^}]*\}\s*OPTIONAL\b", text, re.I), \
        "VALUES directly before OPTIONAL breaks rdflib (rdflib#2332); put a triple pattern between"
    for param in QUERIES[name].params:
        # Oxigraph's substitutions leave BOUND(?param) false even when the parameter is given.
        assert not re.search(r"BOUND\(\s*\?%s\s*\)" % param.name, text), f"BOUND(?{param.name})"
    tail = text[text.rfind("}") + 1:]
    if re.search(r"\bGROUP\s+BY\b", tail, re.I) and has_order_by(tail):
        # rdflib 7.6 silently ignores ORDER BY on a GROUP BY key that is not projected.
        order = tail[re.search(r"\bORDER\s+BY\b", tail, re.I).end():]
        projected = set(sparql.prepare(QUERIES[name].text).variables)
        missing = set(re.findall(r"\?(\w+)", order)) - projected
        assert not missing, f"ORDER BY on unprojected grouped variables {missing}"
    assert has_order_by(QUERIES[name].text) or name == "entity-count", \
        f"{name}: needs ORDER BY for deterministic output"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_header(name):
    check = CHECKS[name]
    assert sparql.prepare(check.text).form == "SELECT"
    assert check.title and check.description
    assert "# Why:" in check.text, f"check {name} must say why it matters"
    assert not check.params


def test_params_are_typed_and_defaults_convert():
    for query in QUERIES.values():
        for param in query.params:
            assert param.type in catalog.PARAM_TYPES
            if param.default is not None:
                catalog.convert(param, param.default)


# -- (b) the command line -----------------------------------------------------------------

def test_cli_lists_all_queries():
    proc = run_cli("queries")
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
    assert listed == set(QUERIES)
    for name, query in QUERIES.items():
        assert query.title in proc.stdout
    checks = run_cli("queries", "--checks")
    assert {line.split()[0] for line in checks.stdout.splitlines() if line.strip()} == set(CHECKS)


def test_cli_unknown_query_suggests_close_names():
    proc = run_cli("query", "ownershp")
    assert proc.returncode == 2
    assert "ownershp" in proc.stderr and "ownership" in proc.stderr
    assert "did you mean" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_missing_required_parameter():
    proc = run_cli("query", "owners-of")
    assert proc.returncode == 2
    assert "'org'" in proc.stderr and "-p org=" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_bad_parameter_value_and_unknown_parameter():
    bad = run_cli("query", "laws-by-year", "-p", "year=twenty")
    assert bad.returncode == 2 and "year" in bad.stderr
    unknown = run_cli("query", "owners-of", "-p", "org=kz:kcell", "-p", "colour=red")
    assert unknown.returncode == 2 and "colour" in unknown.stderr and "org" in unknown.stderr


def test_api_unknown_query(kg):
    with pytest.raises(catalog.UnknownQuery, match="ownership"):
        kg.query("ownershp")


# -- (c) expected rows ---------------------------------------------------------------------

def test_every_query_has_expected_rows():
    files = {p.stem for p in EXPECTED.glob("*.tsv")}
    assert files == set(QUERIES), f"missing: {set(QUERIES) - files}, stale: {files - set(QUERIES)}"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_expected_rows(name, memory):
    params, header, expected = read_expected(name)
    query = QUERIES[name]
    assert params == query.example_params, f"{name}: expected file must use the first example's parameters"
    result = run(memory, query, params)
    assert result.variables == header
    actual = [tuple(norm_expected(c) for c in row) for row in rows_of(result)]
    assert len(actual) == len(expected)
    if has_order_by(query.text):
        assert actual == expected
    else:
        assert sorted(actual) == sorted(expected)


def test_effective_share_is_a_product(memory):
    rows = run(memory, QUERIES["effective-state-ownership"]).dicts()
    kcell = [r for r in rows if r["owned"].endswith("/kcell")]
    assert len(kcell) == 1 and kcell[0]["hops"] == 2
    assert Decimal(str(kcell[0]["effectiveShare"])) == Decimal("24.99")  # 51 % × 49 %


def test_optional_parameters_filter(memory):
    everything = run(memory, QUERIES["operators-by-service"])
    cable = run(memory, QUERIES["operators-by-service"], {"technology": "kz:tech-cable"})
    assert 0 < len(cable.rows) < len(everything.rows)
    assert {r["technologyLabel"] for r in cable.dicts()} == {"cable access"}
    first = run(memory, QUERIES["isps-by-tier"], {"tier": "kzo:FirstTierISP"}).dicts()
    assert first and all(r["tier"].endswith("#FirstTierISP") for r in first)
    years = run(memory, QUERIES["laws-by-year"], {"year": "2005"}).dicts()
    assert years and all(r["actYear"] == "2005" for r in years)


# -- (d) differential: rdflib against Oxigraph -------------------------------------------

def _compare(memory_result, oxigraph_result, ordered: bool):
    assert memory_result.variables == oxigraph_result.variables
    a, b = rows_of(memory_result), rows_of(oxigraph_result)
    assert Counter(a) == Counter(b), "rdflib and Oxigraph disagree"
    if ordered:
        assert a == b, "rdflib and Oxigraph order the rows differently"


@pytest.mark.parametrize("name, params", all_example_runs())
def test_differential_stored_queries(name, params, memory, oxigraph):
    query = QUERIES[name]
    _compare(run(memory, query, params), run(oxigraph, query, params), has_order_by(query.text))


@pytest.mark.parametrize("name", sorted(n for n, q in QUERIES.items()
                                        if q.params and not any(p.required for p in q.params)))
def test_differential_without_optional_parameters(name, memory, oxigraph):
    query = QUERIES[name]
    params = {p.name: p.default for p in query.params if p.default is not None}
    _compare(run(memory, query, params), run(oxigraph, query, params), has_order_by(query.text))


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_differential_checks(name, memory, oxigraph, merged_graph):
    check = CHECKS[name]
    _compare(sparql.run(memory, check.text), sparql.run(oxigraph, check.text), True)
    # and on the broken graph that makes the check fire; a non-canonical number is seen by
    # rdflib only (Oxigraph keeps numbers by value: that difference is what the check is for)
    if name in BROKEN and name != "number-not-canonical":
        broken = rdflib.Graph()
        for triple in merged_graph:
            broken.add(triple)
        broken.parse(data=PREFIXES + BROKEN[name][0], format="turtle")
        mem, oxi = sparql.run(MemoryEngine(broken), check.text), sparql.run(
            OxigraphEngine.from_graph(broken), check.text)
        assert mem.rows
        _compare(mem, oxi, True)


@pytest.mark.parametrize("snippet, culprit", [
    ("""kz:event-late-part a kzo:Restoration ; rdfs:label "Too late"@en ;
          kzo:start "2022-01-07T09:00:00Z"^^xsd:dateTime ; kzo:partOf kz:event-parent ;
          prov:wasDerivedFrom kz:src-internet-shutdowns .
        kz:event-parent a kzo:InternetShutdown ; rdfs:label "Parent"@en ;
          kzo:start "2022-01-07T02:00:00Z"^^xsd:dateTime ; kzo:end "2022-01-07T05:00:00Z"^^xsd:dateTime ;
          prov:wasDerivedFrom kz:src-internet-shutdowns .""", "event-late-part"),
    ("""kz:event-next-year a kzo:Restoration ; rdfs:label "Next year"@en ;
          kzo:asOf "2023-02"^^xsd:gYearMonth ; kzo:partOf kz:event-unrest-2022-01 ;
          prov:wasDerivedFrom kz:src-internet-shutdowns .""", "event-next-year"),
])
def test_sub_event_after_parent(snippet, culprit, merged_graph):
    """The other half of sub-event-outside-parent: a part after its parent's end or as-of."""
    graph = rdflib.Graph()
    for triple in merged_graph:
        graph.add(triple)
    graph.parse(data=PREFIXES + snippet, format="turtle")
    check = CHECKS["sub-event-outside-parent"]
    for engine in (MemoryEngine(graph), OxigraphEngine.from_graph(graph)):
        rows = rows_of(sparql.run(engine, check.text))
        assert [r for r in rows if r[0] == f"kz:{culprit}"], engine.name


def test_inverted_share_bounds(merged_graph):
    graph = rdflib.Graph()
    for triple in merged_graph:
        graph.add(triple)
    graph.parse(data=PREFIXES + """kz:stake-inverted a kzo:OwnershipStake ;
        kzo:shareMin 60.0 ; kzo:shareMax 40.0 .""", format="turtle")
    rows = rows_of(sparql.run(MemoryEngine(graph), CHECKS["stake-share-and-bounds"].text))
    assert ("kz:stake-inverted", "minimum share above maximum") in rows


# -- (e) parameter injection ---------------------------------------------------------------

HOSTILE = '"} ; DROP ALL #'


def test_iri_parameter_rejects_injection(kg):
    before = len(kg)
    with pytest.raises(kzgraph.InputError, match="not a valid IRI"):
        kg.query("owners-of", org=HOSTILE)
    with pytest.raises(kzgraph.InputError, match="not a valid IRI"):
        kg.query("entity", entity="kz:kcell> } ; DROP ALL ; SELECT * { <x")
    assert len(kg) == before


def test_string_parameter_is_only_a_value(kg, oxigraph):
    before, before_oxi = len(kg), len(oxigraph)
    assert kg.query("search", text=HOSTILE) == []
    query = QUERIES["search"]
    assert run(oxigraph, query, {"text": HOSTILE}).rows == []
    assert len(kg) == before and len(oxigraph) == before_oxi
    assert kg.query("search", text="Kaz Telecom")  # the same path finds real names


def test_cli_injection_exit_2():
    proc = run_cli("query", "owners-of", "-p", f"org={HOSTILE}")
    assert proc.returncode == 2 and "not a valid IRI" in proc.stderr


# -- (f) worked command-line examples (also shown in the README) ---------------------------

def _table_rows(stdout: str) -> list[str]:
    lines = stdout.rstrip("\n").splitlines()
    assert re.fullmatch(r"\(\d+ rows?\)", lines[-1])
    return lines[2:-1]  # header, ruler, rows, "(n rows)"


def test_readme_example_effective_state_ownership():
    """README: kzgraph query effective-state-ownership"""
    proc = run_cli("query", "effective-state-ownership")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split() == ["state", "owned", "ownedLabel", "hops", "path",
                                                    "effectiveShare"]
    rows = _table_rows(proc.stdout)
    assert len(rows) == 4 and proc.stdout.rstrip().endswith("(4 rows)")
    kcell = [r for r in rows if re.search(r"\skz:kcell\s", r)]
    assert len(kcell) == 1
    assert re.fullmatch(r"kz:government-of-kazakhstan\s+kz:kcell\s+Kcell\s+2\s+"
                        r"Government of Kazakhstan → Kazakhtelecom → Kcell\s+(\S+)", kcell[0])
    assert Decimal(kcell[0].split()[-1]) == Decimal("24.99")  # 51 % × 49 %
    altel = [r for r in rows if re.search(r"\skz:altel\s", r)]
    assert Decimal(altel[0].split()[-1]) == Decimal("25.5")  # 51 % × 50 %
    direct = {r.split()[1]: Decimal(r.split()[-1]) for r in rows}
    assert direct["kz:kazakhtelecom"] == Decimal("51") and direct["kz:kaitk"] == Decimal("80")


def test_readme_example_owners_of_kazakhtelecom():
    """README: kzgraph query owners-of -p org=kz:kazakhtelecom"""
    proc = run_cli("query", "owners-of", "-p", "org=kz:kazakhtelecom")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split()[:6] == ["org", "owner", "ownerLabel", "share",
                                                       "shareMin", "shareMax"]
    rows = _table_rows(proc.stdout)
    assert len(rows) == 2
    # numbers in their canonical form on every engine ("51", not the "51.0" rdflib keeps)
    assert re.match(r"kz:kazakhtelecom\s+kz:government-of-kazakhstan\s+Government of Kazakhstan\s+"
                    r"51\s+state participation\s+The source says 'now'", rows[0])
    assert re.match(r"kz:kazakhtelecom\s+kz:government-of-kazakhstan\s+Government of Kazakhstan\s+"
                    r"0\s+100\s+state participation\s+The source speaks in the present tense",
                    rows[1])
    assert rows[0].rstrip().endswith("kz:stake-government-kazakhtelecom")
    assert rows[1].rstrip().endswith("kz:stake-government-kazakhtelecom-partial")
