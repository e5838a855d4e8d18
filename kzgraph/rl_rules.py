"""OWL RL in plain Python: owlrl's closure and error messages, 15–30× faster on the real
graph, for the graphs it can take (`supported`); `kzgraph.reason` uses owlrl for the others.

owlrl (`OWLRL_Semantics`, no axiomatic or datatype axioms) visits every triple of the graph
in every cycle through rdflib's store, and adds ``x owl:sameAs x`` for every term. Here the
same rules run once per new triple on a worklist (semi-naive: each rule is joined from every
premise it has, so a combination is found whichever premise arrives last) over dict indexes;
reflexive owl:sameAs is left implicit (it derives nothing new and is dropped from the closure
anyway). The rules: one-time (cls-thing, cls-nothing1, prp-ap, dt-type1/2, the datatype
subsumptions and disjointness of the datatypes in use, dt-not-type), equality (eq-sym,
eq-trans, eq-rep-s/p/o), properties (prp-dom, prp-rng, prp-fp, prp-ifp, prp-symp, prp-trp,
prp-spo1, prp-eqp1/2, prp-inv1/2), classes (cax-sco, cax-eqc1/2) and schema (scm-cls, scm-sco,
scm-eqc1/2, scm-op, scm-dp, scm-spo, scm-eqp1/2, scm-dom1/2, scm-rng1/2), with owlrl's own
guards. Inconsistencies are found on the fixpoint with owlrl's wording: cls-nothing2, cax-dw,
cax-adc, prp-irp, prp-asyp, prp-pdw. A graph that mentions anything else owlrl
reasons with (restrictions, class expressions, keys, property chains, negative assertions,
owl:AllDifferent, owl:AllDisjointProperties, stated owl:sameAs or owl:differentFrom:
`UNSUPPORTED`) is not `supported`.
tests/test_reasoning_fast.py compares both on the real graph and on broken graphs.
"""
from __future__ import annotations

from collections import defaultdict

from rdflib import Literal as _Literal  # rdflib is loaded whenever a graph exists

RDF_ = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_ = "http://www.w3.org/2000/01/rdf-schema#"
OWL_ = "http://www.w3.org/2002/07/owl#"

#: owl: terms whose rules are not implemented here: a graph mentioning one goes to owlrl
UNSUPPORTED = tuple(OWL_ + name for name in (
    "propertyChainAxiom", "hasKey", "sourceIndividual", "assertionProperty", "targetIndividual",
    "targetValue", "NegativePropertyAssertion", "intersectionOf", "unionOf", "complementOf",
    "someValuesFrom", "allValuesFrom", "hasValue", "maxCardinality", "maxQualifiedCardinality",
    "onProperty", "onClass", "oneOf", "distinctMembers", "AllDifferent",
    "AllDisjointProperties", "Restriction", "cardinality", "minCardinality",
    "qualifiedCardinality", "minQualifiedCardinality", "onDataRange", "datatypeComplementOf",
    "withRestrictions", "onDatatype", "hasSelf", "disjointUnionOf", "sameAs", "differentFrom"))
# owl:sameAs is implemented as far as the rules above derive it (prp-fp, prp-ifp); a graph
# that states it or owl:differentFrom (eq-diff*) goes to owlrl.


def supported(triples) -> bool:
    """Whether every OWL construct the ``triples`` (an rdflib Graph or a set) mention is
    implemented here."""
    from rdflib import URIRef

    names = {URIRef(name) for name in UNSUPPORTED}  # rdflib terms equal terms, not str
    return not any(isinstance(x, URIRef) and x in names for t in triples for x in t)


class _Closure:
    """The triples (terms numbered: ints hash and compare far faster than rdflib terms) and
    their indexes; `add` queues a new triple, `run` fires its rules."""

    def __init__(self) -> None:
        from rdflib import OWL, RDF, RDFS

        self.ids: dict = {}                # term key (see `id`) → number
        self.terms: list = []
        self.literals: set[int] = set()
        self.all: set = set()
        self.base: set = set()
        self.sp: dict = defaultdict(set)   # (s, p) → objects
        self.po: dict = defaultdict(set)   # (p, o) → subjects
        self.p: dict = defaultdict(set)    # p → (s, o)
        # s → (p, o) and o → (s, p): only eq-rep needs them, made when owl:sameAs first appears
        self.s: dict | None = None
        self.o: dict | None = None
        self.active: set[int] = set()      # predicates with a property axiom (dom, rng, ...)
        self.same: set[int] = set()        # terms in an owl:sameAs triple
        self.todo: list = []
        self.errors: set[str] = set()
        n = self.id
        self.TYPE, self.SCO, self.SPO = n(RDF.type), n(RDFS.subClassOf), n(RDFS.subPropertyOf)
        self.DOM, self.RNG = n(RDFS.domain), n(RDFS.range)
        self.EQC, self.EQP = n(OWL.equivalentClass), n(OWL.equivalentProperty)
        self.INV, self.SAME = n(OWL.inverseOf), n(OWL.sameAs)
        self.CLASS, self.THING, self.NOTHING = n(OWL.Class), n(OWL.Thing), n(OWL.Nothing)
        self.FP, self.IFP = n(OWL.FunctionalProperty), n(OWL.InverseFunctionalProperty)
        self.SYMP, self.TRP = n(OWL.SymmetricProperty), n(OWL.TransitiveProperty)
        self.PROPS = (n(OWL.ObjectProperty), n(OWL.DatatypeProperty), n(RDF.Property))
        self.kinds = {self.FP, self.IFP, self.SYMP, self.TRP}
        self.marks = {self.TYPE, self.SAME, self.DOM, self.RNG, self.SPO, self.EQP, self.INV}
        self.axioms = {self.TYPE, self.SCO, self.EQC, self.SPO, self.EQP, self.INV, self.DOM,
                       self.RNG, self.SAME}

    def id(self, term) -> int:
        """The number of ``term`` (numbered on first sight). IRIs and blank nodes are keyed
        by (class, text), which hash and compare in C; literals by rdflib's own equality."""
        kind = term.__class__
        key = term if kind is _Literal else (kind, str.__str__(term))
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.terms)
            self.terms.append(term)
            if kind is _Literal:
                self.literals.add(found)
        return found

    def known(self, term) -> int:
        """The number of ``term``, -1 when it is not in the closure."""
        kind = term.__class__
        return self.ids.get(term if kind is _Literal else (kind, str.__str__(term)), -1)

    def add_terms(self, s, p, o) -> None:
        self.add(self.id(s), self.id(p), self.id(o))

    def add(self, s: int, p: int, o: int) -> None:
        t = (s, p, o)
        if t in self.all or p in self.literals:
            return
        self.all.add(t)
        self.sp[s, p].add(o)
        self.po[p, o].add(s)
        self.p[p].add((s, o))
        if p in self.marks:
            self._mark(s, p, o)
        if self.s is not None:
            self.s[s].add((p, o))
            self.o[o].add((s, p))
        self.todo.append(t)

    def _mark(self, s: int, p: int, o: int) -> None:
        """Note what makes a predicate active (or a term equal to another) before the
        triple's rules fire, so that later assertions of it look for their axioms."""
        if p == self.TYPE:
            if o in self.kinds:
                self.active.add(s)
        elif p == self.SAME:
            if self.s is None:
                self.s, self.o = defaultdict(set), defaultdict(set)
                for x, q, y in self.all:
                    self.s[x].add((q, y))
                    self.o[y].add((x, q))
            self.same.update((s, o))
            self.active.update((s, o))
        elif p == self.SPO or p == self.EQP:
            if s != o:  # a reflexive one derives nothing
                self.active.update((s, o))
        else:           # domain, range, inverse
            self.active.add(s)
            if p == self.INV:
                self.active.add(o)

    def run(self) -> None:
        while self.todo:
            self._fire(*self.todo.pop())

    def _fire(self, s, p, o) -> None:
        add, sp, po, SAME = self.add, self.sp, self.po, self.SAME
        if p in self.active:
            self._assertion(s, p, o)
        if self.same and (s in self.same or o in self.same):
            for y in list(sp.get((s, SAME), ())):               # eq-rep-s
                add(y, p, o)
            for y in list(po.get((SAME, o), ())):               # eq-rep-o
                add(s, p, y)
        if p in self.axioms:
            self._axiom(s, p, o)

    def _assertion(self, s, p, o) -> None:
        """Rules where (s p o) is an assertion of the (active) predicate p."""
        add, sp, po = self.add, self.sp, self.po
        T, SAME = self.TYPE, self.SAME
        for c in sp.get((p, self.DOM), ()):                     # prp-dom
            add(s, T, c)
        for c in sp.get((p, self.RNG), ()):                     # prp-rng
            add(o, T, c)
        kinds = sp.get((p, T), ())
        if kinds:
            if self.FP in kinds:                                # prp-fp
                for y in list(sp.get((s, p), ())):
                    if y != o:
                        add(o, SAME, y)
                        add(y, SAME, o)
            if self.IFP in kinds:                               # prp-ifp
                for x in list(po.get((p, o), ())):
                    if x != s:
                        add(s, SAME, x)
                        add(x, SAME, s)
            if self.SYMP in kinds:                              # prp-symp
                add(o, p, s)
            if self.TRP in kinds:                               # prp-trp
                for z in list(sp.get((o, p), ())):
                    add(s, p, z)
                for w in list(po.get((p, s), ())):
                    add(w, p, o)
        for q in list(sp.get((p, self.SPO), ())):               # prp-spo1
            add(s, q, o)
        for q in list(sp.get((p, self.EQP), ())):               # prp-eqp1
            if q != p:
                add(s, q, o)
        for q in list(po.get((self.EQP, p), ())):               # prp-eqp2
            if q != p:
                add(s, q, o)
        for q in list(sp.get((p, self.INV), ())):               # prp-inv1
            add(o, q, s)
        for q in list(po.get((self.INV, p), ())):               # prp-inv2
            add(o, q, s)
        for q in list(sp.get((p, SAME), ())):                   # eq-rep-p
            add(s, q, o)

    def _axiom(self, s, p, o) -> None:  # noqa: C901 (one rule table)
        """Rules where (s p o) is an axiom: p is rdf:type, rdfs:subClassOf, ..."""
        add, sp, po, byp = self.add, self.sp, self.po, self.p
        T, SAME = self.TYPE, self.SAME
        if p == T:
            for c in list(sp.get((o, self.SCO), ())):           # cax-sco
                if c != o:
                    add(s, T, c)
            for c in list(sp.get((o, self.EQC), ())):           # cax-eqc1
                if c != o:
                    add(s, T, c)
            for c in list(po.get((self.EQC, o), ())):           # cax-eqc2
                if c != o:
                    add(s, T, c)
            if o == self.FP:
                for x, y1 in list(byp.get(s, ())):
                    for y2 in list(sp.get((x, s), ())):
                        if y1 != y2:
                            add(y1, SAME, y2)
            elif o == self.IFP:
                for x1, y in list(byp.get(s, ())):
                    for x2 in list(po.get((s, y), ())):
                        if x1 != x2:
                            add(x1, SAME, x2)
            elif o == self.SYMP:
                for x, y in list(byp.get(s, ())):
                    add(y, s, x)
            elif o == self.TRP:
                for x, y in list(byp.get(s, ())):
                    for z in list(sp.get((y, s), ())):
                        add(x, s, z)
            if o == self.CLASS:                                 # scm-cls
                add(s, self.SCO, s)
                add(s, self.EQC, s)
                add(s, self.SCO, self.THING)
                add(self.NOTHING, self.SCO, s)
            elif o in self.PROPS:                               # scm-op, scm-dp
                add(s, self.SPO, s)
                add(s, self.EQP, s)
        elif p == self.SCO:
            if s != o:
                for x in list(po.get((T, s), ())):              # cax-sco
                    add(x, T, o)
                for c in list(sp.get((o, self.SCO), ())):       # scm-sco (first premise)
                    if c != s:
                        add(s, self.SCO, c)
            for c in list(po.get((self.SCO, s), ())):           # scm-sco (second premise)
                if c != s and c != o:
                    add(c, self.SCO, o)
            if (o, self.SCO, s) in self.all:                    # scm-eqc2
                add(s, self.EQC, o)
                add(o, self.EQC, s)
            if s != o:
                for q in list(po.get((self.DOM, s), ())):       # scm-dom1
                    add(q, self.DOM, o)
                for q in list(po.get((self.RNG, s), ())):       # scm-rng1
                    add(q, self.RNG, o)
        elif p == self.EQC:
            if s != o:
                add(s, self.SCO, o)                             # scm-eqc1
                add(o, self.SCO, s)
                for x in list(po.get((T, s), ())):              # cax-eqc1/2
                    add(x, T, o)
                for x in list(po.get((T, o), ())):
                    add(x, T, s)
        elif p == self.SPO:
            for x, y in list(byp.get(s, ())):                   # prp-spo1
                add(x, o, y)
            if s != o:
                for q in list(sp.get((o, self.SPO), ())):       # scm-spo (first premise)
                    if q != s:
                        add(s, self.SPO, q)
                if (o, self.SPO, s) in self.all:                # scm-eqp2
                    add(s, self.EQP, o)
                    add(o, self.EQP, s)
                for c in list(sp.get((o, self.DOM), ())):       # scm-dom2
                    add(s, self.DOM, c)
                for c in list(sp.get((o, self.RNG), ())):       # scm-rng2
                    add(s, self.RNG, c)
            for q in list(po.get((self.SPO, s), ())):           # scm-spo (second premise)
                if q != s and q != o:
                    add(q, self.SPO, o)
        elif p == self.EQP:
            if s != o:
                add(s, self.SPO, o)                             # scm-eqp1
                add(o, self.SPO, s)
                for x, y in list(byp.get(s, ())):               # prp-eqp1/2
                    add(x, o, y)
                for x, y in list(byp.get(o, ())):
                    add(x, s, y)
        elif p == self.INV:
            for x, y in list(byp.get(s, ())):                   # prp-inv1/2
                add(y, o, x)
            for x, y in list(byp.get(o, ())):
                add(y, s, x)
        elif p == self.DOM:
            for x, _ in list(byp.get(s, ())):                   # prp-dom
                add(x, T, o)
            for c in list(sp.get((o, self.SCO), ())):           # scm-dom1
                if c != o:
                    add(s, self.DOM, c)
            for q in list(po.get((self.SPO, s), ())):           # scm-dom2
                if q != s:
                    add(q, self.DOM, o)
        elif p == self.RNG:
            for _, y in list(byp.get(s, ())):                   # prp-rng
                add(y, T, o)
            for c in list(sp.get((o, self.SCO), ())):           # scm-rng1
                if c != o:
                    add(s, self.RNG, c)
            for q in list(po.get((self.SPO, s), ())):           # scm-rng2
                if q != s:
                    add(q, self.RNG, o)
        elif p == SAME:
            add(o, SAME, s)                                     # eq-sym
            for z in list(sp.get((o, SAME), ())):               # eq-trans
                add(s, SAME, z)
            for w in list(po.get((SAME, s), ())):
                add(w, SAME, o)
            for q, z in list(self.s.get(s, ())):                # eq-rep-s
                add(o, q, z)
            for x, z in list(byp.get(s, ())):                   # eq-rep-p
                add(x, o, z)
            for x, q in list(self.o.get(o, ())):                # eq-rep-o
                add(x, q, s)


def _one_time(c: _Closure, triples) -> None:
    """cls-thing, cls-nothing1, prp-ap and the datatype rules, as owlrl runs them first."""
    from owlrl.AxiomaticTriples import OWLRL_Datatypes_Disjointness
    from owlrl.DatatypeHandling import AltXSDToPYTHON
    from owlrl.OWLRL import OWLRL_Annotation_properties
    from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes
    from rdflib import OWL, RDF, RDFS

    add = c.add_terms
    add(OWL.Thing, RDF.type, OWL.Class)
    add(OWL.Nothing, RDF.type, OWL.Class)
    for name in OWLRL_Annotation_properties:
        add(name, RDF.type, OWL.AnnotationProperty)
    rl = set(OWL_RL_Datatypes)
    implicit = {}
    for i in sorted(c.literals):
        lt = c.terms[i]
        if lt.datatype in rl:
            implicit[lt] = lt.datatype
    used = set(implicit.values())
    for lt, dt in implicit.items():
        add(lt, RDF.type, dt)                                   # dt-type2
        try:                                                    # dt-not-type
            AltXSDToPYTHON.get(dt, str)(str(lt))
        except ValueError:
            c.errors.add("Lexical value of the literal '%s' does not match its datatype (%s)"
                         % (lt, dt))
    explicit = defaultdict(set)
    for s, p, o in triples:
        if p == RDF.type and o in rl:
            used.add(o)
            if s not in implicit:
                explicit[s].add(o)
    for dt in OWL_RL_Datatypes:                                 # dt-type1
        add(dt, RDF.type, RDFS.Datatype)
    for dts in explicit.values():
        for dt in dts:
            add(dt, RDF.type, RDFS.Datatype)
    for r, dts in [*explicit.items(), *((r, {dt}) for r, dt in implicit.items())]:
        for dt in dts:
            for wider in OWL_Datatype_Subsumptions.get(dt, ()):
                add(r, RDF.type, wider)
                add(wider, RDF.type, RDFS.Datatype)
                used.add(wider)
    for left, pred, right in OWLRL_Datatypes_Disjointness:
        if left in used and right in used:
            add(left, pred, right)


def _items(c: _Closure, head) -> list:
    """The members of an rdf:List in the closure (as rdflib's Graph.items reads it)."""
    from rdflib import RDF

    first, rest, nil = c.known(RDF.first), c.known(RDF.rest), c.known(RDF.nil)
    out, seen = [], set()
    while head is not None and head not in seen and head != nil:
        seen.add(head)
        item = next(iter(c.sp.get((head, first), ())), None)
        if item is None:
            break
        out.append(item)
        head = next(iter(c.sp.get((head, rest), ())), None)
    return out


def _errors(c: _Closure) -> None:
    """owlrl's inconsistency messages (its wording), found on the fixpoint."""
    from rdflib import OWL

    T, n, add = c.TYPE, c.terms, c.errors.add

    ident = c.known

    for x in c.po.get((T, c.NOTHING), ()):                      # cls-nothing2
        add("%s is defined of type 'Nothing'" % n[x])
    for c1, c2 in c.p.get(ident(OWL.disjointWith), ()):         # cax-dw
        for x in c.po.get((T, c1), ()):
            if (x, T, c2) in c.all:
                add("Disjoint classes %s and %s have a common individual %s"
                    % (n[c1], n[c2], n[x]))
    for group in c.po.get((T, ident(OWL.AllDisjointClasses)), ()):   # cax-adc
        for head in c.sp.get((group, ident(OWL.members)), ()):
            classes = _items(c, head)
            for i, cl1 in enumerate(classes[:-1]):
                for z in c.po.get((T, cl1), ()):
                    for cl2 in classes[i + 1:]:
                        if (z, T, cl2) in c.all:
                            add("Disjoint classes %s and %s have a common individual %s"
                                % (n[cl1], n[cl2], n[z]))
    for p in c.po.get((T, ident(OWL.IrreflexiveProperty)), ()):     # prp-irp
        for x, y in c.p.get(p, ()):
            if x == y:
                add("Irreflexive property used on %s with %s" % (n[x], n[p]))
    for p in c.po.get((T, ident(OWL.AsymmetricProperty)), ()):      # prp-asyp
        for x, y in c.p.get(p, ()):
            if (y, p, x) in c.all:
                add("Erroneous usage of asymmetric property %s on %s and %s"
                    % (n[p], n[x], n[y]))
    for p1, p2 in c.p.get(ident(OWL.propertyDisjointWith), ()):     # prp-pdw
        for x, y in c.p.get(p1, ()):
            if (x, p2, y) in c.all:
                add("Erroneous usage of disjoint properties %s and %s on %s and %s"
                    % (n[p1], n[p2], n[x], n[y]))


def run(triples) -> _Closure | None:
    """The closure of ``triples`` (an rdflib Graph or a set), numbered: ``c.terms[i]`` is
    term i, ``c.all`` every triple, ``c.base`` the given ones, ``c.errors`` owlrl's
    messages. None when the triples mention a term of `UNSUPPORTED`."""
    if not supported(triples):
        return None
    c = _Closure()
    for s, p, o in triples:
        c.add_terms(s, p, o)
    c.base = set(c.all)
    _one_time(c, triples)
    c.run()
    _errors(c)
    return c


def expand(triples) -> tuple[set, list[str]]:
    """(every triple of the OWL RL closure of ``triples``, theirs included; owlrl's sorted
    error messages), as rdflib terms."""
    from rdflib import BNode

    c = run(triples)
    if c is None:
        raise ValueError("not supported: see kzgraph.rl_rules.supported")
    n = c.terms
    # owlrl's post-processing drops triples whose predicate is a blank node
    blank = {i for i, term in enumerate(n) if isinstance(term, BNode)}
    closure = {(n[s], n[p], n[o]) for s, p, o in c.all if p not in blank}
    return closure, sorted(c.errors)


#: predicates outside rdf:, rdfs: and owl: that an edit may touch without touching the rules
ANNOTATIONS = tuple(RDFS_ + name for name in ("label", "comment", "seeAlso", "isDefinedBy"))


def summary(c: _Closure) -> dict:
    """What `inert` needs to know of a closure: the predicates with any rule or check on
    their assertions, the terms in an owl:sameAs, the datatypes in use."""
    from owlrl.XsdDatatypes import OWL_RL_Datatypes
    from rdflib import OWL

    blocked = set(c.active)
    for kind in (OWL.IrreflexiveProperty, OWL.AsymmetricProperty):  # checked on assertions
        blocked |= c.po.get((c.TYPE, c.known(kind)), set())
    for p1, p2 in c.p.get(c.known(OWL.propertyDisjointWith), ()):
        blocked.update((p1, p2))
    rl = {c.known(dt) for dt in OWL_RL_Datatypes}
    used = {o for s, o in c.p.get(c.TYPE, ()) if o in rl and s in c.literals}
    return {"blocked": {str(c.terms[i]) for i in blocked},
            "same": {c.terms[i].n3() for i in c.same},
            "used": {str(c.terms[i]) for i in used}}


def inert(delta, before: dict, graph) -> bool:
    """Whether the triples ``delta`` (added to or removed from a graph whose closure had the
    `summary` ``before``; ``graph``: the graph after the edit) leave the closure's verdict as
    it was: no rule and no check applies to any of them. True when every triple's predicate
    is an annotation or outside rdf:/rdfs:/owl:, has no axiom or special type (not
    ``blocked``), no term is in an owl:sameAs or in the rdf:/rdfs:/owl: namespaces, and every
    literal of an OWL RL datatype is well-formed, of a datatype in use, and (when removed)
    still in the graph."""
    from owlrl.DatatypeHandling import AltXSDToPYTHON
    from owlrl.XsdDatatypes import OWL_RL_Datatypes
    from rdflib import Literal, URIRef

    rl = set(OWL_RL_Datatypes)
    builtin = (RDF_, RDFS_, OWL_)
    for s, p, o in delta:
        if not isinstance(p, URIRef) or str(p) in before["blocked"]:
            return False
        if str(p).startswith(builtin) and str(p) not in ANNOTATIONS:
            return False
        for term in (s, o):
            if isinstance(term, URIRef) and str(term).startswith(builtin):
                return False
            if term.n3() in before["same"]:
                return False
        if isinstance(o, Literal) and o.datatype in rl:
            if str(o.datatype) not in before["used"] or (None, None, o) not in graph:
                return False
            try:
                AltXSDToPYTHON.get(o.datatype, str)(str(o))
            except ValueError:
                return False
    return True
