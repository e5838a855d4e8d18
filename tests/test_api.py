"""The analyst's Python API (kzgraph.entities, traversal, ownership, timeline, statistics) and
the CLI commands over it. Expected answers are checked by hand against the two source articles
(/work/shared/seeds: "Telecommunications in Kazakhstan", "Internet in Kazakhstan"); the key
calls are run on the rdflib engine and on Oxigraph and must agree."""
from __future__ import annotations

import datetime as dt
import doctest
import importlib
import json
import sys
from decimal import Decimal

import pytest

import kzgraph
from kzgraph import api_queries, catalog, render, sparql
from kzgraph.errors import AmbiguousEntity, InputError, UnknownEntity
from kzgraph.graph import KZGraph
from kzgraph.records import Records

from .conftest import run_cli

KZ = "https://w3id.org/kzgraph/id/"
KZO = "https://w3id.org/kzgraph/ontology#"
ISPS = "Internet in Kazakhstan — Internet service providers"
LEGAL = "Internet in Kazakhstan — Legal and regulatory frameworks"
TELECOM_LEAD = "Telecommunications in Kazakhstan — lead section"
TELECOM_INTERNET = "Telecommunications in Kazakhstan — Internet"
INTERNET_LEAD = "Internet in Kazakhstan — lead section"
SHUTDOWNS = "Internet in Kazakhstan — Internet shutdowns"


# -- entities ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, iri", [
    ("GSM Kazakhstan", "kcell"),            # the internet article's name for Kcell
    ("gsm kazakhstan", "kcell"),
    ("GSM-Kazakhstan", "kcell"),
    ("  GSM   KAZAKHSTAN ", "kcell"),
    ("gsmkazakhstan", "kcell"),
    ("Kcell", "kcell"),
    ("kz:kcell", "kcell"),
    (KZ + "kcell", "kcell"),
    ("kazakh telecom", "kazakhtelecom"),
    ("KazakhTelekom", "kazakhtelecom"),     # spelling of the internet article
    ("Kaz Telecom", "kazakhtelecom"),       # "Kaz Telecom" in the shutdown section
    ("kazakhtelecom", "kazakhtelecom"),
    ("Nur-Sultan", "astana"),               # the capital's name in 2021
    ("nur sultan", "astana"),
    ("NURSULTAN", "astana"),
    ("KAITK", "kaitk"),
    ("Kazakhstan Association of IT-companies", "kaitk"),
    ("Altel (cellular operator)", "altel"),
])
def test_entity_lookup_tolerates_case_hyphens_and_spaces(kg, name, iri):
    assert kg.entity(name).iri == KZ + iri


def test_entity_fields(kg):
    kcell = kg.entity("GSM Kazakhstan")
    assert kcell.label == "Kcell"
    assert kcell.alt_labels == ("GSM Kazakhstan",)
    assert KZO + "MobileOperator" in kcell.types
    assert kcell.curie == "kz:kcell"
    assert kcell == kg.entity("kz:kcell")
    assert kcell.to_dict()["alt_labels"] == ["GSM Kazakhstan"]


def test_unknown_entity_lists_closest_matches(kg):
    with pytest.raises(UnknownEntity) as info:
        kg.entity("Kcel")
    assert isinstance(info.value, LookupError) and isinstance(info.value, InputError)
    assert info.value.suggestions[0] == ("Kcell", "kz:kcell")
    assert "Kcell (kz:kcell)" in str(info.value)
    with pytest.raises(LookupError, match="Government of Kazakhstan"):
        kg.entity("Goverment of Kazakstan")
    with pytest.raises(UnknownEntity):
        kg.entity("kz:no-such-thing")


def test_ambiguous_entity_lists_the_candidates(kg):
    # "Altel" is the cellular operator Kazakhtelecom held half of (internet article) and a
    # brand of Mobile Telecom Service (telecom article): two entities. Written exactly so,
    # the organisation wins (with a warning, tests/test_engines.py); any other spelling is
    # ambiguous
    with pytest.raises(AmbiguousEntity) as info:
        kg.entity("altel")
    assert isinstance(info.value, LookupError)
    assert {c for _, c in info.value.candidates} == {"kz:altel", "kz:altel-brand"}
    assert "kz:altel-brand" in str(info.value)
    # "Internet users" names a measure and a group of actors
    with pytest.raises(AmbiguousEntity, match="kz:measure-internet-users"):
        kg.entity("internet users")


def test_typed_lookup_resolves_ambiguity(kg):
    assert kg.entity("Altel", type="kzo:Organisation").iri == KZ + "altel"
    assert kg.entity("internet users", type="kzo:Measure").iri == KZ + "measure-internet-users"
    with pytest.raises(UnknownEntity, match="of type kzo:Measure"):
        kg.entity("Kcell", type="kzo:Measure")


def test_search_ranks_matches(kg):
    hits = kg.search("tele")
    assert hits[0].label == "Tele2"
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all("tele" in h.name.lower() for h in hits)
    exact = kg.search("Kazakhtelecom", limit=3)
    assert exact[0].iri == KZ + "kazakhtelecom" and exact[0].score == 1.0
    assert kg.search("Beline")[0].label == "Beeline Kazakhstan"   # spelling mistakes
    assert len(kg.search("tele", limit=3)) == 3


def test_entity_facts_carry_source_and_time(kg):
    facts = kg.entity("Kcell").facts()
    assert isinstance(facts, Records)
    stake = [f for f in facts if f.predicate == KZO + "ownedEntity"]
    assert len(stake) == 1
    assert stake[0].subject == KZ + "stake-kazakhtelecom-kcell"
    assert stake[0].direction == "in"
    assert stake[0].source_labels == (ISPS,)
    assert "currently" in stake[0].time_note
    outage = [f for f in facts if f.predicate == KZO + "affectedOperator"]
    assert [(f.subject, f.as_of) for f in outage] == [
        (KZ + "event-operator-shutdown-2022-01-06", "2022-01-06")]
    country = next(f for f in facts if f.predicate == KZO + "country")
    assert country.direction == "out" and country.object == KZ + "kazakhstan"
    assert country.object_label == "Kazakhstan"


def test_entity_sources(kg):
    sources = kg.entity("Kcell").sources()
    assert {s.label for s in sources} == {
        TELECOM_LEAD, "Telecommunications in Kazakhstan — Key developments", ISPS, SHUTDOWNS}
    assert all(s.document_title in ("Telecommunications in Kazakhstan", "Internet in Kazakhstan")
               for s in sources)


# -- traversal -----------------------------------------------------------------------------


def test_neighbors(kg):
    into = kg.neighbors("Kazakhtelecom", predicate="kzo:owner", direction="in")
    assert [n.iri for n in into] == [KZ + "stake-kazakhtelecom-kcell",
                                     KZ + "stake-kazakhtelecom-altel"]
    assert all(n.direction == "in" and n.predicate_label == "owner" for n in into)
    out = kg.neighbors("kz:stake-kazakhtelecom-kcell")
    assert {(n.predicate, n.iri) for n in out} >= {
        (KZO + "owner", KZ + "kazakhtelecom"), (KZO + "ownedEntity", KZ + "kcell")}
    both = kg.neighbors("Kcell", direction="both")
    assert {n.direction for n in both} == {"in", "out"}
    with pytest.raises(InputError, match="direction"):
        kg.neighbors("Kcell", direction="sideways")


def test_path_kcell_to_the_government(kg):
    # Kcell was among the operators that shut down on 6 January 2022, a part of the
    # nationwide shutdown the state imposed
    path = kg.path("Kcell", "Government of Kazakhstan")
    assert path.nodes == (KZ + "kcell", KZ + "event-operator-shutdown-2022-01-06",
                          KZ + "event-shutdown-2022-01", KZ + "government-of-kazakhstan")
    assert path.predicates == (KZO + "affectedOperator", KZO + "partOf", KZO + "orderedBy")
    assert [s.forward for s in path.steps] == [False, True, True]


def test_path_through_ownership_only(kg):
    # the state owns 51 % of Kazakhtelecom, which controls 49 % of Kcell
    path = kg.path("Kcell", "Government of Kazakhstan",
                   predicates=["kzo:owner", "kzo:ownedEntity"])
    assert path.hops == 4
    assert path.labels == ("Kcell", "Kazakhtelecom's 49 % stake in Kcell", "Kazakhtelecom",
                           "The state's 51 % participation in Kazakhtelecom",
                           "Government of Kazakhstan")
    assert "—[owner]→ Kazakhtelecom" in path.text()


def test_path_options(kg):
    every_link = kg.path("Kcell", "Government of Kazakhstan", exclude=())
    assert every_link.hops == 2                               # both point at the country
    assert every_link.nodes[1] == KZ + "kazakhstan"
    assert kg.path("Kcell", "Government of Kazakhstan", max_hops=2) is None
    assert kg.path("Kcell", "GSM Kazakhstan").hops == 0
    assert kg.path("Kcell", "Government of Kazakhstan").to_dict()["hops"] == 3


def test_subgraph(kg):
    from rdflib import Literal, URIRef

    one = kg.subgraph("Kcell", hops=1)
    kcell, stake = URIRef(KZ + "kcell"), URIRef(KZ + "stake-kazakhtelecom-kcell")
    assert (stake, URIRef(KZO + "ownedEntity"), kcell) in one
    assert (kcell, URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
            Literal("Kcell", lang="en")) in one
    assert (URIRef(KZ + "kazakhtelecom"), None, None) not in one
    two = kg.subgraph("Kcell", hops=2)
    assert (URIRef(KZ + "kazakhtelecom"), None, None) in two
    assert len(two) > len(one)


def test_to_networkx(kg):
    networkx = pytest.importorskip("networkx")
    graph = kg.to_networkx()
    assert isinstance(graph, networkx.MultiDiGraph)
    assert graph.nodes[KZ + "kcell"]["label"] == "Kcell"
    assert graph.has_edge(KZ + "stake-kazakhtelecom-kcell", KZ + "kcell", key=KZO + "ownedEntity")


def test_to_networkx_without_networkx(kg, monkeypatch):
    monkeypatch.setitem(sys.modules, "networkx", None)
    with pytest.raises(ImportError, match="pip install networkx"):
        kg.to_networkx()


# -- ownership -----------------------------------------------------------------------------


def _claims(stakes):
    return [(s.owner_label, s.owned_label, s.share, s.kind_label, s.source_labels) for s in stakes]


def test_owners_of_kcell(kg):
    # "It currently controls 49 percent of the country's leading mobile operator, GSM Kazakhstan"
    assert _claims(kg.owners("Kcell")) == [
        ("Kazakhtelecom", "Kcell", Decimal(49), "control", (ISPS,))]


def test_owners_of_kazakhtelecom(kg):
    # "now with 51 percent state participation" and "the partially state-owned incumbent"
    exact, vague = kg.owners("Kazakhtelecom")
    assert (exact.owner, exact.share, exact.source_labels) == (
        KZ + "government-of-kazakhstan", Decimal(51), (ISPS,))
    assert (vague.owner, vague.share, vague.share_min, vague.share_max, vague.bounds_exclusive,
            vague.source_labels) == (KZ + "government-of-kazakhstan", None, Decimal(0),
                                     Decimal(100), True, (TELECOM_LEAD,))
    assert exact.undated and vague.undated


def test_owners_of_altel_and_kaitk(kg):
    # "50 percent of another cellular operator, Altel"; KAITK "is 80% government-owned"
    assert _claims(kg.owners("Altel")) == [
        ("Kazakhtelecom", "Altel (cellular operator)", Decimal(50), "control", (ISPS,))]
    assert _claims(kg.owners("KAITK")) == [
        ("Government of Kazakhstan", "Kazakhstan Association of IT Companies", Decimal(80),
         "state participation", (LEGAL,))]


def test_holdings(kg):
    assert [(s.owned, s.share) for s in kg.holdings("Kazakhtelecom")] == [
        (KZ + "altel", Decimal(50)), (KZ + "kcell", Decimal(49))]
    state = kg.holdings("Government of Kazakhstan")
    assert {(s.owned_label, s.share) for s in state} == {
        ("Kazakhstan Association of IT Companies", Decimal(80)), ("Kazakhtelecom", Decimal(51)),
        ("Kazakhtelecom", None)}


def test_owners_as_of_flags_undated_stakes(kg):
    stakes = kg.owners("Kazakhtelecom", as_of="2010-06-01")
    assert len(stakes) == 2 and all(s.holds is None for s in stakes)
    assert kg.owners("Kazakhtelecom", as_of="2010", include_undated=False) == []
    assert all(s.holds is None for s in kg.owners("Kazakhtelecom"))


def test_effective_state_share_in_kcell(kg):
    # 51 % of Kazakhtelecom × 49 % of Kcell = 24.99 %
    result = kg.effective_share("Government of Kazakhstan", "Kcell")
    assert result.share == Decimal("24.99")
    assert float(result) == pytest.approx(24.99)
    assert [c.entities for c in result.chains] == [
        (KZ + "government-of-kazakhstan", KZ + "kazakhtelecom", KZ + "kcell")]
    assert result.undated == (KZ + "stake-government-kazakhtelecom",
                              KZ + "stake-kazakhtelecom-kcell")
    assert result.left_out == (KZ + "stake-government-kazakhtelecom-partial",)
    dated = kg.effective_share("Government of Kazakhstan", "Kcell", as_of="2022-01-05")
    assert dated.share == Decimal("24.99") and dated.as_of == "2022-01-05"
    assert kg.effective_share("Government of Kazakhstan", "Altel").share == Decimal("25.5")
    assert kg.effective_share("Kcell", "Kazakhtelecom").share == 0


def test_ownership_chains(kg):
    chains = kg.ownership_chains("Government of Kazakhstan", "Kcell")
    assert len(chains) == 1
    assert chains[0].share == Decimal("24.99")
    assert chains[0].text() == "Government of Kazakhstan —51 %→ Kazakhtelecom —49 %→ Kcell"


def test_controlled_by(kg):
    assert [(c.controller_label, c.share, c.direct) for c in kg.controlled_by("Kazakhtelecom")] \
        == [("Government of Kazakhstan", Decimal(51), True)]
    assert [c.controller_label for c in kg.controlled_by("KAITK")] == ["Government of Kazakhstan"]
    assert kg.controlled_by("Kcell") == []            # 49 % is no majority
    assert kg.controlled_by("Altel") == []            # nor is 50 %
    quarter = kg.controlled_by("Kcell", threshold=25)
    assert [(c.controller_label, c.direct, c.via) for c in quarter] == [
        ("Kazakhtelecom", True, (KZ + "kazakhtelecom", KZ + "kcell")),
        ("Government of Kazakhstan", False,
         (KZ + "government-of-kazakhstan", KZ + "kazakhtelecom", KZ + "kcell"))]


USER_STAKES = """
@prefix ex:   <https://example.org/mine/> .
@prefix kzo:  <https://w3id.org/kzgraph/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
ex:holding a kzo:Company ; rdfs:label "Holding A"@en .
ex:b a kzo:Company ; rdfs:label "Company B"@en .
ex:c a kzo:Company ; rdfs:label "Company C"@en .
ex:d a kzo:Company ; rdfs:label "Company D"@en .
ex:s-ab a kzo:OwnershipStake ; kzo:owner ex:holding ; kzo:ownedEntity ex:b ; kzo:share 60.0 ;
    kzo:start "2010"^^xsd:gYear ; kzo:end "2015-06"^^xsd:gYearMonth .
ex:s-ac a kzo:OwnershipStake ; kzo:owner ex:holding ; kzo:ownedEntity ex:c ; kzo:share 30.0 ;
    kzo:start "2012-01-01"^^xsd:date .
ex:s-bd a kzo:OwnershipStake ; kzo:owner ex:b ; kzo:ownedEntity ex:d ; kzo:share 50.0 ;
    kzo:temporalNote "undated" .
ex:s-cd a kzo:OwnershipStake ; kzo:owner ex:c ; kzo:ownedEntity ex:d ; kzo:share 50.0 ;
    kzo:asOf "2013"^^xsd:gYear .
"""


@pytest.fixture(scope="module")
def with_user_file(tmp_path_factory):
    """The packaged graph plus a user's own file (not validated: the test stakes cite no
    source) — kzgraph.load(paths=[...])."""
    path = tmp_path_factory.mktemp("user") / "mine.ttl"
    path.write_text(USER_STAKES, encoding="utf-8")
    return kzgraph.load(paths=[path], validate=False)


def test_user_file_parallel_paths_add_up_and_dates_filter(with_user_file):
    kg = with_user_file
    # 2013: 60 % × 50 % through B plus 30 % × 50 % through C (asOf 2013) = 30 + 15
    assert kg.effective_share("Holding A", "Company D", as_of="2013").share == 45
    # 2011: the stake in C starts in 2012 → only through B
    assert kg.effective_share("Holding A", "Company D", as_of="2011").share == 30
    # 2014: C's stake in D is dated 2013 only → only through B again
    assert kg.effective_share("Holding A", "Company D", as_of="2014-02").share == 30
    # 2016: A sold B in June 2015; C's 2013 stake does not hold → nothing
    assert kg.effective_share("Holding A", "Company D", as_of="2016").share == 0
    # today: B is sold; the C → D stake (asOf 2013) has no end, so it still counts
    now = kg.effective_share("Holding A", "Company D")
    assert now.share == 15 and now.undated == ()
    assert [s.holds for s in kg.owners("Company B", as_of="2015-06-30")] == [True]
    assert kg.owners("Company B", as_of="2015-07-01") == []
    assert [s.holds for s in kg.owners("Company D", as_of="2013")] == [None, True]
    assert len(kg.ownership_chains("Holding A", "Company D", as_of="2013")) == 2
    assert len(kg.ownership_chains("Holding A", "Company D")) == 1     # B was sold
    # control: A controls B (60 %), so B's 50 % of D counts as A's: 50 % is not > 50 %
    assert kg.controlled_by("Company D", as_of="2013") == []
    # at 40 %: B and C directly (50 % each), A through B, which it controls
    controls = kg.controlled_by("Company D", threshold=40, as_of="2013")
    assert [(c.controller_label, c.direct) for c in controls] == [
        ("Company B", True), ("Company C", True), ("Holding A", False)]
    assert kg.entity("Holding A").iri == "https://example.org/mine/holding"


# -- events and the timeline -----------------------------------------------------------------

JANUARY_PARTS = [   # hand-checked from "Internet shutdowns" (internet article)
    ("2022-01", "event-restoration-tokayev-speeches-2022-01"),
    ("2022-01", "event-shutdown-2022-01-almaty"),
    ("2022-01-04", "event-shutdown-2022-01-04-partial"),
    ("2022-01-05", "event-shutdown-2022-01-05-blackout"),
    ("2022-01-05T10:30:00Z", "event-shutdown-2022-01-05-cloudflare"),
    ("2022-01-06", "event-operator-shutdown-2022-01-06"),
    ("2022-01-06", "event-messaging-blocking-2022-01-06"),
    ("2022-01-07", "event-shutdown-2022-01-07-third-day"),
    ("2022-01-07T02:50:00Z", "event-restoration-2022-01-07"),
    ("2022-01-10", "event-shutdown-2022-01-10-sixth-day"),
]


def _january(kg):
    found = [e for e in kg.events(kind="shutdown", start="2022-01", end="2022-01")
             if e.iri == KZ + "event-shutdown-2022-01"]
    assert len(found) == 1
    return found[0]


def test_january_2022_steps_in_order(kg):
    shutdown = _january(kg)
    assert [(p.date, p.iri) for p in shutdown.parts] == [(d, KZ + i) for d, i in JANUARY_PARTS]
    assert shutdown.start == "2022-01-04" and shutdown.end is None
    assert shutdown.duration is None and "sixth day" in shutdown.time_note
    assert shutdown.scope == "national"
    assert set(shutdown.services) == {"internet access", "telephone service"}
    assert shutdown.ordered_by == ("Government of Kazakhstan",)
    assert set(shutdown.sources) == {SHUTDOWNS, TELECOM_INTERNET}


def test_restoration_lasted_three_hours(kg):
    # Cloudflare: back from about 02:50 UTC to 05:50 UTC on 7 January
    iri = KZ + "event-restoration-2022-01-07"
    restoration = next(p for p in _january(kg).parts if p.iri == iri)
    assert restoration.duration == dt.timedelta(hours=3)
    assert restoration.exact_duration
    assert restoration.to_dict()["duration"] == "PT3H"
    assert restoration.part_of == (KZ + "event-shutdown-2022-01",)
    assert restoration.reported_by == ("Cloudflare",)


def test_events_filters(kg):
    shutdowns = kg.events(kind="shutdown")
    assert all(KZO + "InternetShutdown" in e.kinds for e in shutdowns)
    assert [e.date for e in shutdowns] == sorted(e.date for e in shutdowns)
    assert shutdowns[0].iri == KZ + "event-shutdown-2021-02"
    window = kg.events(kind="disruption", start="2019", end="2021")
    assert [e.iri for e in window] == [KZ + "event-social-media-restriction-2019",
                                       KZ + "event-shutdown-2021-02"]
    almaty = {e.iri for e in kg.events(place="Almaty")}
    assert {KZ + "event-shutdown-2021-02", KZ + "event-shutdown-2022-01-almaty"} <= almaty
    nationwide = {e.iri for e in kg.events(place="Kazakhstan", kind="shutdown")}
    assert KZ + "event-shutdown-2022-01-almaty" in nationwide     # Almaty is in Kazakhstan
    assert [e.iri for e in kg.events(kind="restoration")] == [
        KZ + "event-restoration-tokayev-speeches-2022-01", KZ + "event-restoration-2022-01-07"]
    assert kg.events(kind="Internet shutdowns") == shutdowns      # a class label, plural
    with pytest.raises(InputError, match="unknown kind"):
        kg.events(kind="earthquake")
    with pytest.raises(InputError, match="not a date"):
        kg.events(start="January")


def test_timeline(kg):
    entries = kg.timeline()
    dates = [e.date for e in entries]
    assert dates == sorted(dates)
    assert entries[0].iri == KZ + "event-tld-kz-registered-1994"
    assert {e.category for e in entries} == {"event", "legal act", "policy", "fact"}
    laws = kg.timeline(kind="law")
    assert {e.category for e in laws} == {"legal act"}
    assert ("2019-07", "adopted", KZ + "law-root-certificate-order-2019") in {
        (e.date, e.what, e.iri) for e in laws}
    in_2022 = kg.timeline(start="2022", end="2022")
    assert KZ + "event-restoration-2022-01-07" in {e.iri for e in in_2022}
    assert in_2022 and all(e.date[:4] <= "2022" <= (e.end or e.date)[:4] for e in in_2022)
    for start, end in (("2022", "2021"), ("2023", "2021"), ("2022-03", "2022-02")):
        with pytest.raises(InputError, match="before it starts"):
            kg.timeline(start=start, end=end)
    assert kg.timeline(start="2022-03", end="2022") == kg.timeline(start="2022-03-01",
                                                                   end="2022-12-31")


# -- statistics ------------------------------------------------------------------------------

INTERNET_USERS = [  # period, value, source section
    ("2001", 200000, INTERNET_LEAD),
    ("2002", 100000, TELECOM_INTERNET),
    ("2005", 400000, TELECOM_INTERNET),      # telecom article: 400,000 (2005)
    ("2005", 1000000, INTERNET_LEAD),        # internet article: "from 200,000 to 1 million"
    ("2006", 1247000, TELECOM_INTERNET),
    ("2008", 3130000, TELECOM_INTERNET),
    ("2009", 4700000, TELECOM_INTERNET),
    ("2013", 10000000, INTERNET_LEAD),       # "about 10 million users"
    ("2019", 15160000, TELECOM_INTERNET),
]


def test_internet_users_series(kg):
    rows = kg.series("internet users")
    assert [(o.period, o.value, o.sources) for o in rows] == [
        (p, Decimal(v), (s,)) for p, v, s in INTERNET_USERS]
    assert {o.unit for o in rows} == {"persons"}
    conflicting = [o for o in rows if o.conflicting]
    assert [(o.period, o.value) for o in conflicting] == [("2005", 400000), ("2005", 1000000)]
    assert conflicting[0].conflicts_with == (conflicting[1].iri,)
    assert conflicting[1].conflicts_with == (conflicting[0].iri,)
    assert rows[7].qualifier == "approximately"
    assert kg.series("kz:measure-internet-users") == rows
    with pytest.raises(UnknownEntity, match="of type kzo:Measure"):
        kg.series("Kcell")


# -- records ---------------------------------------------------------------------------------


def test_records_to_dict_and_frames(kg, monkeypatch):
    rows = kg.series("internet users")
    dicts = rows.to_dicts()
    assert dicts[0]["period"] == "2001" and dicts[0]["value"] == 200000
    assert json.loads(render.to_json(rows))[0]["value"] == 200000
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        rows.to_frame()


def test_records_to_frame_with_pandas(kg):
    pytest.importorskip("pandas")
    frame = kg.series("internet users").to_frame()
    assert list(frame["period"])[:3] == ["2001", "2002", "2005"]
    assert len(kg.owners("Kazakhtelecom").to_frame()) == 2


# -- the same answers on both engines ----------------------------------------------------------


@pytest.fixture(scope="module")
def engines(memory, oxigraph):
    return KZGraph(memory), KZGraph(oxigraph)


CALLS = {
    "entity": lambda kg: kg.entity("GSM Kazakhstan").to_dict(),
    "facts": lambda kg: kg.entity("Kcell").facts().to_dicts(),
    "sources": lambda kg: kg.entity("Kazakhtelecom").sources().to_dicts(),
    "search": lambda kg: kg.search("tele").to_dicts(),
    "unknown": lambda kg: _error(lambda: kg.entity("Kcel")),
    "ambiguous": lambda kg: _error(lambda: kg.entity("internet users")),
    "neighbors": lambda kg: kg.neighbors("Kazakhtelecom", direction="both").to_dicts(),
    "neighbors-predicate": lambda kg: kg.neighbors("kz:kazakhtelecom", predicate="kzo:owner",
                                                   direction="in").to_dicts(),
    "path": lambda kg: kg.path("Kcell", "Government of Kazakhstan").to_dict(),
    "path-ownership": lambda kg: kg.path("Kcell", "Government of Kazakhstan",
                                         predicates=["kzo:owner", "kzo:ownedEntity"]).to_dict(),
    "subgraph": lambda kg: sorted((str(s), str(p), str(api_queries.plain(o)))
                                  for s, p, o in kg.subgraph("Kcell", hops=1)),
    "owners": lambda kg: kg.owners("Kazakhtelecom").to_dicts(),
    "owners-as-of": lambda kg: kg.owners("Kcell", as_of="2021").to_dicts(),
    "holdings": lambda kg: kg.holdings("Government of Kazakhstan").to_dicts(),
    "chains": lambda kg: kg.ownership_chains("Government of Kazakhstan", "Kcell").to_dicts(),
    "effective": lambda kg: kg.effective_share("Government of Kazakhstan", "Kcell").to_dict(),
    "controlled": lambda kg: kg.controlled_by("Kcell", threshold=25).to_dicts(),
    "events": lambda kg: kg.events().to_dicts(),
    "events-filtered": lambda kg: kg.events(kind="disruption", place="Almaty").to_dicts(),
    "events-kind-label": lambda kg: kg.events(kind="Restoration", start="2022").to_dicts(),
    "timeline": lambda kg: kg.timeline().to_dicts(),
    "series": lambda kg: kg.series("internet users").to_dicts(),
    "series-ranges": lambda kg: kg.series("kz:measure-cyber-incidents").to_dicts(),
}


def _error(call):
    try:
        call()
    except LookupError as exc:
        return type(exc).__name__, str(exc)
    return None


@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_answers_on_rdflib_and_oxigraph(engines, name):
    memory_kg, oxigraph_kg = engines
    expected = CALLS[name](memory_kg)
    assert expected, f"{name}: empty answer proves nothing"
    assert CALLS[name](oxigraph_kg) == expected


def test_effective_share_on_oxigraph(engines):
    assert engines[1].effective_share("Government of Kazakhstan", "Kcell").share == Decimal("24.99")


# -- the stored API queries ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(api_queries.stored()))
def test_api_query_is_documented_and_binds_safely(name):
    query = api_queries.get(name)
    assert query.title and query.description and query.examples
    prepared = sparql.prepare(query.text)
    for param in query.params:
        assert param.type in catalog.PARAM_TYPES
        if prepared.form == "SELECT":   # Oxigraph only substitutes projected variables
            assert param.name in prepared.variables, f"?{param.name} not projected"
        assert f"?{param.name}" in query.text


def test_api_queries_ship_with_the_package():
    assert api_queries.directory().name == "api"
    assert {"stakes", "events", "observations", "neighbors"} <= set(api_queries.stored())


# -- docstring examples ------------------------------------------------------------------------

DOCUMENTED = ["kzgraph.periods", "kzgraph.records", "kzgraph.api_queries", "kzgraph.entities",
              "kzgraph.traversal", "kzgraph.ownership", "kzgraph.timeline",
              "kzgraph.statistics", "kzgraph.render", "kzgraph.namespaces"]


@pytest.mark.parametrize("module", DOCUMENTED)
def test_docstring_examples_run(kg, module):
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(importlib.import_module(module), optionflags=flags, report=True)
    assert result.attempted > 0, f"{module} has no examples"
    assert result.failed == 0, f"{result.failed} docstring example(s) of {module} failed"


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli_in_process(kg, monkeypatch):
    """Run kzgraph commands in this process on the session graph (fast)."""
    from click.testing import CliRunner

    from kzgraph import cli

    monkeypatch.setattr(cli, "_load", lambda paths, reasoning=False: kg)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli.main, list(args))


def test_cli_show(cli_in_process):
    result = cli_in_process("show", "gsm-kazakhstan")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Kcell  (kz:kcell)")
    assert "also called: GSM Kazakhstan" in result.output
    assert "Kazakhtelecom's 49 % stake in Kcell" in result.output
    data = json.loads(cli_in_process("show", "Kcell", "--format", "json").output)
    assert data["entity"]["curie"] == "kz:kcell" and len(data["facts"]) >= 10


def test_cli_owners_and_holdings(cli_in_process):
    table = cli_in_process("owners", "Kazakhtelecom").output
    assert "51 %" in table and "0–100 % (exclusive)" in table and "(2 rows)" in table
    data = json.loads(cli_in_process("owners", "Kcell", "-f", "json").output)
    assert [(d["owner_label"], d["share"]) for d in data] == [("Kazakhtelecom", 49)]
    csv_text = cli_in_process("holdings", "Kazakhtelecom", "--as-of", "2021", "-f", "csv").output
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("owned,share,kind,time,holds")
    assert [line.split(",")[0] for line in lines[1:]] == ["Altel (cellular operator)", "Kcell"]


def test_cli_timeline(cli_in_process):
    result = cli_in_process("timeline", "--kind", "shutdown", "--from", "2022-01-01",
                            "--to", "2022-01-31", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = result.output.strip().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == sorted(r.split(",")[0] for r in rows)
    assert any(r.startswith("2022-01-05T10:30:00Z") for r in rows)
    everything = cli_in_process("timeline").output
    assert everything.splitlines()[2].startswith("1994-09-19")


def test_cli_path_and_series(cli_in_process):
    result = cli_in_process("path", "Kcell", "Government of Kazakhstan")
    assert result.exit_code == 0
    assert "←[affected operator]—" in result.output and "—[ordered by]→" in result.output
    none = cli_in_process("path", "Kcell", "Government of Kazakhstan", "--max-hops", "1")
    assert none.exit_code == 1 and "no connection" in none.output
    data = json.loads(cli_in_process("series", "internet users", "-f", "json").output)
    assert [(d["period"], d["value"], d["conflicting"]) for d in data if d["period"] == "2005"] \
        == [("2005", 400000, True), ("2005", 1000000, True)]


@pytest.mark.parametrize("args, message", [
    (("show", "Kcel"), "closest matches: Kcell (kz:kcell)"),
    (("owners", "Altel (brand)"), "no entity of type kzo:Agent named 'Altel (brand)'"),
    (("show", "internet users"), "names 2 entities"),
    (("owners", "Kcell", "--as-of", "last year"), "not a date"),
    (("timeline", "--kind", "earthquake"), "unknown kind"),
    (("series", "Kcell"), "of type kzo:Measure"),
    (("path", "Kcell", "Nowhere Land"), "no entity named 'Nowhere Land'"),
])
def test_cli_bad_input_exits_2_with_a_message(cli_in_process, args, message):
    result = cli_in_process(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_unknown_entity_end_to_end(kg):
    """A real process: suggestions on stderr, exit code 2, no traceback."""
    result = run_cli("show", "GSM Kazakstan")
    assert result.returncode == 2
    assert "kzgraph: no entity named 'GSM Kazakstan'" in result.stderr
    assert "Kcell (kz:kcell)" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    ok = run_cli("owners", "GSM Kazakhstan", "--format", "csv")
    assert ok.returncode == 0 and "Kazakhtelecom,49 %" in ok.stdout
