"""SHACL shapes compiled to SPARQL and run on Oxigraph: the fast validator.

`compile_shapes` turns every node shape of a shapes graph (with the property shapes it uses) into
SELECT queries, one per constraint, each returning the violating ``?this`` (focus node) with
``?value`` and, for sh:closed, ``?path``. `run` evaluates them on an `OxigraphEngine` and returns
`kzgraph.validate.Violation` values built exactly as `kzgraph.validate.shacl_violations` builds
them from pySHACL's report (same focus, path, value, source shape, constraint component and
message); tests/test_validate_compiled.py proves it on every broken example and on mutations.

All SPARQL text is generated here from the shapes graph. A shape that uses anything this module
does not compile (sh:xone, sh:uniqueLang, sh:minLength, a shape without sh:message, ...) is
*refused*: `Compiled.refused` lists it and `kzgraph.validate` validates it with pySHACL instead.

Semantics follow pySHACL 0.40 where it departs from the SPARQL operators: sh:in and sh:hasValue
compare terms (not values); sh:datatype also requires a well-formed lexical form; the range and
sh:lessThanOrEquals comparisons order incompatible literals by datatype IRI as rdflib does.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"

NUMERIC = [XSD + t for t in (
    "integer decimal float double nonPositiveInteger negativeInteger long int short byte "
    "nonNegativeInteger unsignedLong unsignedInt unsignedShort unsignedByte positiveInteger").split()]
# Datatypes whose lexical form is checked by a cast (pySHACL rejects ill-typed literals).
CASTABLE = {XSD + t for t in ("integer decimal float double boolean dateTime date time gYear "
                              "gYearMonth duration dayTimeDuration yearMonthDuration").split()}
STRINGS = {XSD + "string", RDF + "langString"}
LEXICAL = "urn:kzgraph:lexical"   # named graph: literal → lexical form as written
# Constraint parameters this module compiles; anything else on a shape refuses it.
SUPPORTED = {SH + p for p in (
    "class datatype nodeKind minCount maxCount pattern flags languageIn in hasValue minInclusive "
    "maxInclusive minExclusive maxExclusive lessThanOrEquals lessThan disjoint closed "
    "ignoredProperties not or and node qualifiedValueShape qualifiedMinCount qualifiedMaxCount "
    "sparql").split()}
IGNORED = {SH + p for p in ("message severity name description order group targetClass targetNode "
                            "targetSubjectsOf targetObjectsOf property path deactivated").split()} | {
    RDF + "type", RDFS + "comment", RDFS + "label"}


class Refused(Exception):
    """A shape uses something the compiler does not cover; pySHACL validates it instead."""


@dataclass(frozen=True)
class Query:
    """One compiled constraint: the SPARQL that finds its violations and how to report them."""

    shape: object        # the rdflib term of the source shape
    component: str       # e.g. "sh:ClassConstraintComponent"
    path: object         # rdflib term of sh:path (None for node shapes)
    message: str
    severity: object
    text: str
    message_uses_value: bool = False
    # a SPARQL constraint reading lexical forms (STR, SUBSTR ...): the predicates it names
    # (None: any predicate); empty when it does not read lexical forms
    lexical: tuple | None = ()
    top: frozenset = frozenset()   # the shapes with targets this query validates for


@dataclass
class Compiled:
    """Queries for every compiled node shape; refused node shapes with the reason."""

    queries: list[Query] = field(default_factory=list)
    refused: dict = field(default_factory=dict)   # node shape → reason
    shapes: int = 0
    # shapes with an sh:pattern somewhere: they read lexical forms (see `load`)
    pattern_shapes: set = field(default_factory=set)
    # shapes with a SPARQL constraint that reads lexical forms → predicates it reads (or None)
    lexical_shapes: dict = field(default_factory=dict)
    # shapes with targets → the group patterns binding ?this to their focus nodes
    targets: dict = field(default_factory=dict)

    def fallback(self, engine) -> set:
        """Shapes pySHACL must validate on the data in ``engine``: the refused ones, and those
        that read lexical forms Oxigraph does not keep (see `ambiguous`, `changed_forms`)."""
        out = set(self.refused)
        if self.pattern_shapes and ambiguous(engine):
            out |= self.pattern_shapes
        for shape, predicates in self.lexical_shapes.items():
            if changed_forms(engine, predicates):
                out.add(shape)
        return out

    def without(self, shapes) -> list[Query]:
        """The queries still needed when pySHACL validates the shapes ``shapes``."""
        return [q for q in self.queries if not q.top <= set(shapes)]


def _iri(term) -> str:
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    if isinstance(term, BNode):
        raise Refused("a blank node used as a constant")
    raise Refused(f"cannot write {term!r} in SPARQL")


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\r", "\\r") + '"'


class _Compiler:
    def __init__(self, shapes) -> None:
        from rdflib import URIRef

        self.g = shapes
        self.U = URIRef
        self.counter = 0
        self.saw_pattern = False

    def sh(self, name):
        return self.U(SH + name)

    def list(self, node) -> list:
        from rdflib.collection import Collection

        return list(Collection(self.g, node))

    def fresh(self) -> str:
        self.counter += 1
        return f"?v{self.counter}"

    # -- paths -----------------------------------------------------------------------------
    def path(self, node) -> str:
        from rdflib import BNode, URIRef

        if isinstance(node, URIRef):
            return f"<{node}>"
        if not isinstance(node, BNode):
            raise Refused("a path that is neither an IRI nor a blank node")
        if (node, self.U(RDF + "first"), None) in self.g:
            return "(" + "/".join(self.path(p) for p in self.list(node)) + ")"
        for name, fmt in (("inversePath", "^{}"), ("zeroOrMorePath", "{}*"),
                          ("oneOrMorePath", "{}+"), ("zeroOrOnePath", "{}?")):
            inner = self.g.value(node, self.sh(name))
            if inner is not None:
                return "(" + fmt.format(self.path(inner)) + ")"
        alt = self.g.value(node, self.sh("alternativePath"))
        if alt is not None:
            return "(" + "|".join(self.path(p) for p in self.list(alt)) + ")"
        raise Refused("an unknown kind of path")

    # -- the boolean "value node v conforms to nested shape s" -----------------------------
    def conforms(self, shape, v: str) -> str:
        """A SPARQL expression, never an error, true when ``v`` conforms to ``shape``."""
        parts = []
        path = self.g.value(shape, self.sh("path"))
        params = {p for p in self.g.predicates(shape, None) if str(p) not in IGNORED}
        unknown = {str(p) for p in params if str(p) not in SUPPORTED}
        if unknown or self.g.value(shape, self.sh("property")) is not None:
            raise Refused(f"nested shape uses {sorted(unknown) or 'sh:property'}")
        if path is None:
            for p in params:
                parts += self.value_tests(shape, p, v)
            return " && ".join(parts) or "true"
        sp = self.path(path)
        for p in params:
            o = self.g.value(shape, p)
            if p == self.sh("minCount"):
                n = int(o)
                if n > 1:
                    raise Refused("nested sh:minCount above 1")
                parts.append(f"EXISTS {{ {v} {sp} {self.fresh()} }}" if n == 1 else "true")
            elif p == self.sh("maxCount"):
                n = int(o)
                a, b = self.fresh(), self.fresh()
                if n == 0:
                    parts.append(f"NOT EXISTS {{ {v} {sp} {a} }}")
                elif n == 1:
                    parts.append(f"NOT EXISTS {{ {v} {sp} {a}, {b} . FILTER(!sameTerm({a}, {b})) }}")
                else:
                    raise Refused("nested sh:maxCount above 1")
            elif p == self.sh("hasValue"):
                x = self.fresh()
                parts.append(" && ".join(
                    f"EXISTS {{ {v} {sp} {x} . FILTER(sameTerm({x}, {_iri(h)})) }}"
                    for h in self.g.objects(shape, p)))
            else:
                x = self.fresh()
                tests = self.value_tests(shape, p, x)
                if tests:
                    parts.append(f"NOT EXISTS {{ {v} {sp} {x} . FILTER(!({' && '.join(tests)})) }}")
        return " && ".join(parts) or "true"

    def value_tests(self, shape, p, v: str) -> list[str]:
        """Expressions (each wrapped in COALESCE, so never an error) for a value-node constraint."""
        g, out = self.g, []
        name = str(p)[len(SH):]
        for o in g.objects(shape, p):
            if name == "class":
                e = f"EXISTS {{ {v} <{RDF}type>/<{RDFS}subClassOf>* {_iri(o)} }}"
            elif name == "datatype":
                e = self.datatype(v, str(o))
            elif name == "nodeKind":
                e = {"IRI": f"isIRI({v})", "Literal": f"isLiteral({v})",
                     "BlankNode": f"isBlank({v})", "BlankNodeOrIRI": f"!isLiteral({v})",
                     "BlankNodeOrLiteral": f"!isIRI({v})",
                     "IRIOrLiteral": f"!isBlank({v})"}[str(o)[len(SH):]]
            elif name == "pattern":
                self.saw_pattern = True
                flags = g.value(shape, self.sh("flags"))
                f = f", {_string(str(flags))}" if flags is not None else ""
                # Oxigraph stores numbers and times by value ("…+00:00" comes back "…Z"): the
                # lexical form of such literals is read from the LEXICAL graph (`load`).
                x, lex = self.fresh(), self.fresh()
                e = (f"(!isBlank({v}) && IF(isLiteral({v}) && EXISTS {{ GRAPH <{LEXICAL}> {{ "
                     f"{x} <{LEXICAL}#of> {v} }} }}, EXISTS {{ GRAPH <{LEXICAL}> {{ {x} "
                     f"<{LEXICAL}#of> {v} ; <{LEXICAL}#form> {lex} }} "
                     f"FILTER(REGEX({lex}, {_string(str(o))}{f})) }}, "
                     f"REGEX(STR({v}), {_string(str(o))}{f})))")
            elif name == "flags":
                continue
            elif name == "languageIn":
                langs = " || ".join(f"langMatches(LANG({v}), {_string(str(t))})"
                                    for t in self.list(o))
                e = f"(isLiteral({v}) && ({langs or 'false'}))"
            elif name == "in":
                e = " || ".join(f"sameTerm({v}, {_iri(t)})" for t in self.list(o)) or "false"
            elif name == "hasValue":
                e = f"sameTerm({v}, {_iri(o)})"
            elif name in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
                e = self.range(v, name, o)
            elif name == "not":
                e = f"!({self.conforms(o, v)})"
            elif name == "or":
                e = " || ".join(f"({self.conforms(s, v)})" for s in self.list(o)) or "false"
            elif name == "and":
                e = " && ".join(f"({self.conforms(s, v)})" for s in self.list(o)) or "true"
            elif name == "node":
                e = self.conforms(o, v)
            else:
                raise Refused(f"sh:{name} on value nodes")
            out.append(f"COALESCE({e}, false)")
        return out

    @staticmethod
    def datatype(v: str, dt: str) -> str:
        if dt == RDF + "langString":
            return f"(isLiteral({v}) && LANG({v}) != \"\")"
        test = f"isLiteral({v}) && LANG({v}) = \"\" && sameTerm(DATATYPE({v}), <{dt}>)"
        if dt in CASTABLE:  # well-formed: the cast succeeds (an error is false after COALESCE)
            test += f" && sameTerm(<{dt}>(STR({v})), <{dt}>(STR({v})))"
        return f"({test})"

    def range(self, v: str, name: str, bound) -> str:
        """rdflib/pySHACL ordering: numbers by value, strings with strings only, other literals
        of the same datatype by value and of different datatypes by datatype IRI."""
        op = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">",
              "maxExclusive": "<"}[name]
        return self.compare(v, op, _iri(bound), bound_datatype=str(bound.datatype or XSD + "string"))

    @staticmethod
    def compare(a: str, op: str, b: str, bound_datatype: str | None = None) -> str:
        num = ", ".join(f"<{t}>" for t in NUMERIC)
        isnum = lambda x: f"(isLiteral({x}) && DATATYPE({x}) IN ({num}))"  # noqa: E731
        isstr = lambda x: (f"(isIRI({x}) || (isLiteral({x}) && (LANG({x}) != \"\" || "  # noqa: E731
                           f"sameTerm(DATATYPE({x}), <{XSD}string>))))")
        sval = lambda x: f"STR({x})"  # noqa: E731
        return (f"(isLiteral({a}) && IF({isstr(a)} || {isstr(b)}, "
                f"{isstr(a)} && {isstr(b)} && {sval(a)} {op} {sval(b)}, "
                f"IF({isnum(a)} && {isnum(b)}, {a} {op} {b}, "
                f"IF(sameTerm(DATATYPE({a}), DATATYPE({b})), {a} {op} {b}, "
                f"STR(DATATYPE({a})) {op} STR(DATATYPE({b}))))))")


def compile_shapes(shapes) -> Compiled:
    """Compile every shape with targets of the rdflib graph ``shapes`` (see the module
    docstring). A property shape used by several node shapes (kzsh:Label-present ...) gets one
    query per constraint over the union of their focus nodes."""
    from rdflib import RDF as R

    c = _Compiler(shapes)
    sh = c.sh
    out = Compiled()
    kinds = ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")
    tops = set(shapes.subjects(R.type, sh("NodeShape")))
    tops |= {s for p in kinds for s in shapes.subjects(sh(p), None)}
    parts = {s: _target_parts(c, s) for s in tops
             if (s, sh("deactivated"), None) not in shapes}
    parts = {s: p for s, p in parts.items() if p}  # no targets: only used nested
    out.targets = parts
    users: dict = {}   # property shape → the shapes with targets that use it
    for top in sorted(parts, key=str):
        out.shapes += 1
        c.saw_pattern = False
        try:
            if (top, sh("path"), None) in shapes:  # a property shape with its own targets
                users.setdefault(top, []).append(top)
                continue
            queries = _node_shape(c, top, _targets(parts[top]))
            for prop in shapes.objects(top, sh("property")):
                _property_shape(c, prop, "{}")  # refuses here, before any query is kept
                users.setdefault(prop, []).append(top)
        except Refused as exc:
            out.refused[top] = str(exc)
            continue
        out.queries += [replace(q, top=frozenset([top])) for q in queries]
        if c.saw_pattern:
            out.pattern_shapes.add(top)
        for q in queries:
            if q.lexical != ():
                out.lexical_shapes[top] = _union(out.lexical_shapes.get(top, ()), q.lexical)
    for prop in sorted(users, key=str):
        parents = [t for t in users[prop] if t not in out.refused]
        if not parents:
            continue
        union = sorted({p for t in parents for p in parts[t]})
        c.saw_pattern = False
        try:
            queries = _property_shape(c, prop, _targets(union))
        except Refused as exc:  # only a property shape with its own targets gets here
            out.refused[prop] = str(exc)
            continue
        out.queries += [replace(q, top=frozenset(parents)) for q in queries]
        if c.saw_pattern:
            out.pattern_shapes |= set(parents)
        for q in queries:
            if q.lexical != ():
                for t in parents:
                    out.lexical_shapes[t] = _union(out.lexical_shapes.get(t, ()), q.lexical)
    return out


def _target_parts(c: _Compiler, shape) -> list[str]:
    """Group patterns binding ?this to the focus nodes of ``shape``, one per target."""
    g, sh, parts = c.g, c.sh, []
    for cls in sorted(g.objects(shape, sh("targetClass")), key=str):
        parts.append(f"?this <{RDF}type>/<{RDFS}subClassOf>* {_iri(cls)} .")
    for node in sorted(g.objects(shape, sh("targetNode")), key=str):
        parts.append(f"VALUES ?this {{ {_iri(node)} }}")
    for p in sorted(g.objects(shape, sh("targetSubjectsOf")), key=str):
        parts.append(f"?this {_iri(p)} [] .")
    for p in sorted(g.objects(shape, sh("targetObjectsOf")), key=str):
        parts.append(f"[] {_iri(p)} ?this .")
    return parts


def _targets(parts: list[str]) -> str:
    """A subquery binding ?this once to every focus node (FOCUS: where `run` restricts them)."""
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(f"{{ {p} }}" for p in parts) \
        + " FOCUS } }"


def _message(c: _Compiler, shape) -> str:
    messages = list(c.g.objects(shape, c.sh("message")))
    if len(messages) != 1:
        raise Refused(f"{len(messages)} sh:message (pySHACL would make up or pick a message)")
    return str(messages[0])


def _severity(c: _Compiler, shape):
    return c.g.value(shape, c.sh("severity")) or c.sh("Violation")


def _check_params(c: _Compiler, shape) -> set:
    params = {p for p in c.g.predicates(shape, None) if str(p) not in IGNORED}
    unknown = sorted(str(p)[len(SH):] if str(p).startswith(SH) else str(p)
                     for p in params if str(p) not in SUPPORTED)
    if unknown:
        raise Refused("uses " + ", ".join(unknown))
    if c.g.value(shape, c.sh("qualifiedValueShapesDisjoint")) is not None:
        raise Refused("uses sh:qualifiedValueShapesDisjoint")
    return params


COMPONENT = {"class": "Class", "datatype": "Datatype", "nodeKind": "NodeKind", "pattern": "Pattern",
             "languageIn": "LanguageIn", "in": "In", "hasValue": "HasValue", "not": "Not",
             "or": "Or", "and": "And", "node": "Node", "minInclusive": "MinInclusive",
             "maxInclusive": "MaxInclusive", "minExclusive": "MinExclusive",
             "maxExclusive": "MaxExclusive", "minCount": "MinCount", "maxCount": "MaxCount",
             "closed": "Closed", "disjoint": "Disjoint", "lessThanOrEquals": "LessThanOrEquals",
             "lessThan": "LessThan", "qualifiedMinCount": "QualifiedMinCount",
             "qualifiedMaxCount": "QualifiedMaxCount", "sparql": "SPARQL"}


def _query(c, shape, name, path, text, message=None, uses_value=False) -> Query:
    return Query(shape=shape, component=f"sh:{COMPONENT[name]}ConstraintComponent", path=path,
                 message=message if message is not None else _message(c, shape),
                 severity=_severity(c, shape), text=text, message_uses_value=uses_value)


def _node_shape(c: _Compiler, shape, targets: str) -> list[Query]:
    g, sh = c.g, c.sh
    params = _check_params(c, shape)
    out = []
    for p in sorted(params, key=str):
        name = str(p)[len(SH):]
        if name in ("flags", "ignoredProperties", "qualifiedValueShape"):
            continue
        if name in ("minCount", "maxCount", "disjoint", "lessThanOrEquals", "lessThan",
                    "qualifiedMinCount", "qualifiedMaxCount"):
            raise Refused(f"sh:{name} on a node shape")
        if name == "closed":
            if str(g.value(shape, p)).lower() != "true":
                continue
            allowed = {str(x) for x in g.objects(shape, sh("ignoredProperties"))
                       for x in c.list(x)}
            for prop in g.objects(shape, sh("property")):
                path = g.value(prop, sh("path"))
                if path is not None and not _is_blank(path):
                    allowed.add(str(path))
            allowed_list = ", ".join(f"<{a}>" for a in sorted(allowed)) or "<urn:x-none>"
            text = (f"SELECT DISTINCT ?this ?value ?path WHERE {{ {targets} ?this ?path ?value . "
                    f"FILTER(?path NOT IN ({allowed_list})) }}")
            out.append(_query(c, shape, name, None, text))
            continue
        if name == "sparql":
            for constraint in g.objects(shape, p):
                out.append(_sparql(c, shape, constraint, targets, None))
            continue
        tests = c.value_tests(shape, p, "?this")
        for test in tests:
            text = (f"SELECT DISTINCT ?this (?this AS ?value) WHERE {{ {targets} "
                    f"FILTER(!({test})) }}")
            out.append(_query(c, shape, name, None, text))
    return out


def _property_shape(c: _Compiler, prop, targets: str) -> list[Query]:
    g, sh = c.g, c.sh
    path_node = g.value(prop, sh("path"))
    if path_node is None:
        raise Refused("a property shape without sh:path")
    if (prop, sh("deactivated"), None) in g:
        return []
    if g.value(prop, sh("property")) is not None:
        raise Refused("a property shape with sh:property")
    params = _check_params(c, prop)
    path = c.path(path_node)
    out = []
    values = f"?this {path} ?value ."
    for p in sorted(params, key=str):
        name = str(p)[len(SH):]
        o = g.value(prop, p)
        if name in ("flags", "qualifiedValueShape", "closed", "ignoredProperties"):
            if name == "closed":
                raise Refused("sh:closed on a property shape")
            continue
        if name == "minCount":
            n = int(o)
            if n == 0:
                continue
            if n == 1:
                text = (f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ {values} }} }}")
            else:
                text = (f"SELECT ?this WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?value) AS ?n) "
                        f"WHERE {{ {targets} OPTIONAL {{ {values} }} }} GROUP BY ?this }} "
                        f"FILTER(?n < {n}) }}")
        elif name == "maxCount":
            text = (f"SELECT ?this WHERE {{ {{ SELECT ?this WHERE {{ {targets} {values} }} "
                    f"GROUP BY ?this HAVING(COUNT(DISTINCT ?value) > {int(o)}) }} }}")
        elif name in ("qualifiedMinCount", "qualifiedMaxCount"):
            q = g.value(prop, sh("qualifiedValueShape"))
            if q is None:
                raise Refused("sh:qualifiedMinCount without sh:qualifiedValueShape")
            test = c.conforms(q, "?value")
            n = int(o)
            cmp = f"?n < {n}" if name == "qualifiedMinCount" else f"?n > {n}"
            text = (f"SELECT ?this WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?q) AS ?n) WHERE {{ "
                    f"{targets} OPTIONAL {{ {values} FILTER({test}) BIND(?value AS ?q) }} }} "
                    f"GROUP BY ?this }} FILTER({cmp}) }}")
        elif name == "hasValue":  # pySHACL reports the focus node without a value
            tests = " || ".join(f"sameTerm(?value, {_iri(h)})" for h in g.objects(prop, p))
            text = (f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ {values} "
                    f"FILTER({tests}) }} }}")
        elif name == "disjoint":
            text = (f"SELECT DISTINCT ?this ?value WHERE {{ {targets} {values} "
                    f"?this {_iri(o)} ?value . }}")
        elif name in ("lessThanOrEquals", "lessThan"):
            op = "<=" if name == "lessThanOrEquals" else "<"
            test = _Compiler.compare("?value", op, "?other")
            text = (f"SELECT DISTINCT ?this ?value WHERE {{ {targets} {values} "
                    f"?this {_iri(o)} ?other . FILTER(isBlank(?value) || isBlank(?other) || "
                    f"!COALESCE({test}, false)) }}")
        elif name == "sparql":
            for constraint in g.objects(prop, p):
                out.append(_sparql(c, prop, constraint, targets, path_node))
            continue
        else:
            for test in c.value_tests(prop, p, "?value"):
                text = (f"SELECT DISTINCT ?this ?value WHERE {{ {targets} {values} "
                        f"FILTER(!({test})) }}")
                out.append(_query(c, prop, name, path_node, text))
            continue
        out.append(_query(c, prop, name, path_node, text))
    return out


def _sparql(c: _Compiler, shape, constraint, targets: str, path_node) -> Query:
    import re

    g, sh = c.g, c.sh
    select = g.value(constraint, sh("select"))
    if select is None or (constraint, sh("deactivated"), None) in g:
        raise Refused("a SPARQL constraint without sh:select")
    prefixes = []
    for owner in g.objects(constraint, sh("prefixes")):
        for decl in g.objects(owner, sh("declare")):
            prefixes.append(f"PREFIX {g.value(decl, sh('prefix'))}: "
                            f"<{g.value(decl, sh('namespace'))}>")
    body = str(select)
    if re.search(r"\$(?!this\b)\w+|\b(MINUS|VALUES|SERVICE|GROUP\s+BY|LIMIT|OFFSET)\b", body,
                 re.I):
        raise Refused("a SPARQL constraint with pre-bound variables other than $this, MINUS, "
                      "VALUES, SERVICE, aggregates or a slice")
    body = body.replace("$this", "?this")
    messages = [str(m) for m in g.objects(constraint, sh("message"))]
    if len(messages) > 1:
        raise Refused("a SPARQL constraint with several messages")
    message = messages[0] if messages else _message(c, shape)
    projected = re.search(r"SELECT\s+(DISTINCT\s+)?(.*?)\s+WHERE", body, re.I | re.S)
    if projected is None or "?this" not in projected.group(2):
        raise Refused("a SPARQL constraint that does not select $this")
    names = projected.group(2)
    value = "?value" if "?value" in names else "(?this AS ?value)" if path_node is None else ""
    text = ("\n".join(prefixes) + f"\nSELECT DISTINCT ?this {value} "
            f"{'?path' if '?path' in names else ''} WHERE {{ {targets} {{ {body} }} }}")
    if value == "":
        raise Refused("a property-shape SPARQL constraint without ?value")
    return Query(shape=shape, component="sh:SPARQLConstraintComponent", path=path_node,
                 message=message, severity=_severity(c, shape), text=text,
                 message_uses_value=bool(re.search(r"\{[?$]\w+\}", message)),
                 lexical=_lexical_predicates(body, dict(
                     (line.split()[1].rstrip(":"), line.split()[2].strip("<>"))
                     for line in prefixes)))


def load(graph):
    """An `OxigraphEngine` holding ``graph`` for `run`, plus the LEXICAL named graph: for every
    typed literal whose datatype Oxigraph stores by value, the lexical form as written."""
    import pyoxigraph as ox
    from rdflib import Literal

    from .engine import OxigraphEngine

    # rdflib's N-Triples text, unsorted, is the quickest way from rdflib to Oxigraph (building
    # pyoxigraph quads in Python is slower); blank nodes keep their labels
    engine = OxigraphEngine.from_ntriples(graph.serialize(format="nt", encoding="utf-8"))
    keep = CASTABLE - {XSD + "string"}
    name, of, form = ox.NamedNode(LEXICAL), ox.NamedNode(LEXICAL + "#of"), \
        ox.NamedNode(LEXICAL + "#form")
    quads = []
    for n, lit in enumerate({o for o in graph.objects() if isinstance(o, Literal)
                             and o.datatype is not None and str(o.datatype) in keep}):
        node = ox.BlankNode(f"lex{n}")
        quads.append(ox.Quad(node, of, ox.Literal(str(lit), datatype=ox.NamedNode(lit.datatype)),
                             name))
        quads.append(ox.Quad(node, form, ox.Literal(str(lit)), name))
    engine.store.extend(quads)
    return engine


def _union(a, b):
    return None if a is None or b is None else tuple(sorted(set(a) | set(b)))


LEXICAL_FUNCTIONS = r"\b(STR|STRLEN|SUBSTR|REGEX|CONTAINS|STRSTARTS|STRENDS|STRBEFORE|STRAFTER|" \
    r"LCASE|UCASE|CONCAT|ENCODE_FOR_URI|REPLACE|MD5|SHA1|SHA256|SHA384|SHA512)\s*\("


def _lexical_predicates(body: str, prefixes: dict):
    """() when the query reads no lexical form; else the predicates it names (None: it has a
    variable in predicate position, so any)."""
    import re

    if not re.search(LEXICAL_FUNCTIONS, body, re.I):
        return ()
    where = body[body.upper().index("WHERE"):]
    if re.search(r"[?$]\w+\s+[?$]\w+\s+[?$\w<]", where.replace(";", " ; ")):
        return None
    names = {m for m in re.findall(r"<([^<>\s]+)>", where)}
    for prefix, local in re.findall(r"\b([A-Za-z][\w-]*):([A-Za-z_][\w-]*)", where):
        if prefix in prefixes:
            names.add(prefixes[prefix] + local)
    return tuple(sorted(names))


def changed_forms(engine, predicates) -> bool:
    """True when a literal reached through ``predicates`` (None: any) is stored by Oxigraph in
    another lexical form than the one written ("…+00:00" → "…Z")."""
    restrict = "" if predicates is None else \
        "VALUES ?p { " + " ".join(f"<{p}>" for p in predicates) + " } ?s ?p ?o ."
    return bool(engine.store.query(
        f"ASK {{ {restrict} GRAPH <{LEXICAL}> {{ ?x <{LEXICAL}#of> ?o ; <{LEXICAL}#form> ?f }} "
        f"FILTER(STR(?o) != STR(?f)) }}"))


def ambiguous(engine) -> bool:
    """True when two literals of the data differ only in lexical form ("…Z" and "…+00:00",
    "149" and "149.0"): Oxigraph holds them as one term, so a pattern cannot tell which
    form it tests, and `kzgraph.validate.fast_violations` hands the shapes with sh:pattern
    to pySHACL."""
    found = engine.store.query(
        f"ASK {{ {{ SELECT ?o WHERE {{ GRAPH <{LEXICAL}> {{ ?x <{LEXICAL}#of> ?o ; "
        f"<{LEXICAL}#form> ?f }} }} GROUP BY ?o HAVING(COUNT(DISTINCT ?f) > 1) }} }}")
    return bool(found)


def run(engine, compiled: Compiled, origin: dict | None = None, focus=None,
        progress=None, graph=None, skip=()) -> list:
    """Evaluate the compiled queries on ``engine`` (an `OxigraphEngine`); return sorted
    `Violation` values. ``focus`` (an iterable of rdflib terms) limits validation to those
    focus nodes; ``progress(1)`` is called after each query. ``graph``, the rdflib graph the
    store was loaded from, gives literal values back their lexical form (Oxigraph stores
    numbers by value: "149.0"^^xsd:decimal comes back as "149")."""
    import re

    from .engine import collect
    from .sparql import Prepared
    from .validate import Violation, _term

    origin = origin or {}
    if focus is not None:
        focus = sorted(set(focus), key=str)
        if not focus:
            return []
        restrict = "VALUES ?this { " + " ".join(
            t.n3() for t in focus if not _is_blank(t)) + " }"
        if all(_is_blank(t) for t in focus):
            return []
    else:
        restrict = ""
    out = set()
    for q in compiled.without(set(skip)):
        text = q.text.replace(" FOCUS }", f" {restrict} }}")
        variables = tuple(v for v in ("this", "value", "path") if f"?{v}" in text.split("WHERE")[0])
        result = collect(Prepared(text=text, form="SELECT", variables=variables),
                         engine.store.query(text))
        for row in result.rows:
            binding = dict(zip(result.variables, row))
            this, value = binding.get("this"), binding.get("value")
            if graph is not None and _is_literal(value) and value.datatype is not None:
                value = _lexical(graph, this, value)
            path = binding.get("path", q.path)
            message = q.message
            if q.message_uses_value:
                for var, val in (("this", this), ("path", path), ("value", value)):
                    if val is not None:
                        message = re.sub("{[?$]%s}" % var, lambda _m, v=val: str(v), message)
            out.add(Violation(focus=_term(this), path=_term(path), value=_term(value),
                              message=message,
                              severity=_term(q.severity).removeprefix("sh:"),
                              shape=_term(q.shape), source_file=origin.get(this, ""),
                              component=q.component))
        if progress is not None:
            progress(1)
    return sorted(out)


def _is_blank(term) -> bool:
    from rdflib import BNode

    return isinstance(term, BNode)


def _is_literal(term) -> bool:
    from rdflib import Literal

    return isinstance(term, Literal)


def _lexical(graph, this, value):
    """The literal as written in ``graph``: an object of ``this`` equal in value to ``value``
    (the focus node's own literal, or, for longer paths, any literal of the graph)."""
    from rdflib import Literal

    candidates = [o for o in graph.objects(this, None) if isinstance(o, Literal)
                  and o.datatype == value.datatype] if this is not None else []
    for o in candidates:
        if o == value:
            return o
    for o in candidates:
        try:
            if o.value is not None and o.eq(value):
                return o
        except TypeError:
            continue
    return value
