"""Facts counted by hand from the two articles (tests/data/hand_facts_*.tsv), each checked
against the graph with SPARQL ASK on both engines, and entity counts per class."""
from __future__ import annotations

import csv

import pytest

from kzgraph import sparql
from kzgraph.namespaces import sparql_prefixes

from .conftest import DATA


def _rows():
    rows = []
    for path in sorted(DATA.glob("hand_facts_*.tsv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                rows.append(pytest.param(row, id=row["id"]))
    return rows


FACTS = _rows()


def test_enough_hand_counted_facts():
    assert len(FACTS) >= 80
    ids = [p.values[0]["id"] for p in FACTS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("row", FACTS)
def test_fact_in_graph(row, memory, oxigraph):
    assert f"prov:wasDerivedFrom kz:{row['section']}" in row["ask"], "fact must name its section"
    text = sparql_prefixes() + "ASK {\n" + row["ask"] + "\n}"
    assert sparql.run(memory, text).boolean, f"{row['id']} not in graph (rdflib): {row['fact']}"
    assert sparql.run(oxigraph, text).boolean, f"{row['id']} not in graph (oxigraph): {row['fact']}"


def _class_counts():
    with (DATA / "class_counts.tsv").open(encoding="utf-8") as handle:
        return [pytest.param(r["class"], int(r["count"]), id=r["class"])
                for r in csv.DictReader(handle, delimiter="\t")]


@pytest.mark.parametrize("cls, expected", _class_counts())
def test_entity_count_per_class(cls, expected, memory):
    text = sparql_prefixes() + (
        "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a/rdfs:subClassOf* %s . "
        "FILTER(STRSTARTS(STR(?x), STR(kz:))) }" % cls)
    assert int(sparql.run(memory, text).rows[0][0]) == expected
