"""Who owns whom: direct owners and holdings, chains of stakes, effective (indirect) shares
and control, each optionally at a date.

>>> import kzgraph
>>> kg = kzgraph.load()
>>> [(s.owner_label, s.share) for s in kg.owners("Kcell")]
[('Kazakhtelecom', Decimal('49'))]
>>> kg.effective_share("Government of Kazakhstan", "Kcell").share
Decimal('24.99')
>>> [c.controller_label for c in kg.controlled_by("Kazakhtelecom")]
['Government of Kazakhstan']

Time. A stake holds at a date D when its period (start .. end, or its asOf calendar period)
overlaps D. Most stakes in the graph are undated: the source says "currently" or "now", which
the graph records as a ``kzo:temporalNote`` instead of inventing a date. What the functions do
with them:

* ``as_of=None`` (the default) asks about the situation the sources describe: undated stakes
  count as holding, and so does every dated stake that has not ended (no end, or an end not
  before today). `owners` and `holdings` list every stake with ``as_of=None``, ended or not.
* ``as_of=D`` keeps the dated stakes whose period overlaps D (``holds=True``) and drops the
  others; undated stakes are kept and counted, flagged with ``holds=None`` (and listed in
  `EffectiveShare.undated`), because the sources do not say when they held;
  ``include_undated=False`` drops them instead.

Shares. Only exact shares (``kzo:share``) are multiplied; stakes the source gives only as
bounds ("partially state-owned": more than 0 and less than 100 %) are listed but left out of
products (`EffectiveShare.left_out`). When the graph holds several claims for the same owner and
company (the state's exact 51 % of Kazakhtelecom and the vaguer "partially state-owned"), they
are claims about one holding, never added: the exact one is used.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from . import api_queries, periods
from .entities import lookup
from .errors import InputError
from .records import Chain, Control, EffectiveShare, Records, Stake

AGENT = "https://w3id.org/kzgraph/ontology#Agent"
HUNDRED = Decimal(100)


def _agent(kg, name) -> tuple[str, str | None]:
    entity = lookup(kg, name, type=AGENT)
    return entity.iri, entity.label


def stakes(kg, owner: str | None = None, owned: str | None = None) -> list[Stake]:
    """Every stake (of ``owner``, in ``owned``: IRIs), one `Stake` per stake node, with its
    source sections gathered (stored query ``stakes``)."""
    grouped: dict[str, dict] = {}
    for row in api_queries.rows(kg, "stakes", owner=owner, owned=owned):
        group = grouped.setdefault(row["stake"], {"row": row, "sources": {}})
        if row["source"] is not None:
            group["sources"][row["source"]] = row["sourceLabel"] or row["source"]
    out = []
    for iri, group in grouped.items():
        row, sources = group["row"], group["sources"]
        ordered = sorted(sources)
        out.append(Stake(
            stake=iri, label=row["label"], owner=row["owner"], owner_label=row["ownerLabel"],
            owned=row["owned"], owned_label=row["ownedLabel"], share=row["share"],
            share_min=row["shareMin"], share_max=row["shareMax"],
            bounds_exclusive=bool(row["boundsExclusive"]), kind=row["kind"],
            kind_label=row["kindLabel"], start=row["start"], end=row["end"], as_of=row["asOf"],
            time_note=row["timeNote"], sources=tuple(ordered),
            source_labels=tuple(sources[s] for s in ordered)))
    return sorted(out, key=lambda s: (s.owned_label or s.owned, s.owner_label or s.owner,
                                      s.stake))


def _at(items: list[Stake], as_of, include_undated: bool, current: bool) -> list[Stake]:
    """Stakes holding at ``as_of`` (flagged), or all / the current ones when it is None."""
    if as_of is None:
        if not current:
            return items
        today = dt.date.today()
        return [s for s in items
                if s.end is None or periods.span(s.end).hi.date() > today]
    when = periods.lexical(as_of)
    kept = []
    for stake in items:
        holds = periods.holds(stake.start, stake.end, stake.as_of, when)
        if holds is False or (holds is None and not include_undated):
            continue
        kept.append(dataclasses.replace(stake, holds=holds))
    return kept


def owners(kg, company, as_of=None, include_undated: bool = True) -> Records:
    """The stakes held in ``company`` (a name, IRI or `Entity`), as `Stake` records: every
    claim with its share (or bounds), kind, time and sources. With ``as_of``, only stakes
    holding then; undated ones kept with ``holds=None`` unless ``include_undated=False``."""
    iri, _ = _agent(kg, company)
    return Records(_at(stakes(kg, owned=iri), as_of, include_undated, current=False))


def holdings(kg, owner, as_of=None, include_undated: bool = True) -> Records:
    """The stakes ``owner`` holds in other organisations, as `Stake` records (see `owners`)."""
    iri, _ = _agent(kg, owner)
    return Records(_at(stakes(kg, owner=iri), as_of, include_undated, current=False))


def _best(claims: list[Stake]) -> Stake:
    """Of several claims about one owner–company pair, the one to compute with: an exact
    share first, then a dated claim that holds, then the latest date, then IRI order."""
    rank = lambda s: (s.share is not None, s.holds is True, s.start or s.as_of or "")
    return max(sorted(claims, key=lambda s: s.stake), key=rank)


class _Network:
    """Owner → company edges (one chosen stake per pair), read hop by hop."""

    def __init__(self, kg, as_of, include_undated=True) -> None:
        self.kg, self.as_of, self.include_undated = kg, as_of, include_undated
        self.down: dict[str, dict[str, Stake]] = {}
        self.up: dict[str, dict[str, Stake]] = {}
        self.bounds_only: dict[str, Stake] = {}

    def _pairs(self, items: list[Stake], key) -> dict[str, Stake]:
        claims: dict[str, list[Stake]] = {}
        for stake in _at(items, self.as_of, self.include_undated, current=True):
            claims.setdefault(key(stake), []).append(stake)
            if stake.share is None:
                self.bounds_only[stake.stake] = stake
        return {other: _best(group) for other, group in sorted(claims.items())}

    def holdings(self, owner: str) -> dict[str, Stake]:
        if owner not in self.down:
            self.down[owner] = self._pairs(stakes(self.kg, owner=owner), lambda s: s.owned)
        return self.down[owner]

    def owners(self, company: str) -> dict[str, Stake]:
        if company not in self.up:
            self.up[company] = self._pairs(stakes(self.kg, owned=company), lambda s: s.owner)
        return self.up[company]


def _chains(network: _Network, owner: str, company: str, max_depth: int) -> list[list[Stake]]:
    found: list[list[Stake]] = []

    def walk(node: str, trail: list[Stake], visited: set[str]) -> None:
        if len(trail) >= max_depth:
            return
        for owned, stake in network.holdings(node).items():
            if owned in visited:
                continue
            if owned == company:
                found.append(trail + [stake])
            else:
                walk(owned, trail + [stake], visited | {owned})

    walk(owner, [], {owner})
    return found


def _product(trail: list[Stake]) -> Decimal | None:
    share = HUNDRED
    for stake in trail:
        if stake.share is None:
            return None
        share = share * stake.share / HUNDRED
    return api_queries.tidy(share)


def _chain(trail: list[Stake]) -> Chain:
    return Chain(trail[0].owner, trail[0].owner_label, trail[-1].owned, trail[-1].owned_label,
                 tuple(trail), _product(trail))


def _sorted_chains(network: _Network, a: str, b: str, max_depth: int) -> list[Chain]:
    """The chains from ``a`` to ``b`` as `Chain` records, shortest first."""
    chains = [_chain(t) for t in _chains(network, a, b, max_depth)]
    return sorted(chains, key=lambda c: (len(c.stakes), [s.owned for s in c.stakes]))


def ownership_chains(kg, owner, company, as_of=None, max_depth: int = 6) -> Records:
    """Every chain of stakes from ``owner`` down to ``company`` (at most ``max_depth``
    stakes, no organisation twice), as `Chain` records with the product of the shares;
    shortest first. Walked hop by hop with the ``stakes`` query."""
    a, _ = _agent(kg, owner)
    b, _ = _agent(kg, company)
    return Records(_sorted_chains(_Network(kg, as_of), a, b, max_depth))


def effective_share(kg, owner, company, as_of=None, max_depth: int = 6) -> EffectiveShare:
    """The share of ``owner`` in ``company``, directly and through other companies: the
    product of the exact shares along each chain, added over parallel chains, in percent.

    With ``as_of=None`` the stakes the sources describe as current count (undated ones
    included); with a date, the stakes holding then, undated ones counted and listed in
    ``undated``. Zero when no chain of exact shares connects them.
    """
    a, a_label = _agent(kg, owner)
    b, b_label = _agent(kg, company)
    if a == b:
        raise InputError("owner and company are the same entity")
    network = _Network(kg, as_of)
    chains = _sorted_chains(network, a, b, max_depth)
    counted = [c for c in chains if c.share is not None]
    total = api_queries.tidy(sum((c.share for c in counted), Decimal(0)))
    used = {s.stake: s for c in counted for s in c.stakes}
    undated = tuple(sorted(i for i, s in used.items() if s.undated))
    left_out = tuple(sorted(network.bounds_only))
    return EffectiveShare(a, a_label, b, b_label, total, periods.lexical(as_of),
                          tuple(counted), undated, left_out)


def controlled_by(kg, company, threshold=50, as_of=None) -> Records:
    """Who controls ``company``, directly or through companies they control: an owner
    controls a company when its own exact share plus the shares held by companies it
    controls add up to more than ``threshold`` percent (50: a majority). `Control` records,
    nearest controller first. Time as in `effective_share`."""
    target, _ = _agent(kg, company)
    limit = Decimal(str(threshold))
    network = _Network(kg, as_of)
    # everything upstream of the company, hop by hop
    nodes, frontier = {target}, [target]
    while frontier:
        nxt = []
        for node in frontier:
            for owner in network.owners(node):
                if owner not in nodes:
                    nodes.add(owner)
                    nxt.append(owner)
        frontier = sorted(nxt)
    shares = {(o, c): s.share for c in nodes for o, s in network.owners(c).items()
              if s.share is not None}
    labels = {}
    for c in nodes:
        for o, s in network.owners(c).items():
            labels[o], labels[c] = s.owner_label, s.owned_label
    found = []
    for controller in sorted(nodes - {target}):
        controlled: dict[str, Decimal] = {}
        changed = True
        while changed:
            changed = False
            for company_ in sorted(nodes - {controller} - set(controlled)):
                total = shares.get((controller, company_), Decimal(0)) + sum(
                    (shares.get((z, company_), Decimal(0)) for z in controlled), Decimal(0))
                if total > limit:
                    controlled[company_] = total
                    changed = True
        if target not in controlled:
            continue
        via = _control_path(controller, target, set(controlled), shares)
        direct = shares.get((controller, target), Decimal(0)) > limit
        found.append(Control(controller, labels.get(controller), target, labels.get(target),
                             api_queries.tidy(controlled[target]), limit, direct, via))
    found.sort(key=lambda c: (len(c.via), c.controller_label or c.controller))
    return Records(found)


def _control_path(start: str, target: str, controlled: set[str], shares) -> tuple[str, ...]:
    """Shortest chain start → … → target through companies the start controls."""
    frontier, parents = [start], {start: None}
    while frontier:
        nxt = []
        for node in frontier:
            for (o, c) in sorted(shares):
                if o == node and c in controlled and c not in parents:
                    parents[c] = node
                    nxt.append(c)
        frontier = nxt
        if target in parents:
            break
    chain, node = [], target
    while node is not None:
        chain.append(node)
        node = parents.get(node)
    return tuple(reversed(chain))
