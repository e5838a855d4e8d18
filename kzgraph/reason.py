"""OWL RL reasoning: the useful closure and the consistency verdict.

The closure of an export (`closure`, ``--inferred``) is owlrl's. The consistency verdict of
a validation (`consistency_problems`) comes from the same rules run in plain Python
(`kzgraph.rl_rules`, the same closure and messages, 20–50× faster) when the graph uses only
what that module implements, and from owlrl otherwise."""
from __future__ import annotations

OWL = "http://www.w3.org/2002/07/owl#"
ERR = "http://www.daml.org/2002/03/agents/agent-ont#"

#: which reasoner the latest `consistency_problems` used: "rules" or "owlrl"
last_reasoner = ""


def _owlrl(graph) -> tuple[object, list[str]]:
    """owlrl's closure of a copy of ``graph`` (triples) and its error messages."""
    import owlrl
    import rdflib

    work = rdflib.Graph()
    for triple in graph:
        work.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(work)
    errors = sorted(str(o) for o in work.objects(None, rdflib.URIRef(ERR + "error")))
    return work, errors


def useful(base: set, triples) -> set:
    """The ``triples`` of a closure worth keeping: not in ``base``, and no trivial ones
    (literal or blank subjects, blank objects, reflexive, owl:Thing/rdfs:Resource, types of
    IRIs outside kzgraph, sameAs/equivalences, owlrl's error messages)."""
    import rdflib
    from rdflib import OWL as O, RDF, RDFS, BNode, Literal

    dropped = {O.sameAs, O.equivalentClass, O.equivalentProperty}
    trivial, a, uri = {O.Thing, RDFS.Resource}, RDF.type, rdflib.URIRef
    out = set()
    for t in triples:
        s, p, o = t
        if t in base or isinstance(s, (Literal, BNode)) or isinstance(o, BNode):
            continue
        if p in dropped or s == o or o in trivial or p.startswith(ERR):
            continue
        if p == a and isinstance(s, uri) and not s.startswith("https://w3id.org/kzgraph/"):
            continue
        out.add(t)
    return out


def closure(graph, reasoner: str = "owlrl"):
    """Return (inferred, errors): the new triples OWL RL derives from ``graph`` (an rdflib
    Graph of them, `useful` ones only) and the inconsistency messages. ``reasoner``: "owlrl",
    or "rules" (`kzgraph.rl_rules`; owlrl when the graph is not `rl_rules.supported`).
    ``graph`` is not changed."""
    import rdflib

    base = set(graph)
    triples, errors = _expand(base, reasoner)
    inferred = rdflib.Graph()
    for triple in sorted(useful(base, triples)):
        inferred.add(triple)
    return inferred, errors


def _expand(base: set, reasoner: str):
    """(closure, errors) of the triples ``base`` by ``reasoner``."""
    global last_reasoner
    from . import rl_rules

    if reasoner == "rules" and rl_rules.supported(base):
        last_reasoner = "rules"
        return rl_rules.expand(base)
    last_reasoner = "owlrl"
    return _owlrl(base)


def consistency_problems(graph, inferred=None, errors=None, *, reasoner: str = "rules") -> list[str]:
    """Inconsistencies under OWL RL: the reasoner's errors, members of owl:Nothing, and
    individuals typed with two classes declared disjoint (pairwise or in
    owl:AllDisjointClasses), in ``graph`` plus the `useful` closure (``inferred``, computed
    here with ``reasoner`` when None)."""
    from rdflib import OWL as O, RDF

    base = set(graph)
    if inferred is None:
        triples, errors = _expand(base, reasoner)
        inferred = useful(base, triples)
    problems = list(errors or [])
    types: dict = {}
    disjoint, groups, first, rest, members_of = set(), [], {}, {}, {}
    a, all_disjoint, disjoint_with = RDF.type, O.AllDisjointClasses, O.disjointWith
    for s, p, o in (*base, *inferred):
        if p == a:
            types.setdefault(o, set()).add(s)
            if o == all_disjoint:
                groups.append(s)
        elif p == disjoint_with:
            disjoint.add((s, o))
        elif p == RDF.first:
            first.setdefault(s, o)
        elif p == RDF.rest:
            rest.setdefault(s, o)
        elif p == O.members:
            members_of.setdefault(s, o)
    problems += [f"{s} is a member of owl:Nothing" for s in types.get(O.Nothing, ())]
    for group in groups:
        members, node, seen = [], members_of.get(group), set()
        while node is not None and node != RDF.nil and node not in seen and node in first:
            seen.add(node)
            members.append(first[node])
            node = rest.get(node)
        disjoint |= {(a, b) for i, a in enumerate(members) for b in members[i + 1:]}
    for a, b in sorted(disjoint):
        for x in sorted(types.get(a, set()) & types.get(b, set())):
            problems.append(f"{x} is typed both {a} and {b}, which are disjoint")
    return sorted(set(problems))
