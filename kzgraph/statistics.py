"""Statistics: the observations of one measure as a series of rows, every figure with its
source, conflicting figures for the same period side by side and marked.

>>> import kzgraph
>>> kg = kzgraph.load()
>>> users = kg.series("internet users")
>>> [(o.period, o.value, o.conflicting) for o in users if o.period == "2005"]
[('2005', Decimal('400000'), True), ('2005', Decimal('1000000'), True)]
"""
from __future__ import annotations

from . import api_queries, periods
from .entities import lookup
from .records import Observation, Records

MEASURE = "https://w3id.org/kzgraph/ontology#Measure"


def series(kg, measure) -> Records:
    """Every observation of ``measure`` (its label, an alternative label, a ``kz:`` name or
    IRI; looked up among measures only) as `Observation` records, sorted by period (undated
    last), then breakdown, value and IRI. Figures that another figure contradicts are all
    present, each with its source, ``conflicting=True`` and the IRIs of the others in
    ``conflicts_with``."""
    target = lookup(kg, measure, type=MEASURE)
    grouped: dict[str, dict] = {}
    for row in api_queries.rows(kg, "observations", measure=target.iri):
        group = grouped.setdefault(row["obs"], {"row": row, "sets": {}})
        for name in ("subjectLabel", "reporterLabel", "sourceLabel", "other"):
            if row[name] is not None:
                group["sets"].setdefault(name, set()).add(row[name])
    out = []
    for iri, group in grouped.items():
        row, sets = group["row"], group["sets"]
        others = tuple(sorted(sets.get("other", ())))
        out.append(Observation(
            iri=iri, label=row["label"], measure=target.iri,
            period=row["asOf"] or row["start"], end=row["end"], value=row["value"],
            value_min=row["valueMin"], value_max=row["valueMax"],
            category=row["categoryLabel"], unit=row["unitLabel"],
            qualifier=row["qualifierLabel"], status=row["statusLabel"],
            breakdown=row["breakdownLabel"], area=row["areaLabel"],
            subjects=tuple(sorted(sets.get("subjectLabel", ()))),
            reported_by=tuple(sorted(sets.get("reporterLabel", ()))),
            sources=tuple(sorted(sets.get("sourceLabel", ()))),
            conflicting=bool(others), conflicts_with=others))
    out.sort(key=lambda o: (periods.sort_key(o.period), o.breakdown or "",
                            o.value if o.value is not None else 0, o.iri))
    return Records(out)
