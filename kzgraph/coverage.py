"""The coverage table: which graph nodes carry each sentence of the two source articles.

``docs/coverage.tsv`` has one row per unit of `kzgraph.sentences.all_units` (a sentence or a
list item), in article and unit order, with the columns `COLUMNS`::

    article  section  n  kind  paraphrase  iris  status  reason

``iris`` are space-separated prefixed names (``kz:...`` nodes, ``kzo:...`` ontology terms);
``status`` is ``modelled``, ``partly`` or ``not modelled``; ``reason`` says what is not modelled
and why, written ``KIND: details`` (the summary counts rows by ``KIND``, the text before the
first colon). `read_table` reads the file (a malformed file is an `InputError` naming file and
line); `check` compares it with the articles and with the graph, through the one query runner,
and returns every problem it finds; `summary` and `markdown` give the counts the README shows.

>>> row = parse_line("telecom\\tMobile\\t2\\tsentence\\t4G exists; 5G work started by 2021\\t"
...                  "kz:tech-4g kz:event-5g-work-begun-2021\\tmodelled\\t", 3)
>>> row.key, row.iris
(('telecom', 'Mobile', 2), ('kz:tech-4g', 'kz:event-5g-work-begun-2021'))
>>> shared_run("one two three four five six seven eight nine", "x one two three four five six seven eight")
'one two three four five six seven eight'
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .errors import InputError
from .namespaces import expand
from .sentences import ARTICLES, SOURCES, Unit, all_units

COLUMNS = ("article", "section", "n", "kind", "paraphrase", "iris", "status", "reason")
STATUSES = ("modelled", "partly", "not modelled")
KINDS = ("sentence", "item")
TABLE = SOURCES.parent / "docs" / "coverage.tsv"
#: a paraphrase may share at most this many consecutive words with its sentence
MAX_SHARED_WORDS = 7

_CURIE = re.compile(r"^(kz|kzo):[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass(frozen=True)
class Row:
    """One row of the coverage table (``line`` is its 1-based line in the file)."""

    article: str
    section: str
    n: int
    kind: str
    paraphrase: str
    iris: tuple[str, ...]
    status: str
    reason: str
    line: int = 0

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.article, self.section, self.n)

    @property
    def reason_kind(self) -> str:
        """The reason's kind: the text before its first colon (the whole reason if none)."""
        return self.reason.split(":", 1)[0].strip()


@dataclass(frozen=True)
class Problem:
    """Something wrong with one row (or with the table as a whole when ``line`` is 0)."""

    line: int
    message: str

    def text(self, path: str = "docs/coverage.tsv") -> str:
        return f"{path}:{self.line}: {self.message}" if self.line else f"{path}: {self.message}"


@dataclass
class ArticleCounts:
    units: int = 0
    rows: int = 0
    statuses: Counter = field(default_factory=Counter)


@dataclass
class Summary:
    """Counts of the table: per article, and the not-modelled rows by the kind of reason."""

    articles: dict[str, ArticleCounts]
    reasons: Counter  # (status, reason kind) -> rows

    @property
    def units(self) -> int:
        return sum(a.units for a in self.articles.values())

    @property
    def rows(self) -> int:
        return sum(a.rows for a in self.articles.values())

    def count(self, status: str) -> int:
        return sum(a.statuses[status] for a in self.articles.values())

    def to_dict(self) -> dict:
        return {"units": self.units, "rows": self.rows,
                **{s: self.count(s) for s in STATUSES},
                "articles": {k: {"units": a.units, "rows": a.rows, **{s: a.statuses[s] for s in STATUSES}}
                             for k, a in self.articles.items()},
                "reasons": [{"status": s, "reason": r, "rows": n} for (s, r), n in sorted(self.reasons.items())]}


# -- reading -----------------------------------------------------------------------------------

def parse_line(text: str, line: int = 0) -> Row:
    """One data line of the table → `Row`; `ValueError` saying what is wrong with its shape."""
    cells = text.rstrip("\r\n").split("\t")
    if len(cells) != len(COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} tab-separated columns, found {len(cells)}")
    article, section, n, kind, paraphrase, iris, status, reason = (c.strip() for c in cells)
    if not n.isdigit():
        raise ValueError(f"the unit number {n!r} is not a positive integer")
    return Row(article, section, int(n), kind, paraphrase, tuple(iris.split()), status, reason, line)


def read_table(path: Path | None = None) -> list[Row]:
    """The rows of the coverage table (default ``docs/coverage.tsv``); `InputError` with file
    and line when the file cannot be read or a line has the wrong shape."""
    path = Path(path or TABLE)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the coverage table: {exc}") from None
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        raise InputError(f"{path}:1: the header must be the columns {' '.join(COLUMNS)} separated by tabs")
    rows = []
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        try:
            rows.append(parse_line(text, number))
        except ValueError as exc:
            raise InputError(f"{path}:{number}: {exc}") from None
    return rows


# -- checking ----------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def shared_run(paraphrase: str, sentence: str, length: int = MAX_SHARED_WORDS + 1) -> str | None:
    """The first run of ``length`` consecutive words the paraphrase copies from the sentence."""
    words = _words(paraphrase)
    grams = {tuple(g) for g in zip(*(_words(sentence)[i:] for i in range(length)))}
    for i in range(len(words) - length + 1):
        if tuple(words[i:i + length]) in grams:
            return " ".join(words[i:i + length])
    return None


def check_rows(rows: Sequence[Row], units: Sequence[Unit]) -> list[Problem]:
    """Problems found without the graph: unit matching and order, statuses, reasons, paraphrases."""
    problems: list[Problem] = []
    index = {u.key: (i, u) for i, u in enumerate(units)}
    seen: dict[tuple, int] = {}
    last = -1
    for row in rows:
        say = lambda message: problems.append(Problem(row.line, message))  # noqa: E731
        where = f"{row.article} / {row.section} / {row.n}"
        duplicate = row.key in seen
        if duplicate:
            say(f"a second row for {where} (the first is on line {seen[row.key]})")
        seen.setdefault(row.key, row.line)
        found = index.get(row.key)
        if duplicate:
            pass
        elif found is None:
            say(f"no sentence or list item {where} in the articles (kzgraph.sentences numbering)")
        else:
            position, unit = found
            if position < last:
                say(f"row {where} is out of order: rows follow the articles, section by section")
            last = max(last, position)
            if row.kind != unit.kind:
                say(f"{where} is a {unit.kind}, the row says {row.kind!r}")
            if not row.paraphrase:
                say(f"{where} has no paraphrase")
            elif _words(row.paraphrase) == _words(unit.text):
                say(f"the paraphrase of {where} repeats the sentence; write it in your own words")
            else:
                copied = shared_run(row.paraphrase, unit.text)
                if copied:
                    say(f"the paraphrase of {where} copies {MAX_SHARED_WORDS + 1} words of the "
                        f"sentence in a row ({copied!r}); write it in your own words")
        if row.kind not in KINDS:
            say(f"kind must be one of {', '.join(KINDS)}, not {row.kind!r}")
        if "\t" in row.paraphrase:
            say("the paraphrase contains a tab")
        if row.status not in STATUSES:
            say(f"status must be one of {', '.join(STATUSES)}, not {row.status!r}")
        if row.status != "modelled" and not row.reason:
            say(f"{where} is {row.status!r} but gives no reason (say what is not modelled and why)")
        if row.status in ("modelled", "partly") and not row.iris:
            say(f"{where} is {row.status!r} but names no IRI that carries it")
        if row.status == "not modelled" and row.iris:
            say(f"{where} is 'not modelled' but names IRIs; use 'partly' if some of it is in the graph")
        for iri in row.iris:
            if not _CURIE.match(iri):
                say(f"{iri!r} is not a kz: or kzo: prefixed name")
    for key, (_, unit) in index.items():
        if key not in seen:
            problems.append(Problem(0, f"no row for {unit.article} / {unit.section} / {unit.number} "
                                       f"({unit.kind}: {unit.text[:60]!r})"))
    return problems


def check_graph(kg, rows: Sequence[Row]) -> list[Problem]:
    """Problems found in the graph: IRIs that do not exist, or do not cite the row's section."""
    from . import api_queries

    subjects = {r["node"] for r in api_queries.rows(kg, "coverage-subjects")}
    cites: dict[str, set[tuple[str, str]]] = {}
    sections: set[tuple[str, str]] = set()
    for r in api_queries.rows(kg, "coverage-citations"):
        cites.setdefault(r["node"], set()).add((r["seed"], r["title"]))
        sections.add((r["seed"], r["title"]))
    problems = []
    for row in rows:
        seed = ARTICLES.get(row.article)
        if seed is None:
            problems.append(Problem(row.line, f"unknown article {row.article!r}; use {' or '.join(ARTICLES)}"))
            continue
        where = (seed, row.section)
        named = [i for i in row.iris if _CURIE.match(i)]
        if any(i.startswith("kz:") for i in named) and where not in sections:
            problems.append(Problem(row.line, f"the article {row.article!r} has no kzo:SourceSection "
                                              f"titled {row.section!r} in the graph"))
            continue
        for curie in named:
            prefix = curie.split(":", 1)[0]
            iri = expand(curie)
            if iri not in subjects:
                problems.append(Problem(row.line, f"{curie} is not in the graph or the ontology"))
            elif prefix == "kz" and where not in cites.get(iri, ()):
                problems.append(Problem(row.line, f"{curie} does not cite the section {row.section!r} "
                                                  f"of {row.article!r} (prov:wasDerivedFrom)"))
    return problems


def check_sources(kg, folder: Path | None = None) -> list[Problem]:
    """The articles in ``sources/`` are byte for byte the ones the graph records (kzo:sha256)."""
    from . import api_queries

    recorded = {r["seed"]: r["sha256"] for r in api_queries.rows(kg, "coverage-sources")}
    problems = []
    for article, seed in ARTICLES.items():
        path = (folder or SOURCES) / seed
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            problems.append(Problem(0, f"cannot read the {article} article {path}: {exc}"))
            continue
        if recorded.get(seed) != digest:
            problems.append(Problem(0, f"sources/{seed} has SHA-256 {digest}, the graph records "
                                       f"{recorded.get(seed)!r} (kzo:sha256 in graph/sources.ttl)"))
    return problems


def check(kg, rows: Sequence[Row] | None = None, units: Sequence[Unit] | None = None,
          folder: Path | None = None) -> list[Problem]:
    """Every problem of the coverage table against the articles and the graph ``kg``."""
    rows = read_table() if rows is None else rows
    units = all_units(folder) if units is None else units
    return check_rows(rows, units) + check_graph(kg, rows) + check_sources(kg, folder)


# -- summary -----------------------------------------------------------------------------------

def summary(rows: Sequence[Row] | None = None, units: Sequence[Unit] | None = None) -> Summary:
    """Units per article, rows per status, and the rows not fully modelled by reason kind."""
    rows = read_table() if rows is None else rows
    units = all_units() if units is None else units
    articles = {a: ArticleCounts() for a in ARTICLES}
    for unit in units:
        articles[unit.article].units += 1
    reasons: Counter = Counter()
    for row in rows:
        counts = articles.setdefault(row.article, ArticleCounts())
        counts.rows += 1
        counts.statuses[row.status] += 1
        if row.status != "modelled":
            reasons[(row.status, row.reason_kind)] += 1
    return Summary(articles, reasons)


def markdown(s: Summary) -> str:
    """The README's "What the graph holds" tables, generated from the summary."""
    head = ["| article | sentences and list items | rows | modelled | partly | not modelled | no row yet |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    body = []
    for name, a in list(s.articles.items()) + [("total", None)]:
        if a is None:
            units, rows, st = s.units, s.rows, {x: s.count(x) for x in STATUSES}
        else:
            units, rows, st = a.units, a.rows, a.statuses
        body.append(f"| {name} | {units} | {rows} | {st['modelled']} | {st['partly']} | "
                    f"{st['not modelled']} | {units - rows} |")
    reasons = ["", "| status | reason | rows |", "|---|---|---:|"]
    reasons += [f"| {status} | {reason} | {n} |"
                for (status, reason), n in sorted(s.reasons.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1]))]
    return "\n".join(head + body + reasons)
