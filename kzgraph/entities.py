"""Finding entities by name: `lookup` (one entity or a `LookupError` with suggestions),
`search` (ranked matches) and the `Entity` they return.

Names are the ``rdfs:label`` and every ``skos:altLabel`` of the nodes that are not vocabulary
terms: the ``kz:`` nodes and those of a user's own files (`is_instance`). Matching ignores
case, accents, spaces, hyphens and punctuation, so "GSM Kazakhstan", "gsm-kazakhstan" and
"GSMKazakhstan" all name Kcell. A label beats an alternative label; two entities with the same
best name make the lookup ambiguous, unless exactly one of them is an organisation or a place
carrying exactly the name given: that one is used, with a `NameChosen` warning ("Altel" is
both the operator kz:altel and the brand kz:altel-brand; the operator is meant). An IRI
(``kz:kcell`` or the full form) is taken as it is.

>>> import kzgraph
>>> kg = kzgraph.load()
>>> kg.entity("GSM Kazakhstan")
<Entity kz:kcell 'Kcell'>
>>> kg.entity("kazakh telecom").label, kg.entity("Nur-Sultan").label
('Kazakhtelecom', 'Astana')
>>> kg.entity("Altel")        # warns: NameChosen ('Altel' names 2 entities; using ...)
<Entity kz:altel 'Altel (cellular operator)'>
>>> kg.entity("altel")
Traceback (most recent call last):
...
kzgraph.errors.AmbiguousEntity: 'altel' names 2 entities: Altel (cellular operator) (kz:altel),
  Altel (brand) (kz:altel-brand); use the label or the IRI of one
>>> [m.label for m in kg.search("tele", limit=3)]
['Tele2', 'Telegram', 'Mobile Telecom Service']

Lookups read the name index (`kzgraph.names`, an SQLite table kept in the build cache beside
the Oxigraph store: one indexed read per name, also at 1M triples); `search` scans every name.
Typed lookups ask ``is-a`` for the candidates only.
"""
from __future__ import annotations

import difflib
import re
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any

from . import api_queries
from .errors import AmbiguousEntity, UnknownEntity
from .names import normalize, normalize_words
from .namespaces import PREFIXES, expand, shorten
from .records import Fact, Match, Records, Source

_INDEXES: weakref.WeakKeyDictionary[Any, _Index] = weakref.WeakKeyDictionary()

#: Where a name fits several entities, one of these that carries exactly that name wins.
PREFERRED_TYPES = ("https://w3id.org/kzgraph/ontology#Organisation",
                   "https://w3id.org/kzgraph/ontology#Place")


class NameChosen(UserWarning):
    """A name fitted several entities and one was chosen (`PREFERRED_TYPES`); the message
    names the one chosen and the others. The command line prints it as a note on stderr."""


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", normalize_words(name)) if w]


@dataclass
class _Index:
    """Per graph: the name index (`kzgraph.names.NameIndex`, from the build cache or made
    on first use: an IRI or ``kz:`` name never needs it) and class memberships asked on
    demand."""

    kg: Any = None
    memberships: dict[tuple[str, str], bool] = field(default_factory=dict)

    @property
    def store(self):
        return self.kg.names

    @property
    def labels(self) -> dict[str, str]:
        return self.store.labels

    @property
    def names(self) -> list[tuple[str, str, str, str]]:
        return self.store.names

    def label(self, iri: str) -> str | None:
        return self.store.label(iri)

    def is_a(self, iri: str, cls: str) -> bool:
        """Whether ``iri`` belongs to ``cls`` or a subclass (stored query ``is-a``, memoised:
        only typed lookups need it)."""
        key = (iri, cls)
        if key not in self.memberships:
            self.memberships[key] = bool(api_queries.run(self.kg, "is-a", entity=iri,
                                                         type=cls).terms)
        return self.memberships[key]


def _index(kg) -> _Index:
    index = _INDEXES.get(kg)
    if index is None:
        index = _INDEXES[kg] = _Index(kg=weakref.proxy(kg))
    return index


def _looks_like_iri(value: str) -> bool:
    value = value.strip()
    if re.match(r"^https?://\S+$", value):
        return True
    prefix, sep, local = value.partition(":")
    return bool(sep) and prefix in PREFIXES and bool(re.fullmatch(r"[\w.-]+", local))


@dataclass(frozen=True, eq=False)
class Entity:
    """A node of the graph: its IRI, English label, alternative labels and direct types
    (class IRIs), with ``facts()`` and ``sources()`` read on demand. Two entities are equal
    when their IRIs are."""

    iri: str
    label: str | None
    alt_labels: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    kg: Any = field(default=None, repr=False, compare=False)

    @property
    def curie(self) -> str:
        """The short form, ``kz:kcell``."""
        return shorten(self.iri)

    def facts(self) -> Records:
        """Every statement about the entity, as `Fact` records with source and time.

        >>> import kzgraph
        >>> facts = kzgraph.load().entity("Kcell").facts()
        >>> [f.subject_label for f in facts if f.predicate_label == "owned entity"]
        ["Kazakhtelecom's 49 % stake in Kcell"]
        """
        return entity_facts(self.kg, self.iri)

    def sources(self) -> Records:
        """The source sections the entity cites, as `Source` records."""
        return entity_sources(self.kg, self.iri)

    def to_dict(self) -> dict:
        return {"iri": self.iri, "curie": self.curie, "label": self.label,
                "alt_labels": list(self.alt_labels), "types": list(self.types)}

    def __eq__(self, other) -> bool:
        return isinstance(other, Entity) and other.iri == self.iri

    def __hash__(self) -> int:
        return hash(self.iri)

    def __str__(self) -> str:
        return self.label or self.curie

    def __repr__(self) -> str:
        return f"<Entity {self.curie} {self.label!r}>"


def _card(kg, iri: str) -> Entity | None:
    label, alts, types = None, [], []
    for row in api_queries.rows(kg, "entity-card", entity=iri):
        prop, value = row["property"], row["value"]
        if prop.endswith("#label"):
            label = value if label is None or value < label else label
        elif prop.endswith("#altLabel"):
            alts.append(value)
        else:
            types.append(value)
    if label is None and not alts and not types:
        return None
    return Entity(iri, label, tuple(sorted(set(alts))), tuple(sorted(set(types))), kg)


def _type_iris(type_) -> tuple[str, ...]:
    if type_ is None:
        return ()
    if isinstance(type_, str):
        type_ = (type_,)
    return tuple(expand(t) for t in type_)


def _describe(type_iris: tuple[str, ...]) -> str:
    return " or ".join(shorten(t) for t in type_iris)


def _fits(index: _Index, iri: str, type_iris: tuple[str, ...]) -> bool:
    return not type_iris or any(index.is_a(iri, t) for t in type_iris)



def lookup(kg, name, type=None) -> Entity:
    """The one entity called ``name`` (label, alternative label, ``kz:`` name or IRI; an
    `Entity` is returned as it is). ``type`` (a class IRI or ``kzo:`` name, or several)
    restricts the search to instances of that class or its subclasses.

    Raises `UnknownEntity` or `AmbiguousEntity` (both `LookupError`) naming the closest
    matches.
    """
    if isinstance(name, Entity):
        return name if name.kg is kg else lookup(kg, name.iri, type)
    if not isinstance(name, str) or not name.strip():
        raise UnknownEntity(str(name))
    index = _index(kg)
    type_iris = _type_iris(type)
    text = name.strip()
    if _looks_like_iri(text):
        iri = expand(text)
        entity = _card(kg, iri)
        local = re.split(r"[/#:]", iri)[-1]
        if entity is None or not _fits(index, iri, type_iris):
            raise UnknownEntity(text, _suggest(kg, local.replace("-", " "), type_iris),
                                _describe(type_iris))
        return entity
    key = normalize(text)
    hits = [(iri, kind, label) for iri, kind, label in index.store.hits(key)
            if _fits(index, iri, type_iris)]
    for kind in ("label", "alt"):
        found = sorted({iri for iri, k, _ in hits if k == kind})
        if len(found) == 1:
            return _card(kg, found[0])
        if len(found) > 1:
            named = [(index.label(i) or i, shorten(i)) for i in found]
            chosen = _preferred(index, text, found, hits)
            if chosen is not None:
                others = ", ".join(f"{lab} ({cur})" for lab, cur in named
                                   if cur != shorten(chosen))
                warnings.warn(NameChosen(
                    f"{text!r} names {len(found)} entities; using "
                    f"{index.label(chosen) or chosen} ({shorten(chosen)}), the only "
                    f"organisation or place with exactly that name (also: {others})"),
                    stacklevel=3)
                return _card(kg, chosen)
            raise AmbiguousEntity(text, named, _describe(type_iris))
    raise UnknownEntity(text, _suggest(kg, text, type_iris), _describe(type_iris))


def _preferred(index: _Index, text: str, found: list[str], hits) -> str | None:
    """Among the entities ``found`` for a name, the only organisation or place (or
    subclass) whose label or alternative label is exactly ``text``, else None."""
    exact = {iri for iri, _, name in hits if name == text}
    fitting = [iri for iri in found if iri in exact
               and any(index.is_a(iri, cls) for cls in PREFERRED_TYPES)]
    return fitting[0] if len(fitting) == 1 else None


def _suggest(kg, text: str, type_iris=(), n: int = 5) -> list[tuple[str, str]]:
    return [(m.label, shorten(m.iri)) for m in search(kg, text, limit=n, type=type_iris or None,
                                                      minimum=0.3)]


def _score(query_key: str, query_words: list[str], key: str, name: str, kind: str) -> float:
    if not key:
        return 0.0
    if key == query_key:
        return 1.0 if kind == "label" else 0.97
    closeness = len(query_key) / len(key)
    if key.startswith(query_key):
        return 0.85 + 0.1 * closeness
    words = _words(name)
    if query_words and all(any(w.startswith(q) for w in words) for q in query_words):
        return 0.75 + 0.1 * closeness
    if query_key in key:
        return 0.6 + 0.1 * closeness
    ratio = max([_ratio(query_key, key), _ratio(query_key, key[:len(query_key) + 1])]
                + [_ratio(query_key, w) for w in words if len(w) > 2])
    return 0.5 * ratio if ratio >= 0.75 else 0.0


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def search(kg, text: str, limit: int = 10, type=None, minimum: float = 0.3) -> Records:
    """Entities whose names match ``text``, best first, as `Match` records.

    Scores: 1 for the label itself (ignoring case, spaces, hyphens), 0.97 for an alternative
    label, about 0.9 when a name starts with the text, about 0.8 when every word of the text
    starts a word of the name, about 0.65 when the name contains it, below 0.5 for
    near-misses (spelling). Ties go to the shorter name, then alphabetical order.
    """
    index = _index(kg)
    type_iris = _type_iris(type)
    query_key = normalize(text)
    query_words = _words(text)
    best: dict[str, tuple[float, str]] = {}
    for key, iri, name, kind in index.names:
        score = _score(query_key, query_words, key, name, kind)
        if score >= minimum and (iri not in best or score > best[iri][0]):
            best[iri] = (score, name)
    if type_iris:
        best = {iri: hit for iri, hit in best.items() if _fits(index, iri, type_iris)}
    labels = index.labels
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], len(item[1][1]),
                                                    labels.get(item[0], item[0])))
    return Records(Match(iri, labels.get(iri, name), name, round(score, 3))
                   for iri, (score, name) in ranked[:limit])


def entity_facts(kg, iri: str) -> Records:
    """Statements about one node (stored query ``entity-facts``), one `Fact` each."""
    groups: dict[tuple, dict] = {}
    for row in api_queries.rows(kg, "entity-facts", entity=iri):
        key = (row["direction"], row["subject"], row["predicate"], repr(row["object"]))
        group = groups.setdefault(key, {"row": row, "sources": {}})
        if row["source"] is not None:
            group["sources"][row["source"]] = row["sourceLabel"]
    facts = []
    for (direction, subject, predicate, _), group in groups.items():
        row, sources = group["row"], group["sources"]
        ordered = sorted(sources)
        facts.append(Fact(
            subject=subject, subject_label=row["subjectLabel"], predicate=predicate,
            predicate_label=row["predicateLabel"], object=row["object"],
            object_label=row["objectLabel"], direction=direction, start=row["start"],
            end=row["end"], as_of=row["asOf"], time_note=row["timeNote"],
            sources=tuple(ordered), source_labels=tuple(sources[s] or s for s in ordered)))
    facts.sort(key=lambda f: (f.direction != "out", f.predicate_label or f.predicate,
                              f.subject_label or f.subject, str(f.object)))
    return Records(facts)


def entity_sources(kg, iri: str) -> Records:
    """Source sections one node cites (stored query ``entity-sources``), as `Source`."""
    seen: dict[str, Source] = {}
    for row in api_queries.rows(kg, "entity-sources", entity=iri):
        if row["section"] in seen:
            continue
        seen[row["section"]] = Source(
            iri=row["section"], label=row["label"] or row["section"], title=row["title"],
            path=row["path"], order=row["order"], document=row["document"],
            document_title=row["documentTitle"])
    return Records(sorted(seen.values(), key=lambda s: (s.document or "", s.order or 0, s.iri)))


def label_of(kg, iri: str) -> str | None:
    """The label of a node from the name index (one indexed read)."""
    return _index(kg).label(iri)


#: Vocabulary namespaces: their terms are classes, properties and code values, not entities
#: (the same pattern filters the ``entity-names`` and ``links`` queries).
VOCABULARY = re.compile(r"^(https://w3id\.org/kzgraph/(ontology|shapes)|http://www\.w3\.org/|"
                        r"http://purl\.org/|https://schema\.org/|http://data\.europa\.eu/eli/)")


def is_instance(iri) -> bool:
    """True for an IRI outside the vocabularies: a kz: node or a node of a user's file.

    >>> is_instance("https://w3id.org/kzgraph/id/kcell")
    True
    >>> is_instance("https://w3id.org/kzgraph/ontology#Company")
    False
    """
    return isinstance(iri, str) and "://" in iri and not VOCABULARY.match(iri)
