"""Split the two source articles into numbered sentences and list items, the same way every time.

The coverage table (``docs/coverage.tsv``) has one row per unit this module yields; its test
fails when a unit has no row. A unit is identified by ``(article, section, number)``: the
article key (``telecom`` or ``internet``), the section's heading as written in the article
(``(lead)`` before the first heading) and its 1-based number within that section, counting
sentences and list items in order. Splitting rules, kept deliberately simple:

* heading lines (``== Title ==``; trailing ``=`` runs are ignored) start a section; the
  level-1 title line of an article is not a section;
* a line starting with ``-`` or ``*`` is one list item;
* any other non-empty line is split into sentences after ``.``, ``!`` or ``?`` (and any closing
  quote, bracket or ``[n]`` reference mark) followed by a space and an upper-case letter, digit
  or quote; a full stop glued to the next sentence (``station.The``) also splits; a single
  capital letter before the full stop (an initial, ``E. Alexander``) and a spaced ellipsis
  (``. . .``, inside quotations) do not.

>>> [u.text for u in split_text("== A ==\\nOne here. Two there.The end\\n- item\\nE. Smith came.")]
['One here.', 'Two there.', 'The end', 'item', 'E. Smith came.']
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: article key -> seed file name (copied verbatim into ``sources/``; SHA-256 in graph/sources.ttl)
ARTICLES: dict[str, str] = {
    "telecom": "000_bba53b4935912ead.txt",
    "internet": "001_faedbed5312a3b78.txt",
}
LEAD = "(lead)"
SOURCES = Path(__file__).resolve().parent.parent / "sources"

_HEADING = re.compile(r"^(=+)\s*(.*?)\s*=*\s*$")
_ITEM = re.compile(r"^[-*]\s+")
# a sentence ends at . ! ? (+ closing quotes/brackets/reference marks), then a space and a start
_BOUNDARY = re.compile(
    r"""(?<=[.!?])(?:["'”’»)\]]|\[\d+\])*\s+(?=["'“‘«(]?[A-Z0-9])"""
    r"""|(?<=[a-z]\.)(?=[A-Z][a-z])"""
)
_ELLIPSIS = "\u2063\u2026\u2063"  # placeholder: invisible separators around an ellipsis
_INITIAL = re.compile(r"(?:^|\s)[A-Z]\.$")


@dataclass(frozen=True)
class Unit:
    """One sentence or list item of an article section."""

    article: str
    section: str
    number: int
    kind: str  # "sentence" or "item"
    text: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.article, self.section, self.number)


def _sentences(line: str) -> list[str]:
    line = line.replace(". . .", _ELLIPSIS)  # a spaced ellipsis inside a quotation never ends it
    parts: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(line):
        if _INITIAL.search(line[start:m.start()]):
            continue  # "E. Alexander": an initial, not the end of a sentence
        parts.append((line[start:m.start()] + m.group(0).rstrip()).strip())
        start = m.end()
    rest = line[start:].strip()
    if rest:
        parts.append(rest)
    return [p.replace(_ELLIPSIS, ". . .") for p in parts if p]


def split_text(text: str, article: str = "") -> list[Unit]:
    """Every sentence and list item of one article's text, numbered per section."""
    section = LEAD
    counts: dict[str, int] = {}
    units: list[Unit] = []
    for raw in text.lstrip("\ufeff").splitlines():
        line = raw.strip()
        if not line:
            continue
        heading = _HEADING.match(line)
        if heading:
            if len(heading.group(1)) > 1:
                section = heading.group(2)
            continue
        if _ITEM.match(line):
            pieces, kind = [_ITEM.sub("", line, count=1)], "item"
        else:
            pieces, kind = _sentences(line), "sentence"
        for piece in pieces:
            counts[section] = counts.get(section, 0) + 1
            units.append(Unit(article, section, counts[section], kind, piece))
    return units


def split_article(article: str, folder: Path | None = None) -> list[Unit]:
    """The units of one article (``telecom`` or ``internet``) read from ``sources/``."""
    path = (folder or SOURCES) / ARTICLES[article]
    return split_text(path.read_text(encoding="utf-8"), article)


def all_units(folder: Path | None = None) -> list[Unit]:
    """The units of both articles, in article order."""
    return [u for a in ARTICLES for u in split_article(a, folder)]
