"""API records as text for the command line: a plain table, JSON or CSV.

A `View` names the columns to show, each a header and a function of the record. ``table``
shortens IRIs and long cells, ``csv`` writes the same columns in full, ``json`` writes every
field of every record (``to_dict()``), numbers as JSON numbers.

>>> from kzgraph.records import Match
>>> view = View([("label", lambda m: m.label), ("score", lambda m: m.score)])
>>> print(render([Match("https://w3id.org/kzgraph/id/kcell", "Kcell", "Kcell", 1.0)], view))
label  score
-----  -----
Kcell  1.0
(1 row)
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import InputError
from .namespaces import shorten

FORMATS = ("table", "json", "csv")


@dataclass
class View:
    """The columns of a table or CSV: ``(header, function of the record)`` pairs."""

    columns: Sequence[tuple[str, Callable[[Any], Any]]]


def cell(value: Any, short: bool = True) -> str:
    """One value as text: IRIs shortened (``kz:kcell``) when ``short``, tuples joined by
    ``" | "``, None as empty, Decimals without trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return " | ".join(cell(v, short) for v in value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.timedelta):
        from .periods import iso_duration

        return iso_duration(value) or ""
    text = str(value)
    if short and text.startswith(("http://", "https://")):
        return shorten(text)
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        from .periods import iso_duration

        return iso_duration(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any) -> str:
    """Records, dicts and lists as indented JSON (Decimal → number, timedelta → ISO)."""
    if isinstance(data, list):
        data = [d.to_dict() if hasattr(d, "to_dict") else d for d in data]
    elif hasattr(data, "to_dict"):
        data = data.to_dict()
    return json.dumps(data, default=_json_default, ensure_ascii=False, indent=1)


def table(rows: Sequence[Any], view: View) -> str:
    """A plain-text table with a header, a rule and a row count."""
    from .formats import text_table

    return text_table([h for h, _ in view.columns],
                      [[cell(f(row)) for _, f in view.columns] for row in rows])


def to_csv(rows: Sequence[Any], view: View) -> str:
    """The view's columns as CSV, values in full (IRIs not shortened)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([h for h, _ in view.columns])
    for row in rows:
        writer.writerow([cell(f(row), short=False) for _, f in view.columns])
    return buf.getvalue()


def render(rows: Sequence[Any], view: View, fmt: str = "table") -> str:
    """``rows`` (records) in format ``fmt``: table, json or csv."""
    if fmt == "table":
        return table(rows, view)
    if fmt == "json":
        return to_json(list(rows))
    if fmt == "csv":
        return to_csv(rows, view).rstrip("\n")
    raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


# -- the views of the CLI commands ----------------------------------------------------------


def _time(r) -> str:
    if getattr(r, "start", None) or getattr(r, "end", None):
        return f"{r.start or '…'} .. {r.end or '…'}"
    if getattr(r, "as_of", None):
        return f"as of {r.as_of}"
    return "undated"


def _share(s) -> str:
    if s.share is not None:
        return f"{cell(s.share)} %"
    if s.share_min is not None or s.share_max is not None:
        low, high = cell(s.share_min) or "?", cell(s.share_max) or "?"
        return f"{low}–{high} % ({'exclusive' if s.bounds_exclusive else 'inclusive'})"
    return ""


FACTS = View([
    ("dir", lambda f: f.direction),
    ("subject", lambda f: f.subject_label or f.subject),
    ("predicate", lambda f: f.predicate_label or f.predicate),
    ("object", lambda f: f.object_label or f.object),
    ("time", _time),
    ("sources", lambda f: f.source_labels),
])

OWNERS = View([
    ("owner", lambda s: s.owner_label or s.owner),
    ("share", _share),
    ("kind", lambda s: s.kind_label),
    ("time", _time),
    ("holds", lambda s: {True: "yes", False: "no", None: ""}[s.holds]),
    ("time note", lambda s: s.time_note),
    ("sources", lambda s: s.source_labels),
    ("stake", lambda s: s.stake),
])

HOLDINGS = View([("owned", lambda s: s.owned_label or s.owned)] + list(OWNERS.columns[1:]))

TIMELINE = View([
    ("date", lambda e: e.date),
    ("end", lambda e: e.end),
    ("what", lambda e: e.what),
    ("category", lambda e: e.category),
    ("kind", lambda e: e.kind_labels),
    ("label", lambda e: e.label),
    ("sources", lambda e: e.sources),
])

PATH = View([
    ("hop", lambda s: s[0]),
    ("from", lambda s: s[1]),
    ("link", lambda s: s[2]),
    ("to", lambda s: s[3]),
])

SERIES = View([
    ("period", lambda o: o.period if not o.end else f"{o.period or '…'} .. {o.end}"),
    ("value", lambda o: o.value if o.value is not None else (
        f"{cell(o.value_min)}..{cell(o.value_max)}" if o.value_min is not None
        or o.value_max is not None else o.category)),
    ("unit", lambda o: o.unit),
    ("qualifier", lambda o: o.qualifier),
    ("status", lambda o: o.status),
    ("breakdown", lambda o: o.breakdown),
    ("conflicting", lambda o: o.conflicting),
    ("sources", lambda o: o.sources),
])


def path_rows(path) -> list[tuple]:
    """A `Path` as rows of (hop, from, link, to) for `PATH`."""
    rows = []
    for i, step in enumerate(path.steps):
        frm, to = path.labels[i] or path.nodes[i], path.labels[i + 1] or path.nodes[i + 1]
        name = step.predicate_label or shorten(step.predicate)
        link = f"—[{name}]→" if step.forward else f"←[{name}]—"
        rows.append((i + 1, frm, link, to))
    return rows
