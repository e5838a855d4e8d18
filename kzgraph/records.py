"""What the Python API returns: small frozen dataclasses with ``to_dict()``, in `Records`
lists that turn into pandas DataFrames with ``to_frame()`` when pandas is installed.

IRIs are full strings (``https://w3id.org/kzgraph/id/kcell``); every IRI field has a
``*_label`` companion, and `kzgraph.namespaces.shorten` gives the ``kz:kcell`` form. Times are
the lexical forms of the graph (``"2022-01-07T02:50:00Z"``, ``"2022-01"``, ``"2005"``), shares
and values are `decimal.Decimal`, durations `datetime.timedelta` (ISO 8601 in ``to_dict``).

>>> stake = Stake(stake="https://w3id.org/kzgraph/id/s", label="a stake", owner="o",
...               owner_label="O", owned="c", owned_label="C", share=Decimal("49.0"))
>>> stake.to_dict()["share"], stake.undated
(Decimal('49.0'), True)
>>> Records([stake]).to_dicts()[0]["owned_label"]
'C'
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .periods import iso_duration

PANDAS_HINT = ("pandas is not installed; install it (pip install pandas, or the 'pandas' extra "
               "of kzgraph) to get DataFrames; every result is also a list of records with "
               "to_dict()")


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Record:
    """Mixin for the result dataclasses: ``to_dict()`` gives plain Python values (nested
    records as dicts, tuples as lists, durations as ISO 8601 strings, numbers as Decimal)."""

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        for name in getattr(self, "_extra", ()):
            out[name] = _plain(getattr(self, name))
        return out


class Records(list):
    """A list of records, with ``to_dicts()`` and ``to_frame()`` (pandas, optional)."""

    def to_dicts(self) -> list[dict[str, Any]]:
        return [r.to_dict() if hasattr(r, "to_dict") else r for r in self]

    def to_frame(self):
        """A pandas DataFrame, one row per record (needs pandas; ImportError otherwise)."""
        return to_frame(self)


def to_frame(records):
    """Records (or one record) as a pandas DataFrame; a clear ImportError without pandas."""
    try:
        import pandas
    except ImportError:
        raise ImportError(PANDAS_HINT) from None
    if isinstance(records, Record):
        records = [records]
    return pandas.DataFrame([r.to_dict() for r in records])


# -- entities --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match(Record):
    """One hit of `kzgraph.KZGraph.search`: the entity, the name that matched and a score in
    0..1 (1 = the label itself, ignoring case, spaces and hyphens)."""

    iri: str
    label: str
    name: str
    score: float


@dataclass(frozen=True)
class Source(Record):
    """A section of a source article that a node cites (``prov:wasDerivedFrom``)."""

    iri: str
    label: str
    title: str | None = None
    path: str | None = None
    order: int | None = None
    document: str | None = None
    document_title: str | None = None


@dataclass(frozen=True)
class Fact(Record):
    """One statement about an entity, with the source and time of the node that makes it.

    ``direction`` is ``"out"`` when the entity is the subject (``Kcell country Kazakhstan``)
    and ``"in"`` when another node points at it (``stake … ownedEntity Kcell``). Sources and
    time are those of the subject node: in this graph dated and disputable statements are
    nodes of their own (stakes, observations, events), so their time and source travel with
    every statement they make.
    """

    subject: str
    subject_label: str | None
    predicate: str
    predicate_label: str | None
    object: Any
    object_label: str | None
    direction: str
    start: str | None = None
    end: str | None = None
    as_of: str | None = None
    time_note: str | None = None
    sources: tuple[str, ...] = ()
    source_labels: tuple[str, ...] = ()


# -- traversal -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Neighbor(Record):
    """A node linked to the entity: ``direction`` ``"out"`` (entity → node) or ``"in"``."""

    iri: str
    label: str | None
    predicate: str
    predicate_label: str | None
    direction: str


@dataclass(frozen=True)
class Step(Record):
    """One link of a `Path`: ``subject predicate object`` as stated in the graph, walked
    forwards (``forward``: from subject to object) or backwards."""

    subject: str
    predicate: str
    object: str
    predicate_label: str | None
    forward: bool


@dataclass(frozen=True)
class Path(Record):
    """The shortest connection between two nodes: the nodes in order and the steps."""

    nodes: tuple[str, ...]
    labels: tuple[str | None, ...]
    steps: tuple[Step, ...]

    @property
    def hops(self) -> int:
        return len(self.steps)

    @property
    def predicates(self) -> tuple[str, ...]:
        return tuple(s.predicate for s in self.steps)

    _extra = ("hops",)

    def text(self) -> str:
        """``Kcell ←[owned entity]— stake —[owner]→ Kazakhtelecom …`` on one line."""
        parts = [self.labels[0] or self.nodes[0]]
        for step, node, label in zip(self.steps, self.nodes[1:], self.labels[1:]):
            name = step.predicate_label or step.predicate
            parts.append(f"—[{name}]→" if step.forward else f"←[{name}]—")
            parts.append(label or node)
        return " ".join(parts)


# -- ownership -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stake(Record):
    """An ownership stake (``kzo:OwnershipStake``): who owns how much of what, when, and the
    source. ``share`` is the exact percentage, or None when the source gives only bounds
    (``share_min``/``share_max``, strict when ``bounds_exclusive``: "partially state-owned").

    ``holds`` answers "did it hold at the ``as_of`` date asked for": True or False for dated
    stakes, None for undated ones (the source says "currently" or speaks in the present
    tense); it is None too when no date was asked for.
    """

    stake: str
    label: str | None
    owner: str
    owner_label: str | None
    owned: str
    owned_label: str | None
    share: Decimal | None = None
    share_min: Decimal | None = None
    share_max: Decimal | None = None
    bounds_exclusive: bool = False
    kind: str | None = None
    kind_label: str | None = None
    start: str | None = None
    end: str | None = None
    as_of: str | None = None
    time_note: str | None = None
    sources: tuple[str, ...] = ()
    source_labels: tuple[str, ...] = ()
    holds: bool | None = None

    @property
    def undated(self) -> bool:
        """No start, end or asOf: only a note on time (e.g. "currently")."""
        return self.start is None and self.end is None and self.as_of is None

    _extra = ("undated",)


@dataclass(frozen=True)
class Chain(Record):
    """A chain of stakes from ``owner`` to ``company``; ``share`` is the product of the exact
    shares along it in percent (None when a stake has only bounds)."""

    owner: str
    owner_label: str | None
    company: str
    company_label: str | None
    stakes: tuple[Stake, ...]
    share: Decimal | None

    @property
    def entities(self) -> tuple[str, ...]:
        return (self.owner,) + tuple(s.owned for s in self.stakes)

    def text(self) -> str:
        names = [self.owner_label or self.owner] + [s.owned_label or s.owned for s in self.stakes]
        shares = [f"{s.share}" if s.share is not None else "?" for s in self.stakes]
        out = names[0]
        for name, share in zip(names[1:], shares):
            out += f" —{share} %→ {name}"
        return out


@dataclass(frozen=True)
class EffectiveShare(Record):
    """The share ``owner`` holds in ``company`` directly and through other companies: the
    product of the exact shares along each chain, added over parallel chains (percent).

    ``undated`` lists the stakes that were counted although the source gives no date for them
    (counted as holding); ``left_out`` the stakes ignored because the source gives only bounds.
    ``float(result)`` is the share as a float.
    """

    owner: str
    owner_label: str | None
    company: str
    company_label: str | None
    share: Decimal
    as_of: str | None
    chains: tuple[Chain, ...] = ()
    undated: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()

    def __float__(self) -> float:
        return float(self.share)


@dataclass(frozen=True)
class Control(Record):
    """``controller`` controls ``company``: the shares it holds directly plus those held by
    companies it controls add up to more than ``threshold`` percent. ``via`` is the chain of
    organisations from the controller down to the company."""

    controller: str
    controller_label: str | None
    company: str
    company_label: str | None
    share: Decimal
    threshold: Decimal
    direct: bool
    via: tuple[str, ...] = ()


# -- time ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event(Record):
    """An event (``kzo:Event``) with its time, reach, what it hit, who did and reported it,
    its parts in time order, and its sources. ``duration`` comes from ``start`` and ``end``
    (exact when both are given to the second, ``exact_duration``)."""

    iri: str
    label: str | None
    kinds: tuple[str, ...] = ()
    kind_labels: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    as_of: str | None = None
    time_note: str | None = None
    duration: dt.timedelta | None = None
    exact_duration: bool = False
    scope: str | None = None
    places: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    ordered_by: tuple[str, ...] = ()
    reported_by: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    part_of: tuple[str, ...] = ()
    parts: tuple[Event, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def date(self) -> str | None:
        """The date the event sorts by: its start, else its asOf, else its end."""
        return self.start or self.as_of or self.end

    _extra = ("date",)


@dataclass(frozen=True)
class TimelineEntry(Record):
    """One dated item of `kzgraph.KZGraph.timeline`: an event, a legal act (adopted / in
    force), a policy or a fact, at ``date`` (and until ``end`` for periods)."""

    date: str
    end: str | None
    what: str
    iri: str
    label: str | None
    category: str
    kind_labels: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Observation(Record):
    """One figure of a statistical series: period, value (or range, or category), unit,
    qualifier, status, breakdown, subject, who reported it, the source, and whether another
    figure for the same thing and time disagrees (``conflicting``, ``conflicts_with``)."""

    iri: str
    label: str | None
    measure: str
    period: str | None
    end: str | None
    value: Decimal | None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    category: str | None = None
    unit: str | None = None
    qualifier: str | None = None
    status: str | None = None
    breakdown: str | None = None
    area: str | None = None
    subjects: tuple[str, ...] = ()
    reported_by: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    conflicting: bool = False
    conflicts_with: tuple[str, ...] = ()
