"""OWL RL reasoning: the useful closure and the consistency verdict.

The closure of an export (`closure`, ``--inferred``) is owlrl's. The consistency verdict of
a validation (`consistency_problems`) comes from the same rules run in plain Python
(`kzgraph.rl_rules`: the same closure and messages, 15–30× faster on the real graph) when
the graph uses only what that module implements, and from owlrl otherwise."""
from __future__ import annotations

OWL = "http://www.w3.org/2002/07/owl#"
ERR = "http://www.daml.org/2002/03/agents/agent-ont#"
KZ = "https://w3id.org/kzgraph/"

#: which reasoner the latest `closure` or `consistency_problems` used: "rules" or "owlrl"
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


def _identity(x):
    return x


def useful(base: set, triples, token=_identity, term=_identity) -> set:
    """The ``triples`` of a closure worth keeping: not in ``base``, and no trivial ones
    (literal or blank subjects, blank objects, reflexive, owl:Thing/rdfs:Resource, types of
    IRIs outside kzgraph, sameAs/equivalences, owlrl's error messages). Triples are of rdflib
    terms, or of numbers (``token``: term → number, ``term``: number → term)."""
    from rdflib import OWL as O, RDF, RDFS, BNode, Literal, URIRef

    a = token(RDF.type)
    dropped = {O.sameAs, O.equivalentClass, O.equivalentProperty}
    trivial = {O.Thing, RDFS.Resource}
    subject, predicate, obj, kz = {}, {}, {}, {}
    out = set()
    for t in triples:
        s, p, o = t
        if t in base or s == o:
            continue
        ok = subject.get(s)
        if ok is None:
            x = term(s)
            ok = subject[s] = not isinstance(x, (Literal, BNode))
            kz[s] = isinstance(x, URIRef) and x.startswith(KZ)
        if not ok:
            continue
        ok = predicate.get(p)
        if ok is None:
            x = term(p)
            ok = predicate[p] = not (isinstance(x, BNode) or x in dropped or x.startswith(ERR))
        if not ok:
            continue
        ok = obj.get(o)
        if ok is None:
            x = term(o)
            ok = obj[o] = not (isinstance(x, BNode) or x in trivial)
        if ok and (p != a or kz[s]):
            out.add(t)
    return out


def closure(graph, reasoner: str = "owlrl"):
    """Return (inferred, errors): the new triples OWL RL derives from ``graph`` (an rdflib
    Graph of them, `useful` ones only) and the inconsistency messages. ``reasoner``: "owlrl",
    or "rules" (`kzgraph.rl_rules`; owlrl when the graph is not `rl_rules.supported`).
    ``graph`` is not changed."""
    import rdflib

    base = set(graph)
    inferred = rdflib.Graph()
    c = _rules(base, reasoner)
    if c is not None:
        n = c.terms
        triples = [(n[s], n[p], n[o]) for s, p, o in useful(c.base, c.all, c.known, n.__getitem__)]
        errors = sorted(c.errors)
    else:
        work, errors = _owlrl(base)
        triples = useful(base, work)
    for triple in sorted(triples):
        inferred.add(triple)
    return inferred, errors


def _rules(base: set, reasoner: str):
    """The `kzgraph.rl_rules` closure of ``base``, or None when owlrl is to be used."""
    global last_reasoner
    from . import rl_rules

    c = rl_rules.run(base) if reasoner == "rules" else None
    last_reasoner = "owlrl" if c is None else "rules"
    return c


def consistency_problems(graph, inferred=None, errors=None, *,
                         reasoner: str = "rules") -> list[str]:
    """Inconsistencies under OWL RL: the reasoner's errors, members of owl:Nothing, and
    individuals typed with two classes declared disjoint (pairwise or in
    owl:AllDisjointClasses), in ``graph`` plus the `useful` closure (``inferred``, computed
    here with ``reasoner`` when None)."""
    if inferred is not None:
        return _problems((*set(graph), *inferred), errors, _identity, str)
    return consistency(graph, reasoner=reasoner)[0]


def consistency(graph, *, reasoner: str = "rules") -> tuple[list[str], dict | None]:
    """(`consistency_problems` of ``graph``, the `kzgraph.rl_rules.summary` of its closure,
    which says which later edits cannot change them; None when owlrl reasoned)."""
    from . import rl_rules

    base = set(graph)
    c = _rules(base, reasoner)
    if c is None:
        work, errors = _owlrl(base)
        return _problems((*base, *useful(base, work)), errors, _identity, str), None
    kept = (*c.base, *useful(c.base, c.all, c.known, c.terms.__getitem__))
    return _problems(kept, c.errors, c.known, lambda i: str(c.terms[i])), rl_rules.summary(c)


def _problems(triples, errors, token, name) -> list[str]:
    """The verdict of `consistency_problems` on ``triples`` (of terms, or of numbers:
    ``token`` gives the number of a term, ``name`` the text of a number)."""
    from rdflib import OWL as O, RDF

    a, nothing, all_disjoint = token(RDF.type), token(O.Nothing), token(O.AllDisjointClasses)
    disjoint_with, members = token(O.disjointWith), token(O.members)
    first_p, rest_p, nil = token(RDF.first), token(RDF.rest), token(RDF.nil)
    problems = list(errors or [])
    types: dict = {}
    disjoint, groups, first, rest, members_of = set(), [], {}, {}, {}
    for s, p, o in triples:
        if p == a:
            types.setdefault(o, set()).add(s)
            if o == all_disjoint:
                groups.append(s)
        elif p == disjoint_with:
            disjoint.add((s, o))
        elif p == first_p:
            first.setdefault(s, o)
        elif p == rest_p:
            rest.setdefault(s, o)
        elif p == members:
            members_of.setdefault(s, o)
    problems += [f"{name(s)} is a member of owl:Nothing" for s in types.get(nothing, ())]
    for group in groups:
        listed, node, seen = [], members_of.get(group), set()
        while node is not None and node != nil and node not in seen and node in first:
            seen.add(node)
            listed.append(first[node])
            node = rest.get(node)
        disjoint |= {(x, y) for i, x in enumerate(listed) for y in listed[i + 1:]}
    for x, y in disjoint:
        for z in types.get(x, set()) & types.get(y, set()):
            problems.append(f"{name(z)} is typed both {name(x)} and {name(y)}, which are disjoint")
    return sorted(set(problems))
