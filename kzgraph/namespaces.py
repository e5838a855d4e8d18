"""The namespaces kzgraph mints and reuses, and the prefix table used everywhere."""
from __future__ import annotations

KZ = "https://w3id.org/kzgraph/id/"
KZO = "https://w3id.org/kzgraph/ontology#"
KZSH = "https://w3id.org/kzgraph/shapes#"
ONTOLOGY_IRI = "https://w3id.org/kzgraph/ontology"

#: Prefixes bound in exports and prepended to stored queries; order is the export order.
PREFIXES: dict[str, str] = {
    "kz": KZ,
    "kzo": KZO,
    "kzsh": KZSH,
    "dcterms": "http://purl.org/dc/terms/",
    "eli": "http://data.europa.eu/eli/ontology#",
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "qb": "http://purl.org/linked-data/cube#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "sdmx-attribute": "http://purl.org/linked-data/sdmx/2009/attribute#",
    "sdmx-dimension": "http://purl.org/linked-data/sdmx/2009/dimension#",
    "sdmx-measure": "http://purl.org/linked-data/sdmx/2009/measure#",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "time": "http://www.w3.org/2006/time#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def sparql_prefixes() -> str:
    """PREFIX lines for every namespace in `PREFIXES`."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def expand(value: str) -> str:
    """``kz:kcell`` → the full IRI; a full IRI (or anything else) is returned as it is.

    >>> expand("kz:kcell")
    'https://w3id.org/kzgraph/id/kcell'
    """
    prefix, sep, local = str(value).partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return str(value)


def shorten(iri: str) -> str:
    """``https://w3id.org/kzgraph/id/kcell`` → ``kz:kcell`` (longest matching namespace)."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    if best:
        local = iri[len(PREFIXES[best]):]
        if local and all(c.isalnum() or c in "-_." for c in local):
            return f"{best}:{local}"
    return f"<{iri}>"
