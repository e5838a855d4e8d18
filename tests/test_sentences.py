"""The sentence splitter behind the coverage audit: same units every time, nothing lost."""
import re

from kzgraph.sentences import ARTICLES, SOURCES, all_units, split_article, split_text


def test_counts_are_stable():
    # hand-checked against the two articles: 40 units in "Telecommunications in Kazakhstan"
    # (10 in "Telephone numbers", 10 in "Internet"), 165 in "Internet in Kazakhstan"
    # (10 list items under "Internet service providers", 15 milestones)
    telecom, internet = split_article("telecom"), split_article("internet")
    assert (len(telecom), len(internet)) == (40, 165)
    by = lambda units, s: [u for u in units if u.section == s]  # noqa: E731
    assert len(by(telecom, "Telephone numbers")) == 10
    assert len(by(telecom, "Internet")) == 10
    assert [u.kind for u in by(internet, "Milestones")] == ["item"] * 15
    assert sum(u.kind == "item" for u in by(internet, "Internet service providers")) == 10


def test_nothing_lost_or_added():
    for article, name in ARTICLES.items():
        text = (SOURCES / name).read_text(encoding="utf-8")
        body = [ln.strip() for ln in text.splitlines()
                if ln.strip() and not re.match(r"^=+.*=+\s*$", ln.strip())]
        joined = re.sub(r"\s+", "", "".join(re.sub(r"^[-*]\s+", "", ln) for ln in body))
        units = re.sub(r"\s+", "", "".join(u.text for u in split_article(article)))
        assert units == joined


def test_numbering_is_per_section_and_unique():
    units = all_units()
    keys = [u.key for u in units]
    assert len(keys) == len(set(keys))
    for u, v in zip(units, units[1:]):
        if (u.article, u.section) == (v.article, v.section):
            assert v.number == u.number + 1
        else:
            assert v.number == 1


def test_tricky_boundaries():
    units = split_text("== S ==\nA station.The state runs TV. E. Alexander came. "
                       "He said \"x . . . Y\" then left. 'Q.' Next one.")
    assert [u.text for u in units] == ["A station.", "The state runs TV.",
                                       "E. Alexander came.",
                                       "He said \"x . . . Y\" then left.", "'Q.'", "Next one."]


def test_lead_and_trailing_heading_marks():
    units = split_text("= Title =\nLead one.\n== References =======\nRef text")
    assert [(u.section, u.text) for u in units] == [("(lead)", "Lead one."),
                                                    ("References", "Ref text")]
