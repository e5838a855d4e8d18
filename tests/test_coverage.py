"""The coverage table (docs/coverage.tsv): a row for every sentence and list item of both
articles, every IRI it names exists and cites the row's section (checked on both engines),
every row that is not fully modelled says why, paraphrases are not copies, the articles match
their checksums, the README's numbers are the table's, and broken tables are rejected."""
from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import replace

import pytest

from kzgraph import coverage
from kzgraph.errors import InputError
from kzgraph.graph import KZGraph
from kzgraph.sentences import ARTICLES, SOURCES, all_units, split_article

from .conftest import ROOT

@pytest.fixture(scope="module")
def rows():
    return coverage.read_table()


@pytest.fixture(scope="module")
def engines(memory, oxigraph):
    return KZGraph(memory), KZGraph(oxigraph)


def messages(problems):
    return [p.message for p in problems]


# -- the splitter: the same numbering every time -----------------------------------------------

def test_splitting_is_stable():
    first, second = all_units(), all_units()
    assert first == second
    # pinned: a change of the splitting rules renumbers units and must be a deliberate change
    assert len(split_article("telecom")) == 40
    assert len(split_article("internet")) == 165
    assert len({u.key for u in first}) == len(first)


# -- the real table ----------------------------------------------------------------------------

def test_every_unit_has_exactly_one_row_in_order(rows):
    assert coverage.check_rows(rows, all_units()) == []
    assert len(rows) == len(all_units()) == 205


def test_rows_follow_the_articles(rows):
    order = {u.key: i for i, u in enumerate(all_units())}
    positions = [order[r.key] for r in rows]
    assert positions == sorted(positions)
    assert [r.kind for r in rows] == [u.kind for u in all_units() if u.key in {r.key for r in rows}]


@pytest.mark.parametrize("engine", [0, 1], ids=["rdflib", "oxigraph"])
def test_every_iri_exists_and_cites_its_section(rows, engines, engine):
    assert coverage.check_graph(engines[engine], rows) == []


def test_existing_means_typed(merged_graph, kg):
    """coverage-subjects lists typed IRIs; on this graph that is every kz:/kzo: subject."""
    from rdflib import RDF

    from kzgraph import api_queries

    prefixes = ("https://w3id.org/kzgraph/id/", "https://w3id.org/kzgraph/ontology#")
    every = {str(s) for s in merged_graph.subjects() if str(s).startswith(prefixes)}
    typed = {str(s) for s in merged_graph.subjects(RDF.type, None) if str(s).startswith(prefixes)}
    assert every == typed
    assert {r["node"] for r in api_queries.rows(kg, "coverage-subjects")} == typed


def test_every_row_not_fully_modelled_has_a_reason(rows):
    for row in rows:
        assert row.status in coverage.STATUSES
        if row.status != "modelled":
            assert row.reason.strip(), row.key
            assert ":" in row.reason, f"{row.key}: write the reason as 'KIND: details'"


def test_sources_match_their_checksums(kg):
    assert coverage.check_sources(kg) == []
    # independently of the runner: the checksums written in graph/sources.ttl
    text = (ROOT / "graph" / "sources.ttl").read_text(encoding="utf-8")
    for seed in ARTICLES.values():
        recorded = re.search(rf'kzo:seedFile "{re.escape(seed)}" ;\s*kzo:sha256 "([0-9a-f]{{64}})"', text)
        assert recorded, seed
        assert hashlib.sha256((SOURCES / seed).read_bytes()).hexdigest() == recorded.group(1)


def test_no_paraphrase_copies_its_sentence(rows):
    units = {u.key: u for u in all_units()}
    for row in rows:
        assert coverage.shared_run(row.paraphrase, units[row.key].text) is None, row.key


def test_readme_numbers_are_the_tables(rows):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- coverage:start -->\n(.*?)\n<!-- coverage:end -->", text, re.S)
    assert block, "README has no coverage block"
    assert block.group(1) == coverage.markdown(coverage.summary(rows))


def test_summary_counts_add_up(rows):
    s = coverage.summary(rows)
    assert s.rows == len(rows)
    assert s.units == len(all_units())
    assert sum(s.count(x) for x in coverage.STATUSES) == s.rows
    assert sum(s.reasons.values()) == s.rows - s.count("modelled")
    # hand count of this half: telecom 37 modelled, 0 partly, 3 not modelled ("See also")
    telecom = s.articles["telecom"]
    assert (telecom.units, telecom.rows) == (40, 40)
    assert (telecom.statuses["modelled"], telecom.statuses["partly"], telecom.statuses["not modelled"]) == (37, 0, 3)


# -- broken tables are rejected ----------------------------------------------------------------

def _row(rows, article, section, n):
    return next(r for r in rows if r.key == (article, section, n))


def test_missing_row_is_reported(rows):
    broken = [r for r in rows if r.key != ("telecom", "Mobile", 2)]
    assert any("no row for telecom / Mobile / 2" in m for m in messages(coverage.check_rows(broken, all_units())))


def test_row_without_unit_is_reported(rows):
    extra = replace(rows[0], n=99, line=999)
    found = messages(coverage.check_rows(list(rows) + [extra], all_units()))
    assert any("no sentence or list item telecom / (lead) / 99" in m for m in found)


def test_duplicate_row_is_reported(rows):
    found = messages(coverage.check_rows(list(rows[:3]) + [rows[2]] + list(rows[3:]), all_units()))
    assert any(m.startswith("a second row for telecom / (lead) / 3") for m in found)


def test_rows_out_of_order_are_reported(rows):
    swapped = list(rows)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    assert any("out of order" in m for m in messages(coverage.check_rows(swapped, all_units())))


def test_wrong_kind_is_reported(rows):
    broken = [replace(r, kind="sentence") if r.key == ("internet", "Internet service providers", 10) else r
              for r in rows]
    found = messages(coverage.check_rows(broken, all_units()))
    assert any("is a item, the row says 'sentence'" in m for m in found)


@pytest.mark.parametrize("status", ["partly", "not modelled"])
def test_empty_reason_is_reported(rows, status):
    row = _row(rows, "telecom", "See also", 1)
    broken = replace(row, status=status, reason="", iris=("kz:kazakhstan",) if status == "partly" else ())
    found = messages(coverage.check_rows([broken], all_units()))
    assert any("gives no reason" in m for m in found)


def test_status_and_iris_must_agree(rows):
    modelled = replace(_row(rows, "telecom", "Mobile", 1), iris=())
    not_modelled = replace(_row(rows, "telecom", "Mobile", 1), status="not modelled", reason="x: y")
    unknown = replace(_row(rows, "telecom", "Mobile", 1), status="done")
    bad_name = replace(_row(rows, "telecom", "Mobile", 1), iris=("owl:Thing", "kz:Bad Name"))
    found = messages(coverage.check_rows([modelled, not_modelled, unknown, bad_name], all_units()))
    assert any("'modelled' but names no IRI" in m for m in found)
    assert any("'not modelled' but names IRIs" in m for m in found)
    assert any("status must be one of" in m for m in found)
    assert any("'owl:Thing' is not a kz: or kzo: prefixed name" in m for m in found)


def test_copied_paraphrases_are_refused(rows):
    units = {u.key: u for u in all_units()}
    row = _row(rows, "telecom", "Satellite", 1)
    text = units[row.key].text
    verbatim = replace(row, paraphrase=text)
    eight = replace(row, paraphrase="In short: " + " ".join(text.split()[2:10]) + ", as said.")
    seven = replace(row, paraphrase="In short: " + " ".join(text.split()[2:9]) + ", as said.")
    short = _row(rows, "internet", "Internet service providers", 17)
    same_short = replace(short, paraphrase=units[short.key].text)
    assert any("repeats the sentence" in m for m in messages(coverage.check_rows([verbatim], all_units())))
    assert any("copies 8 words" in m for m in messages(coverage.check_rows([eight], all_units())))
    assert not any("copies" in m for m in messages(coverage.check_rows([seven], all_units())))
    assert any("repeats the sentence" in m for m in messages(coverage.check_rows([same_short], all_units())))


def test_missing_iri_is_reported(rows, kg):
    row = replace(_row(rows, "telecom", "Mobile", 1), iris=("kz:no-such-node", "kzo:NoSuchTerm"))
    found = messages(coverage.check_graph(kg, [row]))
    assert "kz:no-such-node is not in the graph or the ontology" in found
    assert "kzo:NoSuchTerm is not in the graph or the ontology" in found


def test_iri_citing_another_section_is_reported(rows, kg):
    # kz:dama-network cites only the Satellite section, not Fixed-line
    row = replace(_row(rows, "telecom", "Fixed-line", 1), iris=("kz:dama-network",))
    found = messages(coverage.check_graph(kg, [row]))
    assert found == ["kz:dama-network does not cite the section 'Fixed-line' of 'telecom' (prov:wasDerivedFrom)"]
    # the same heading in the other article is another section
    row = replace(_row(rows, "internet", "(lead)", 8), iris=("kz:event-5g-launch-2022-12",))
    assert any("does not cite the section '(lead)' of 'internet'" in m for m in messages(coverage.check_graph(kg, [row])))


def test_section_without_source_section_is_reported(rows, kg):
    row = replace(_row(rows, "telecom", "See also", 3), status="modelled", iris=("kz:tld-kz",))
    found = messages(coverage.check_graph(kg, [row]))
    assert found == ["the article 'telecom' has no kzo:SourceSection titled 'See also' in the graph"]


def test_unknown_article_is_reported(rows, kg):
    row = replace(rows[0], article="radio")
    assert any("unknown article 'radio'" in m for m in messages(coverage.check_graph(kg, [row])))


def test_tampered_source_is_reported(kg, tmp_path):
    for seed in ARTICLES.values():
        shutil.copy(SOURCES / seed, tmp_path / seed)
    path = tmp_path / ARTICLES["telecom"]
    path.write_bytes(path.read_bytes().replace(b"127 per 100", b"128 per 100"))
    found = messages(coverage.check_sources(kg, tmp_path))
    assert len(found) == 1 and found[0].startswith(f"sources/{ARTICLES['telecom']} has SHA-256")


def test_whole_check_on_a_broken_file(kg, tmp_path):
    """The file path: read_table + check find each planted defect, with its line."""
    lines = coverage.TABLE.read_text(encoding="utf-8").splitlines()
    lines = [line for line in lines if not line.startswith("telecom\tMobile\t2\t")]   # a missing row
    assert lines[2].startswith("telecom\t(lead)\t2\t")
    lines[2] = lines[2].replace("\tkz:kazakhtelecom ", "\tkz:kcell-typo ", 1)          # an IRI that does not exist
    see_also = next(i for i, line in enumerate(lines) if line.startswith("telecom\tSee also\t2\t"))
    lines[see_also] = lines[see_also].rsplit("\t", 1)[0] + "\t"                         # an empty reason
    table = tmp_path / "coverage.tsv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = [p.text(str(table)) for p in coverage.check(kg, coverage.read_table(table), all_units())]
    assert any("no row for telecom / Mobile / 2" in f for f in found)
    assert f"{table}:3: kz:kcell-typo is not in the graph or the ontology" in found
    assert any(f.startswith(f"{table}:{see_also + 1}: ") and "gives no reason" in f for f in found)
    assert len(found) == 3, found


@pytest.mark.parametrize("content, message", [
    ("article\tsection\n", ":1: the header must be the columns"),
    ("\t".join(coverage.COLUMNS) + "\ntelecom\t(lead)\t1\tsentence\tx\tkz:kcell\tmodelled\n",
     ":2: expected 8 tab-separated columns, found 7"),
    ("\t".join(coverage.COLUMNS) + "\ntelecom\t(lead)\tone\tsentence\tx\tkz:kcell\tmodelled\t\n",
     ":2: the unit number 'one' is not a positive integer"),
])
def test_malformed_file_is_an_input_error(tmp_path, content, message):
    table = tmp_path / "coverage.tsv"
    table.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(message)):
        coverage.read_table(table)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read the coverage table"):
        coverage.read_table(tmp_path / "nope.tsv")


# -- the command ---------------------------------------------------------------------------------

@pytest.fixture
def run(kg, monkeypatch):
    from click.testing import CliRunner

    from kzgraph import cli

    monkeypatch.setattr(cli, "_load", lambda paths, reasoning=False: kg)
    return lambda *args: CliRunner().invoke(cli.main, ["coverage", *args])


def test_cli_markdown_is_the_readme_block(run):
    result = run("--format", "markdown")
    assert result.exit_code == 0
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "<!-- coverage:start -->\n" + result.output.rstrip("\n") + "\n<!-- coverage:end -->" in text


def test_cli_counts_and_problems(run, tmp_path):
    result = run("--no-check")
    assert result.exit_code == 0
    s = coverage.summary()
    assert f"units (sentences and list items): {s.units}" in result.output
    assert f"{s.count('modelled'):5d}  modelled" in result.output
    # a table with a bad IRI: exit code 1 and the problem with its line
    lines = coverage.TABLE.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("\tkz:", "\tkz:no-such-node kz:", 1)
    table = tmp_path / "coverage.tsv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("--table", str(table))
    assert result.exit_code == 1
    assert f"{table}:2: kz:no-such-node is not in the graph or the ontology" in result.output


def test_cli_bad_table_exits_2(run, tmp_path):
    table = tmp_path / "coverage.tsv"
    table.write_text("nothing\n", encoding="utf-8")
    result = run("--table", str(table))
    assert result.exit_code == 2
    assert "the header must be the columns" in result.output
