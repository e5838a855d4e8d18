"""Pictures: the ownership network (Graphviz) and the timeline of shutdowns, blocking, laws and
launches (matplotlib). Both read the graph through the analyst's API (`kzgraph.ownership`,
`kzgraph.timeline`), i.e. through the stored queries and the query runner.

Both pictures are deterministic for a given graph: nodes, edges and lanes are sorted, and the
SVG/PNG writers are given fixed metadata (no creation dates, fixed SVG ids).
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

from .errors import InputError

INSTALL_DOT = ("the Graphviz program 'dot' is not installed (or not on PATH); install the "
               "Debian/Ubuntu package 'graphviz' (sudo apt-get install graphviz), or see "
               "https://graphviz.org/download/")


class MissingProgram(InputError):
    """An external program the picture needs is missing (exit code 2)."""


# -- ownership -----------------------------------------------------------------------------------

def _share(stake) -> str:
    def pct(x: Decimal) -> str:
        return f"{x.normalize():f} %"

    if stake.share is not None:
        return pct(stake.share)
    if stake.share_min is not None or stake.share_max is not None:
        lo, hi = stake.share_min or Decimal(0), stake.share_max or Decimal(100)
        rel = "<" if stake.bounds_exclusive else "≤"
        return f"{pct(lo).removesuffix(' %')} {rel} share {rel} {pct(hi)}"
    return "share not given"


def _when(stake) -> str:
    if stake.start or stake.end:
        return f"{stake.start or '…'} – {stake.end or 'now'}"
    if stake.as_of:
        return f"as of {stake.as_of}"
    return "undated (present tense in the source)"


def ownership_dot(kg):
    """The ownership network as a `graphviz.Digraph`: owners → companies, each edge labelled
    with the share (or its bounds) and the date (or "undated")."""
    import graphviz

    from .ownership import stakes
    from .namespaces import shorten

    items = sorted(stakes(kg), key=lambda s: (s.owner, s.owned, s.stake))
    dot = graphviz.Digraph("ownership", format="svg")
    dot.attr(rankdir="LR", fontname="Helvetica", fontsize="11", labelloc="t",
             label="Who owns whom in Kazakh telecommunications (kzgraph)")
    dot.attr("node", shape="box", style="rounded,filled", fillcolor="#eef3fb",
             fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="9", color="#40608f")
    nodes = {}
    for s in items:
        nodes.setdefault(s.owner, s.owner_label or shorten(s.owner))
        nodes.setdefault(s.owned, s.owned_label or shorten(s.owned))
    for iri in sorted(nodes):
        dot.node(shorten(iri).replace(":", "_"), nodes[iri], tooltip=shorten(iri))
    for s in items:
        dot.edge(shorten(s.owner).replace(":", "_"), shorten(s.owned).replace(":", "_"),
                 label=f"{_share(s)}\n{_when(s)}", tooltip=shorten(s.stake))
    return dot


def draw_ownership(kg, output: Path | str) -> Path:
    """Render the ownership network to ``output`` (format from the suffix: svg, png, pdf).
    Needs Graphviz's ``dot`` program: `MissingProgram` (exit 2) says how to install it."""
    output = Path(output)
    fmt = output.suffix.lstrip(".").lower() or "svg"
    if fmt not in ("svg", "png", "pdf"):
        raise InputError(f"{output}: use a .svg, .png or .pdf file for the ownership picture")
    if shutil.which("dot") is None:
        raise MissingProgram(INSTALL_DOT)
    import graphviz

    from .export import write_atomic

    dot = ownership_dot(kg)
    try:
        data = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise MissingProgram(INSTALL_DOT) from None
    return write_atomic(output, data)


# -- timeline ------------------------------------------------------------------------------------

#: Lanes of the timeline, top to bottom: (title, kinds for `KZGraph.timeline`, colour).
LANES = (
    ("Shutdowns & throttling", ("shutdown", "throttling", "restoration"), "#c0392b"),
    ("Blocking", ("blocking",), "#e67e22"),
    ("Laws", ("law",), "#2c3e50"),
    ("Launches", ("launch",), "#27ae60"),
)

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2}))?")


def _to_datetime(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    m = _DATE.match(text)
    if not m:
        return None
    y, mo, d, h, mi = m.groups()
    return dt.datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0))


def timeline_items(kg) -> list[tuple[int, dt.datetime, dt.datetime | None, str, str]]:
    """(lane, start, end, label, date text) of everything drawn, sorted; one entry per item
    (the first lane it falls in)."""
    seen: set[str] = set()
    items = []
    for lane, (_, kinds, _) in enumerate(LANES):
        for kind in kinds:
            for entry in kg.timeline(kind=kind):
                start = _to_datetime(entry.date)
                if start is None or entry.iri in seen:
                    continue
                seen.add(entry.iri)
                items.append((lane, start, _to_datetime(entry.end), entry.label or entry.iri,
                              entry.date))
    return sorted(items, key=lambda i: (i[1], i[0], i[3]))


def _short(text: str, width: int = 48) -> str:
    return textwrap.shorten(text, width=width, placeholder="…")


def timeline_figure(kg):
    """A matplotlib Figure: all years on top (one lane per kind), January 2022 day by day
    below, every January item labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    items = timeline_items(kg)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(13, 11),
                                      gridspec_kw={"height_ratios": [1, 1.6]})
    fig.suptitle("Shutdowns, blocking, laws and launches in Kazakhstan (kzgraph)", fontsize=14)

    lanes = len(LANES)
    for lane, start, end, label, _ in items:
        y = lanes - 1 - lane
        colour = LANES[lane][2]
        if end is not None and end > start:
            top.plot([start, end], [y, y], color=colour, linewidth=4, alpha=0.6)
        top.scatter([start], [y], color=colour, s=40, zorder=3)
    top.set_yticks(range(lanes), [LANES[lanes - 1 - i][0] for i in range(lanes)])
    top.set_ylim(-0.7, lanes - 0.3)
    top.xaxis.set_major_locator(mdates.YearLocator(2))
    top.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    top.grid(axis="x", alpha=0.3)
    top.set_title("All years (each dot an event, a law or a launch)", fontsize=11)
    jan0, jan1 = dt.datetime(2022, 1, 1), dt.datetime(2022, 2, 1)
    top.axvspan(jan0, jan1, color="#c0392b", alpha=0.12)
    top.annotate("January 2022\n(below)", xy=(jan0, lanes - 0.6), fontsize=8, ha="right",
                 color="#c0392b")

    january = [i for i in items if jan0 <= i[1] < jan1]
    for row, (lane, start, end, label, date) in enumerate(january):
        y = len(january) - row
        colour = LANES[lane][2]
        if end is not None and end > start:
            bottom.plot([start, end], [y, y], color=colour, linewidth=4, alpha=0.6)
        bottom.scatter([start], [y], color=colour, s=36, zorder=3)
        bottom.annotate(f"{date}  {_short(label, 70)}", xy=(start, y), xytext=(6, -3),
                        textcoords="offset points", fontsize=8)
    bottom.set_xlim(dt.datetime(2021, 12, 31, 12), dt.datetime(2022, 1, 16))
    bottom.set_ylim(0, len(january) + 1)
    bottom.set_yticks([])
    bottom.xaxis.set_major_locator(mdates.DayLocator())
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d"))
    bottom.grid(axis="x", alpha=0.3)
    bottom.set_xlabel("January 2022 (day of month; month-precision items sit on the 1st)")
    bottom.set_title("January 2022, day by day", fontsize=11)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=c, label=t)
               for t, _, c in LANES]
    top.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def draw_timeline(kg, output: Path | str) -> Path:
    """Render the timeline to ``output`` (png, svg or pdf), without creation dates."""
    import io

    from .export import write_atomic

    output = Path(output)
    fmt = output.suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "svg", "pdf"):
        raise InputError(f"{output}: use a .png, .svg or .pdf file for the timeline picture")
    import matplotlib
    import matplotlib.pyplot as plt

    fig = timeline_figure(kg)  # selects the Agg backend
    buffer = io.BytesIO()
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}[fmt]
    with matplotlib.rc_context({"svg.hashsalt": "kzgraph", "svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, dpi=110, metadata=metadata)
    plt.close(fig)
    return write_atomic(output, buffer.getvalue())


def draw(kg, what: str, output: Path | str) -> Path:
    """``what`` is "ownership" or "timeline"."""
    if what == "ownership":
        return draw_ownership(kg, output)
    if what == "timeline":
        return draw_timeline(kg, output)
    raise InputError(f"unknown picture {what!r}; available: ownership, timeline")
