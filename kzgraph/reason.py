"""OWL RL reasoning with owlrl: the useful closure and the consistency verdict."""
from __future__ import annotations

OWL = "http://www.w3.org/2002/07/owl#"
ERR = "http://www.daml.org/2002/03/agents/agent-ont#"


def closure(graph):
    """Return (inferred, errors): the new triples OWL RL derives from ``graph`` and owlrl's
    inconsistency messages. Trivial inferences (literal subjects, reflexive or owl:Thing
    statements, axioms about built-in vocabularies) are dropped. ``graph`` is not changed."""
    import owlrl
    import rdflib
    from rdflib import OWL as O, RDF, RDFS, BNode, Literal

    work = rdflib.Graph()
    for triple in graph:
        work.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(work)
    errors = sorted(str(o) for o in work.objects(None, rdflib.URIRef(ERR + "error")))
    inferred = rdflib.Graph()
    for s, p, o in work:
        if (s, p, o) in graph or isinstance(s, (Literal, BNode)) or isinstance(o, BNode):
            continue
        if str(p).startswith(ERR) or s == o or o in (O.Thing, RDFS.Resource):
            continue
        if p == RDF.type and isinstance(s, rdflib.URIRef) and not str(s).startswith("https://w3id.org/kzgraph/"):
            continue
        if p in (O.sameAs, O.equivalentClass, O.equivalentProperty):
            continue
        inferred.add((s, p, o))
    return inferred, errors


def consistency_problems(graph, inferred=None, errors=None) -> list[str]:
    """Inconsistencies under OWL RL: owlrl errors, members of owl:Nothing, and individuals
    typed with two classes declared disjoint (pairwise or in owl:AllDisjointClasses)."""
    import rdflib
    from rdflib import OWL as O, RDF
    from rdflib.collection import Collection

    if inferred is None:
        inferred, errors = closure(graph)
    full = graph + inferred
    problems = list(errors or [])
    problems += [f"{s} is a member of owl:Nothing" for s in full.subjects(RDF.type, O.Nothing)]
    pairs = set(full.subject_objects(O.disjointWith))
    for group in full.subjects(RDF.type, O.AllDisjointClasses):
        members = list(Collection(full, full.value(group, O.members)))
        pairs |= {(a, b) for i, a in enumerate(members) for b in members[i + 1:]}
    for a, b in sorted(pairs):
        for x in sorted(set(full.subjects(RDF.type, a)) & set(full.subjects(RDF.type, b))):
            problems.append(f"{x} is typed both {a} and {b}, which are disjoint")
    return sorted(set(problems))
