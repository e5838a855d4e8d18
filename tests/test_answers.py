"""The answer cache of ``kzgraph serve`` (`kzgraph.answers`), its HTTP validators and the
short-query lane of the worker pool (`kzgraph.workers`).

The cache must never change an answer: a server with it and a server without it
(``answer_cache=0``, the path that existed before) give the same bytes for every stored
query in every result format; an answer never crosses builds, datasets or formats; nothing
but a complete 200 answer is kept; the byte bound holds.
"""
from __future__ import annotations

import asyncio
import time

import pytest

httpx = pytest.importorskip("httpx", reason="pip install httpx (the server's test client)")
pytest.importorskip("starlette", reason="pip install starlette uvicorn (the server stack)")
pytest.importorskip("uvicorn", reason="pip install starlette uvicorn (the server stack)")

from kzgraph.answers import AnswerKey, Answers, build_identity, etag, matches  # noqa: E402

from .test_server import SLOW, server_thread  # noqa: E402

TABULAR = ("json", "xml", "csv", "tsv")
GRAPHS = ("ttl", "nt", "jsonld", "rdfxml")
KCELL = "<https://w3id.org/kzgraph/id/kcell>"
#: ad-hoc queries of the forms the stored queries lack (they are all SELECT)
AD_HOC = {"ASK": f"ASK {{ {KCELL} ?p ?o }}",
          "CONSTRUCT": f"CONSTRUCT {{ {KCELL} ?p ?o }} WHERE {{ {KCELL} ?p ?o }}",
          "DESCRIBE": f"DESCRIBE {KCELL}"}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


# -- the cache itself ------------------------------------------------------------------------


def key(query="SELECT * WHERE { ?s ?p ?o }", build="b1", fmt="json", dataset=()):
    return AnswerKey(build, query, fmt, dataset)


def test_lru_bound_is_held_and_recent_entries_stay():
    cache = Answers(10_000)
    body = b"x" * 1_000
    size = Answers.cost(key("q0"), body)
    for n in range(30):
        assert cache.put(key(f"q{n}"), body)
        if n == 5:
            assert cache.get(key("q0")) == body  # used: now the most recent
        assert cache.bytes <= 10_000
    assert cache.bytes == sum(Answers.cost(k, v) for k, v in cache._entries.items())
    assert len(cache) == 10_000 // size
    assert cache.get(key("q29")) == body and cache.get(key("q1")) is None
    # over a quarter of the budget: not kept, nothing evicted for it
    before = dict(cache._entries)
    assert not cache.put(key("big"), b"y" * 2_600) and cache.get(key("big")) is None
    assert dict(cache._entries) == before
    # the same key again replaces, counted once
    cache.put(key("q29"), b"z")
    assert cache.get(key("q29")) == b"z"
    assert cache.bytes == sum(Answers.cost(k, v) for k, v in cache._entries.items())


def test_zero_disables():
    cache = Answers(0)
    assert not cache.enabled and not cache.put(key(), b"x") and cache.get(key()) is None
    calls = []

    async def compute():
        calls.append(1)
        return b"fresh"

    async def twice():
        return [await cache.fetch(key(), compute) for _ in range(2)]

    assert asyncio.run(twice()) == [b"fresh", b"fresh"] and len(calls) == 2


def test_no_key_answers_for_another_build_dataset_format_or_query():
    cache = Answers()
    base = key()
    cache.put(base, b"answer of b1")
    others = [key(build="b2"), key(fmt="xml"), key(dataset=(("default", "urn:g"),)),
              key(query="SELECT * WHERE { ?s ?p ?o } "), key(dataset=(("named", "urn:g"),))]
    for other in others:
        assert cache.get(other) is None, other
        assert etag(other) != etag(base), other
    assert len({etag(k) for k in others}) == len(others)
    assert cache.get(base) == b"answer of b1" and etag(key()) == etag(base)


def test_build_identity_follows_the_graph():
    a = b"<urn:a> <urn:p> <urn:b> .\n"
    assert build_identity(a) == build_identity(bytes(a))
    assert build_identity(a) != build_identity(a + b"<urn:a> <urn:p> <urn:c> .\n")
    assert len(build_identity(a)) == 64


def test_if_none_match_parsing():
    tag = '"abc"'
    assert matches('"abc"', tag) and matches('W/"abc"', tag) and matches('"x", "abc"', tag)
    assert not matches('"abcd"', tag) and not matches(None, tag) and not matches("", tag)
    assert not matches("*", tag)  # the caller evaluates the query for *


def test_errors_are_never_kept_and_concurrent_misses_share_one_evaluation():
    from kzgraph.protocol import HTTPError

    cache = Answers()
    calls = []

    async def failing():
        calls.append("fail")
        await asyncio.sleep(0.05)
        raise HTTPError(503, "the query took longer than 1 s and was stopped")

    async def working():
        calls.append("work")
        await asyncio.sleep(0.05)
        return b"rows"

    async def scenario():
        first = await asyncio.gather(*(cache.fetch(key(), failing) for _ in range(3)),
                                     return_exceptions=True)
        assert calls == ["fail"] and all(isinstance(e, HTTPError) for e in first)
        assert cache.get(key()) is None and len(cache) == 0
        second = await asyncio.gather(*(cache.fetch(key(), working) for _ in range(3)))
        assert second == [b"rows"] * 3 and calls == ["fail", "work"]
        assert await cache.fetch(key(), failing) == b"rows"  # kept: not evaluated again
        assert calls == ["fail", "work"]

    asyncio.run(scenario())
    assert cache.hits == 1 and cache.misses == 2 and cache.shared == 4


def test_a_cancelled_evaluation_is_redone_for_the_others():
    cache = Answers()
    calls = []

    async def slow():
        calls.append(1)
        await asyncio.sleep(0.2 if len(calls) == 1 else 0)
        return b"rows"

    async def scenario():
        leader = asyncio.ensure_future(cache.fetch(key(), slow))
        await asyncio.sleep(0.01)
        follower = asyncio.ensure_future(cache.fetch(key(), slow))
        await asyncio.sleep(0.01)
        leader.cancel()  # its client went away
        assert await follower == b"rows"
        with pytest.raises(asyncio.CancelledError):
            await leader

    asyncio.run(scenario())
    assert len(calls) == 2 and cache.get(key()) == b"rows"


# -- the servers: cache on, cache off, another build ----------------------------------------


@pytest.fixture(scope="module")
def servers(kg):
    """Three servers in threads of this process: the session's graph with the cache (64 MB)
    and without it, and a graph with one triple more (another build) with the cache."""
    import contextlib

    from kzgraph.engine import OxigraphEngine
    from kzgraph.graph import KZGraph
    from kzgraph.server import create_app, served_ntriples

    other = KZGraph(OxigraphEngine.from_ntriples(
        served_ntriples(kg) + b"<urn:kzgraph:test> <urn:kzgraph:p> \"one more\" .\n"))
    with contextlib.ExitStack() as stack:
        urls = {}
        for name, graph, cache in (("on", kg, 64 * 2**20), ("off", kg, 0),
                                   ("other", other, 64 * 2**20)):
            app = create_app(graph, timeout=30, max_rows=100_000, workers=2,
                             answer_cache=cache)
            urls[name] = stack.enter_context(server_thread(app))
        yield urls


def health(url: str) -> dict:
    return httpx.get(url + "health", timeout=30).json()


def cases():
    """(name, path, params) for every stored query × format of its form, and ad-hoc ASK,
    CONSTRUCT and DESCRIBE in every format."""
    from kzgraph import catalog, sparql

    out = []
    for q in catalog.load().values():
        form = sparql.prepare(q.text).form
        for fmt in (GRAPHS if form in ("CONSTRUCT", "DESCRIBE") else TABULAR):
            out.append((f"{q.name}.{fmt}", f"queries/{q.name}", {**q.example_params,
                                                                 "format": fmt}))
    for form, text in AD_HOC.items():
        for fmt in (TABULAR if form == "ASK" else GRAPHS):
            out.append((f"{form}.{fmt}", "sparql", {"query": text, "format": fmt}))
    return out


def test_cache_on_and_off_give_the_same_bytes_for_every_query_and_format(servers):
    """Every stored query in every result format (and ASK, CONSTRUCT, DESCRIBE in theirs):
    the cache-off server (every answer evaluated), the cache-on server's first answer (a
    miss, evaluated and kept) and its second (a hit) are the same bytes and headers."""
    all_cases = cases()
    assert len(all_cases) >= 4 * 33
    before = health(servers["on"])["answer_cache"]
    for name, path, params in all_cases:
        off = httpx.get(servers["off"] + path, params=params, timeout=60)
        miss = httpx.get(servers["on"] + path, params=params, timeout=60)
        hit = httpx.get(servers["on"] + path, params=params, timeout=60)
        assert off.status_code == miss.status_code == hit.status_code == 200, (name, off.text)
        assert off.content, name
        assert off.content == miss.content == hit.content, name
        for header in ("content-type", "content-disposition", "etag", "cache-control"):
            assert off.headers[header] == miss.headers[header] == hit.headers[header], name
    after = health(servers["on"])["answer_cache"]
    assert after["hits"] - before["hits"] >= len(all_cases)
    assert after["misses"] - before["misses"] <= len(all_cases)
    assert health(servers["off"])["answer_cache"]["entries"] == 0


def test_stored_query_and_its_text_share_the_answer(servers):
    """/queries/owners-of?org=kz:kcell and the same query with the parameter written in,
    sent to /sparql: one key, so one ETag and the same bytes."""
    from kzgraph import catalog
    from kzgraph.engine import substitute

    stored = catalog.get("owners-of")
    text = substitute(stored.text, catalog.bindings(stored, {"org": "kz:kcell"}))
    a = httpx.get(servers["on"] + "queries/owners-of", params={"org": "kz:kcell"}, timeout=30)
    b = httpx.get(servers["on"] + "sparql", params={"query": text}, timeout=30)
    assert a.status_code == b.status_code == 200
    assert a.headers["etag"] == b.headers["etag"] and a.content == b.content
    assert a.json()["results"]["bindings"]


def test_etag_and_if_none_match(servers):
    url = servers["on"] + "sparql"
    first = httpx.get(url, params={"query": COUNT}, timeout=30)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('"') and tag.endswith('"')
    assert "max-age" in first.headers["cache-control"]
    for condition in (tag, "W/" + tag, f'"other", {tag}', "*"):
        again = httpx.get(url, params={"query": COUNT}, headers={"If-None-Match": condition},
                          timeout=30)
        assert again.status_code == 304 and again.content == b"", condition
        assert again.headers["etag"] == tag
    for condition in ('"other"', tag[:-2] + '"', "W/" + tag[:-2] + '"'):
        again = httpx.get(url, params={"query": COUNT}, headers={"If-None-Match": condition},
                          timeout=30)
        assert again.status_code == 200 and again.content == first.content, condition
    # another format of the same query: another representation, another tag
    xml = httpx.get(url, params={"query": COUNT}, headers={"Accept": "text/csv",
                                                           "If-None-Match": tag}, timeout=30)
    assert xml.status_code == 200 and xml.headers["etag"] != tag
    # POST with a matching tag: 412 (a 304 is for GET and HEAD)
    post = httpx.post(url, data={"query": COUNT}, headers={"If-None-Match": tag}, timeout=30)
    assert post.status_code == 412
    assert httpx.post(url, data={"query": COUNT}, timeout=30).content == first.content
    # an error answer has no validator
    bad = httpx.get(url, params={"query": "SELECT WHERE {"}, timeout=30)
    assert bad.status_code == 400 and "etag" not in bad.headers


def test_an_answer_never_crosses_builds(servers, kg):
    """Two servers over two builds (one triple apart): each counts its own triples (checked
    against the graphs' sizes), their ETags differ, and one's ETag is no 304 at the other."""
    answers = {}
    for name in ("on", "other"):
        r = httpx.get(servers[name] + "sparql", params={"query": COUNT}, timeout=30)
        assert r.status_code == 200
        answers[name] = (int(r.json()["results"]["bindings"][0]["n"]["value"]),
                         r.headers["etag"])
    assert answers["on"][0] == len(kg) and answers["other"][0] == len(kg) + 1
    assert answers["on"][1] != answers["other"][1]
    r = httpx.get(servers["other"] + "sparql", params={"query": COUNT},
                  headers={"If-None-Match": answers["on"][1]}, timeout=30)
    assert r.status_code == 200 and r.headers["etag"] == answers["other"][1]
    # the same build served twice (the cache-off server) has the same validators
    r = httpx.get(servers["off"] + "sparql", params={"query": COUNT},
                  headers={"If-None-Match": answers["on"][1]}, timeout=30)
    assert r.status_code == 304


def test_an_answer_never_crosses_datasets(servers, kg):
    """The same query text on the service dataset, on one section graph (default-graph-uri),
    on another, on FROM in the text and on named graphs only: each answer is its own (counts
    checked against the graphs' own sizes), with its own ETag, and the cache-on answers are
    those of the cache-off server."""
    from kzgraph.dataset import GRAPH_NS

    shutdowns, mobile = GRAPH_NS + "src-internet-shutdowns", GRAPH_NS + "src-telecom-mobile"
    sizes = {row["graph"]: int(row["triples"]) for row in kg.query("graphs")}
    cases = {"service": ({"query": COUNT}, len(kg)),
             "shutdowns": ({"query": COUNT, "default-graph-uri": shutdowns}, sizes[shutdowns]),
             "mobile": ({"query": COUNT, "default-graph-uri": mobile}, sizes[mobile]),
             "from": ({"query": COUNT.replace(" WHERE", f" FROM <{mobile}> WHERE")},
                      sizes[mobile]),
             "named only": ({"query": COUNT, "named-graph-uri": mobile}, 0)}
    assert len({n for _, n in cases.values()}) == 4
    tags = {}
    for _ in range(2):  # the second round is answered from the cache
        for name, (params, expected) in cases.items():
            on = httpx.get(servers["on"] + "sparql", params=params, timeout=30)
            off = httpx.get(servers["off"] + "sparql", params=params, timeout=30)
            assert on.status_code == off.status_code == 200, (name, on.text)
            assert on.content == off.content, name
            assert int(on.json()["results"]["bindings"][0]["n"]["value"]) == expected, name
            assert tags.setdefault(name, on.headers["etag"]) == on.headers["etag"]
    plain = {k: v for k, v in tags.items() if k != "from"}
    assert len(set(plain.values())) == len(plain)
    # a tag of one dataset is no 304 for another
    r = httpx.get(servers["on"] + "sparql", params=cases["mobile"][0],
                  headers={"If-None-Match": tags["shutdowns"]}, timeout=30)
    assert r.status_code == 200 and r.headers["etag"] == tags["mobile"]


@pytest.fixture(scope="module")
def strict(kg):
    """A cached server with a 1 s timeout, at most 50 rows and a 200 KB cache."""
    from kzgraph.server import create_app

    app = create_app(kg, timeout=1, max_rows=50, workers=2, answer_cache=200_000)
    with server_thread(app) as url:
        yield url


def test_capped_timed_out_and_refused_answers_are_never_kept(strict):
    url = strict + "sparql"
    start = health(strict)["answer_cache"]
    for _ in range(2):  # asked twice: evaluated twice, kept never
        assert httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                         timeout=30).status_code == 413
        assert httpx.get(url, params={"query": SLOW}, timeout=30).status_code == 503
        assert httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 10",
                                      "format": "nope"}, timeout=30).status_code == 400
    state = health(strict)["answer_cache"]
    assert state["entries"] == start["entries"] and state["bytes"] == start["bytes"]
    assert state["misses"] - start["misses"] == 4 and state["hits"] == start["hits"]
    ok = httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 50"}, timeout=30)
    assert ok.status_code == 200
    assert health(strict)["answer_cache"]["entries"] == start["entries"] + 1


def test_the_byte_bound_holds_in_the_server(strict):
    """Many distinct answers of ~10 KB into a 200 KB cache: never over the bound, the newest
    kept, the oldest evicted (and evaluated again when asked)."""
    texts = [f"SELECT * WHERE {{ ?s ?p ?o }} OFFSET {n} LIMIT 50" for n in range(60)]
    for text in texts:
        assert httpx.get(strict + "sparql", params={"query": text}, timeout=30) \
            .status_code == 200
        state = health(strict)["answer_cache"]
        assert state["bytes"] <= state["max_bytes"] == 200_000
    assert state["entries"] < len(texts)
    hits = state["hits"]
    httpx.get(strict + "sparql", params={"query": texts[-1]}, timeout=30)
    assert health(strict)["answer_cache"]["hits"] == hits + 1
    httpx.get(strict + "sparql", params={"query": texts[0]}, timeout=30)
    assert health(strict)["answer_cache"]["hits"] == hits + 1  # evicted: evaluated again


# -- the short-query lane --------------------------------------------------------------------


def test_shapes_ignore_constants_not_structure():
    from kzgraph.workers import shape

    a = 'SELECT ?x WHERE { <urn:a> ?p "x" . ?x ?y 12.5 } LIMIT 10 # note'
    assert shape(a) == shape('SELECT ?x WHERE {<urn:b> ?p "other"  . ?x ?y 7} LIMIT 200')
    assert shape(a) != shape('SELECT ?x WHERE { <urn:a> ?p "x" . ?x ?z 12.5 } LIMIT 10')
    assert shape(a) != shape('SELECT ?x WHERE { <urn:a> ?p "x" } LIMIT 10')


@pytest.fixture(scope="module")
def ntriples(kg):
    from kzgraph.server import served_ntriples

    return served_ntriples(kg)


@pytest.mark.parametrize("lane", [1, 0])
def test_a_short_query_is_not_stuck_behind_long_ones(ntriples, lane):
    """Two workers; the cross-product COUNT known to be long (its shape measured). Two of
    them and an ASK at once: with a short lane the ASK answers first, on the lane's worker,
    while both COUNTs wait for (or run in) the general lane; with one lane (0) the ASK waits
    until a COUNT is killed at the deadline. The runaway COUNT is killed either way."""
    from kzgraph.protocol import HTTPError
    from kzgraph.workers import Pool

    pool = Pool(ntriples, 2, 2, 100, queue=4, short_lane=lane)
    try:
        assert pool.short_lane == lane
        assert sorted(w.short for w in pool._idle) == ([False, True] if lane else [False] * 2)
        pool.costs.record(SLOW, 5.0)  # as a killed run records it
        assert pool.costs.is_long(SLOW + " # another copy")

        async def go():
            slow = [asyncio.ensure_future(pool.run(SLOW + f" # {n}", {}, "json"))
                    for n in range(2)]
            await asyncio.sleep(0.1)
            ask = asyncio.ensure_future(pool.run("ASK { ?s ?p ?o }", {}, "json"))
            done, _ = await asyncio.wait([ask, *slow], return_when=asyncio.FIRST_COMPLETED)
            first = ask in done
            results = await asyncio.gather(ask, *slow, return_exceptions=True)
            return first, results

        first, (ask, *slow) = asyncio.run(go())
        assert all(isinstance(s, HTTPError) and s.status == 503 for s in slow)
        assert first is bool(lane)
        if lane:
            assert ask == b'{"head":{},"boolean":true}'
        else:  # it got a replacement worker in time, or waited past its deadline
            assert ask == b'{"head":{},"boolean":true}' or ask.status == 503
        assert pool.killed  # the runaway query's worker was killed at the deadline
    finally:
        pool.close()


def test_costs_learn_from_the_workers(ntriples):
    """A query's CPU time is measured in its worker: a cheap ASK stays short, a query
    killed at the deadline becomes long."""
    from kzgraph.workers import Pool

    pool = Pool(ntriples, 2, 1, 100, queue=2)
    try:
        async def go():
            await pool.run("ASK { ?s ?p ?o }", {}, "json")
            try:
                await pool.run(SLOW, {}, "json")
            except Exception:
                pass

        asyncio.run(go())
        assert pool.costs.estimate("ASK { ?s ?p ?o }") < 0.025
        assert not pool.costs.is_long("ASK { ?s ?p ?o }")
        assert pool.costs.is_long(SLOW)
        deadline = time.monotonic() + 60
        while pool.idle() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pool.idle() == 2
    finally:
        pool.close()
