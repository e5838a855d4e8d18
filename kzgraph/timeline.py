"""Time: the events of the graph (shutdowns, blocking, launches, milestones ...) as a sorted
list with durations, scope, services, parts and sources, and a timeline of everything dated
(events, laws, policies, facts).

>>> import kzgraph
>>> kg = kzgraph.load()
>>> january = kg.events(kind="shutdown", start="2022-01", end="2022-01")
>>> shutdown = [e for e in january if e.label == "Nationwide internet shutdown of January 2022"][0]
>>> [(p.date, p.kind_labels[0]) for p in shutdown.parts][2:5]
[('2022-01-04', 'Internet shutdown'), ('2022-01-05', 'Internet shutdown'),
 ('2022-01-05T10:30:00Z', 'Internet shutdown')]
>>> restoration = [p for p in shutdown.parts if p.start == "2022-01-07T02:50:00Z"][0]
>>> restoration.duration, restoration.exact_duration
(datetime.timedelta(seconds=10800), True)

Order. Items sort by the lexical form of their date (start, else asOf, else end), which is
chronological for every precision and puts a month before its days ("2022-01" before
"2022-01-04"); undated items come last; ties go by label.

Windows. ``start``/``end`` (a year, month, day or instant; either may be left out) keep the
items whose date falls in the window, and the items whose known start .. end period overlaps
it. Undated items are left out when a window is given.

Kinds. ``kind`` is a name from `KINDS` (``"shutdown"``, ``"blocking"``, ``"law"`` ...; a
trailing plural "s" is fine), a class label (``"Internet shutdown"``), or a class IRI or
``kzo:`` name; subclasses count (``"disruption"`` gives shutdowns, throttling and blocking).
"""
from __future__ import annotations

from . import api_queries, periods
from .entities import lookup, normalize
from .errors import InputError
from .namespaces import KZO, expand
from .records import Event, Records, TimelineEntry

PLACE = KZO + "Place"

#: Short kind names and the classes they stand for.
KINDS: dict[str, tuple[str, ...]] = {
    "event": ("kzo:Event",),
    "disruption": ("kzo:NetworkDisruption",),
    "shutdown": ("kzo:InternetShutdown",),
    "throttling": ("kzo:Throttling",),
    "blocking": ("kzo:ServiceBlocking", "kzo:WebsiteBlocking"),
    "service-blocking": ("kzo:ServiceBlocking",),
    "website-blocking": ("kzo:WebsiteBlocking",),
    "restoration": ("kzo:Restoration",),
    "interception": ("kzo:InterceptionAttempt",),
    "launch": ("kzo:NetworkLaunch",),
    "numbering": ("kzo:NumberingDecision",),
    "organisational-change": ("kzo:OrganisationalChange",),
    "milestone": ("kzo:Milestone",),
    "market": ("kzo:MarketEvent",),
    "infrastructure": ("kzo:InfrastructureProject",),
    "political": ("kzo:PoliticalEvent",),
    "proceeding": ("kzo:LegalProceeding",),
    "cyber": ("kzo:CyberIncidentTrend",),
    "law": ("kzo:LegalAct",),
    "policy": ("kzo:Policy",),
    "fact": ("kzo:Fact",),
}


def kind_classes(kg, kind) -> tuple[str, ...]:
    """The class IRIs a kind stands for (see the module documentation); `InputError`
    listing the known kinds otherwise.

    >>> kind_classes(None, "shutdowns")
    ('https://w3id.org/kzgraph/ontology#InternetShutdown',)
    """
    text = str(kind).strip()
    key = text.lower().replace("_", "-").replace(" ", "-")
    for candidate in (key, key.removesuffix("s")):
        if candidate in KINDS:
            return tuple(expand(c) for c in KINDS[candidate])
    if text.startswith(("http://", "https://", "kzo:")):
        return (expand(text),)
    if kg is not None:
        wanted = normalize(text)
        labels = {}
        for row in api_queries.rows(kg, "kinds"):
            if row["label"]:
                labels.setdefault(normalize(row["label"]), set()).add(row["class"])
        for candidate in (wanted, wanted.removesuffix("s")):
            if candidate in labels:
                return tuple(sorted(labels[candidate]))
    raise InputError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}, a class label "
                     f"(e.g. 'Internet shutdown') or a kzo: class")


def _of_kind(kg, kind) -> set[str]:
    items: set[str] = set()
    for cls in kind_classes(kg, kind):
        items.update(r["item"] for r in api_queries.rows(kg, "of-kind", kind=cls))
    return items


def _window(start, end) -> periods.Span | None:
    if start is None and end is None:
        return None
    window = periods.period(start, end)
    # empty: the end period is over before the start period begins ("2022" .. "2021")
    if window.hi < window.lo or (window.instant and end is not None
                                 and not periods.span(end).instant):
        raise InputError(f"the window ends ({end}) before it starts ({start})")
    return window


def _in_window(window: periods.Span | None, date, start, end) -> bool:
    if window is None:
        return True
    if date is not None and periods.span(date).overlaps(window):
        return True
    if start is not None and end is not None:
        return periods.period(start, end).overlaps(window)
    return False


def _sort_key(item) -> tuple:
    return (periods.sort_key(item.date), item.label or "", item.iri)


def _event_table(kg) -> dict[str, Event]:
    """Every event as an `Event`, with nested parts (queries ``events``, ``event-links``)."""
    base: dict[str, dict] = {}
    for row in api_queries.rows(kg, "events"):
        entry = base.setdefault(row["event"], {"row": row, "notes": set()})
        if row["timeNote"]:
            entry["notes"].add(row["timeNote"])
    links: dict[str, dict[str, dict[str, str | None]]] = {}
    for row in api_queries.rows(kg, "event-links"):
        roles = links.setdefault(row["event"], {})
        roles.setdefault(row["role"], {})[row["value"]] = row["valueLabel"]
    built: dict[str, Event] = {}

    def labels(roles, role) -> tuple[str, ...]:
        values = roles.get(role, {})
        return tuple(sorted((label or str(value)) for value, label in values.items()))

    def build(iri: str, trail: frozenset = frozenset()) -> Event:
        if iri in built:
            return built[iri]
        row, notes = base[iri]["row"], base[iri]["notes"]
        roles = links.get(iri, {})
        kinds = tuple(sorted(roles.get("kind", {})))
        parts = tuple(sorted((build(p, trail | {iri}) for p in roles.get("part", {})
                              if p in base and p not in trail and p != iri), key=_sort_key))
        start, end = row["start"], row["end"]
        event = Event(
            iri=iri, label=row["label"], kinds=kinds,
            kind_labels=tuple(roles.get("kind", {})[k] or k for k in kinds),
            start=start, end=end, as_of=row["asOf"],
            time_note=" ".join(sorted(notes)) or None,
            duration=periods.duration(start, end), exact_duration=periods.exact(start, end),
            scope=row["scopeLabel"], places=labels(roles, "place"),
            services=labels(roles, "service"), operators=labels(roles, "operator"),
            ordered_by=labels(roles, "orderedBy"), reported_by=labels(roles, "reportedBy"),
            participants=labels(roles, "participant"),
            reasons=tuple(sorted(str(v) for v in roles.get("reason", {}))),
            part_of=tuple(sorted(roles.get("partOf", {}))), parts=parts,
            sources=labels(roles, "source"))
        built[iri] = event
        return event

    for iri in sorted(base):
        build(iri)
    return built


def events(kg, kind=None, start=None, end=None, place=None) -> Records:
    """Events sorted by date, as `Event` records (with ``duration``, ``scope``,
    ``services``, ``parts`` and ``sources``). ``kind``: see the module documentation;
    ``place``: a place name or IRI (places inside it count: Kazakhstan includes Almaty);
    ``start``/``end``: a time window."""
    table = _event_table(kg)
    chosen = set(table)
    if kind is not None:
        chosen &= _of_kind(kg, kind)
    if place is not None:
        where = lookup(kg, place, type=PLACE)
        chosen &= {r["event"] for r in api_queries.rows(kg, "events-at-place", place=where.iri)}
    window = _window(start, end)
    out = [table[i] for i in chosen
           if _in_window(window, table[i].date, table[i].start, table[i].end)]
    return Records(sorted(out, key=_sort_key))


def timeline(kg, kind=None, start=None, end=None) -> Records:
    """Everything dated, as `TimelineEntry` records sorted by date: events (at their start,
    else their asOf date, else their end), legal acts (when adopted and when in force),
    policies and facts other than statistics. ``kind`` and the ``start``/``end`` window as
    in `events`."""
    items: dict[str, dict] = {}
    for row in api_queries.rows(kg, "timeline"):
        item = items.setdefault(row["item"], {"row": row, "kinds": {}, "sources": set()})
        if row["kind"]:
            item["kinds"][row["kind"]] = row["kindLabel"] or row["kind"]
        if row["sourceLabel"]:
            item["sources"].add(row["sourceLabel"])
    chosen = set(items) if kind is None else set(items) & _of_kind(kg, kind)
    window = _window(start, end)
    entries = []
    for iri in chosen:
        row, kinds = items[iri]["row"], items[iri]["kinds"]
        common = {"iri": iri, "label": row["label"], "category": row["category"],
                      "kind_labels": tuple(kinds[k] for k in sorted(kinds)),
                      "sources": tuple(sorted(items[iri]["sources"]))}
        dated = []
        if row["adoptedOn"]:
            dated.append((row["adoptedOn"], None, "adopted"))
        if row["inForceFrom"]:
            dated.append((row["inForceFrom"], None, "in force"))
        if row["start"]:
            dated.append((row["start"], row["end"], "start"))
        elif row["asOf"]:
            dated.append((row["asOf"], row["end"], "as of"))
        elif row["end"]:
            dated.append((row["end"], None, "end"))
        for date, until, what in dated:
            if _in_window(window, date, row["start"] if what == "start" else None, until):
                entries.append(TimelineEntry(date=date, end=until, what=what, **common))
    entries.sort(key=lambda e: (periods.sort_key(e.date), e.label or "", e.iri, e.what))
    return Records(entries)
