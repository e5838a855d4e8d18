"""The ``kzgraph`` command: a thin layer over the Python API.

Exit codes: 0 success, 1 the graph does not conform, 2 bad input (file, query, parameter).
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import KzGraphError

from .entry import FORMATS


def _fail(message: str, code: int) -> None:
    click.echo(f"kzgraph: {message}", err=True)
    sys.exit(code)


def friendly(func):
    """Turn kzgraph errors into a message and an exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", _NameChosen())
            try:
                return func(*args, **kwargs)
            except KzGraphError as exc:
                _fail(str(exc), exc.exit_code)
            except KeyboardInterrupt:
                _fail("interrupted", 130)
            except BrokenPipeError:
                sys.exit(0)
            finally:
                _notes(caught)

    return wrapper


def _NameChosen():  # noqa: N802 - imported only when a command runs
    from .entities import NameChosen

    return NameChosen


def _notes(caught) -> None:
    """A name resolved among several (`kzgraph.entities.NameChosen`) becomes one note on
    stderr; other warnings are shown as Python shows them."""
    import warnings

    seen = set()
    for item in caught:
        if item.category.__name__ == "NameChosen":
            if str(item.message) not in seen:
                seen.add(str(item.message))
                click.echo(f"kzgraph: note: {item.message}", err=True)
        else:
            warnings.showwarning(item.message, item.category, item.filename, item.lineno)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="kzgraph")
@click.option("--engine", default="oxigraph", show_default=True, envvar="KZGRAPH_ENGINE",
              metavar="oxigraph|memory|URL",
              help="Where queries run: Oxigraph (a store kept in the build cache), rdflib in "
                   "memory, or the http(s) URL of a SPARQL 1.1 query endpoint (then nothing "
                   "is loaded locally). Every engine gives the same answers.")
def main(engine) -> None:
    """kzgraph: the knowledge graph of telecommunications and the internet in Kazakhstan."""


def _engine() -> str:
    ctx = click.get_current_context(silent=True)
    return (ctx.find_root().params.get("engine") if ctx else None) or "oxigraph"


def _load(paths, reasoning=False):
    from . import load

    return load(list(paths), reasoning=reasoning, engine=_engine())


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="Report format.")
@click.option("--no-checks", is_flag=True, help="Skip the SPARQL quality checks.")
@click.option("--no-reasoning", is_flag=True, help="Skip the OWL RL consistency check.")
@friendly
def validate(paths, fmt, no_checks, no_reasoning) -> None:
    """Validate the graph (plus PATHS, your own Turtle files) against the SHACL shapes, the
    quality checks and OWL RL consistency. Exit 0 when it conforms, 1 when it does not."""
    from .build import input_files
    from .build import validate as run_validation

    from . import incremental

    report = run_validation(input_files(list(paths)), checks=not no_checks,
                            consistency=not no_reasoning)
    if incremental.last is not None:
        click.echo(incremental.last.text(), err=True)
    click.echo(json.dumps(report.to_dict(), indent=1) if fmt == "json" else report.text())
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("build"), show_default=True, help="Folder to write into.")
@click.option("--inferred", is_flag=True, help="Include the OWL RL closure.")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@friendly
def build(out_dir, inferred, paths) -> None:
    """Validate and write the merged graph as OUT_DIR/kzgraph.ttl (deterministic Turtle,
    written to a temporary file and renamed)."""
    from .export import to_turtle, write_atomic

    from . import incremental

    kg = _load(paths, reasoning=inferred)
    target = write_atomic(out_dir / "kzgraph.ttl", to_turtle(kg.graph))
    reused = (f"; {incremental.last.text()}" if incremental.last is not None
              else "; reused: the cached build")
    click.echo(f"wrote {target} ({len(kg)} triples, validated{reused})")


@main.command("export")
@click.option("-f", "--format", "fmt", type=click.Choice(["ttl", "nt", "nq", "trig", "jsonld", "xml"]),
              default="ttl", show_default=True,
              help="RDF format; nq, trig and jsonld put each source section in a named graph.")
@click.option("--inferred", is_flag=True, help="Add the OWL RL closure (own named graph).")
@click.option("--metadata", is_flag=True,
              help="Write the VoID + DCAT description of the dataset instead of the graph.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (atomically); standard output when left out.")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@friendly
def export_command(fmt, inferred, metadata, output, paths) -> None:
    """Write the validated graph (plus PATHS) in FORMAT: the same bytes on every run."""
    from .export import export, serialize, write_atomic

    kg = _load(paths)
    if metadata:
        from .metadata import describe

        data = serialize(describe(kg), fmt)
    else:
        data = export(kg, fmt, inferred=inferred)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = write_atomic(output, data)
    click.echo(f"wrote {target} ({len(data)} bytes)", err=True)


@main.command()
@click.argument("what", type=click.Choice(["ownership", "timeline"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Image file: .svg/.png/.pdf (ownership), .png/.svg/.pdf (timeline).")
@friendly
def draw(what, output) -> None:
    """Draw the ownership network (Graphviz) or the timeline of shutdowns, blocking, laws and
    launches (matplotlib)."""
    from . import draw as drawing

    target = drawing.draw(_load(()), what, output)
    click.echo(f"wrote {target}", err=True)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@friendly
def stats(fmt, paths) -> None:
    """Triples, entities per class and facts per source section."""
    from .namespaces import shorten

    s = _load(paths).stats()
    if fmt == "json":
        click.echo(json.dumps(s.to_dict(), indent=1))
        return
    click.echo(f"triples:  {s.triples}\nentities: {s.entities}\n\nentities per class:")
    for cls, n in s.per_class:
        click.echo(f"  {n:5d}  {shorten(cls)}")
    click.echo("\nnodes citing each source section:")
    for _, title, n in s.per_section:
        click.echo(f"  {n:5d}  {title}")


@main.command("coverage")
@click.option("--table", "table", type=click.Path(dir_okay=False, path_type=Path),
              help="The coverage table to read (default docs/coverage.tsv).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              help="table: counts and problems; json: counts; markdown: the README block.")
@click.option("--no-check", is_flag=True, help="Only count; do not check the table against the graph.")
@friendly
def coverage_command(table, fmt, no_check) -> None:
    """How much of the two articles the graph carries, from the coverage table.

    Counts the sentences and list items of both articles and the table's rows by status and
    reason, then checks the table (a row per unit, IRIs that exist and cite the row's section,
    reasons, paraphrases, checksums of the articles). Exit code 1 when a check fails.
    """
    from . import coverage

    rows = coverage.read_table(table)
    s = coverage.summary(rows)
    if fmt == "markdown":
        click.echo(coverage.markdown(s))
        return
    if fmt == "json":
        click.echo(json.dumps(s.to_dict(), indent=1))
        return
    click.echo(f"units (sentences and list items): {s.units}\nrows: {s.rows}")
    for status in coverage.STATUSES:
        click.echo(f"  {s.count(status):5d}  {status}")
    if s.reasons:
        click.echo("\nnot fully modelled, by reason:")
        for (status, reason), n in sorted(s.reasons.items()):
            click.echo(f"  {n:5d}  {status}: {reason}")
    if no_check:
        return
    problems = coverage.check(_load(()), rows)
    if problems:
        click.echo(f"\n{len(problems)} problem(s):", err=True)
        for problem in problems:
            click.echo("  " + problem.text(str(table or "docs/coverage.tsv")), err=True)
        sys.exit(1)
    click.echo("\nthe table checks out: every unit has a row, every IRI exists and cites its section")


@main.command("queries")
@click.option("--checks", is_flag=True, help="List the quality checks instead.")
@click.option("--markdown", is_flag=True, help="Print the catalog as a Markdown table.")
@friendly
def list_queries(checks, markdown) -> None:
    """List the stored queries (name and title)."""
    from . import catalog

    stored = catalog.checks() if checks else catalog.load()
    if markdown:
        click.echo(catalog.markdown_table(stored.values()))
        return
    width = max((len(n) for n in stored), default=0)
    for name, q in stored.items():
        click.echo(f"{name.ljust(width)}  {q.title}")


def _params(values) -> dict:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="-p")
        out[name.strip()] = value
    return out


@main.command()
@click.argument("name", required=False)
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A query parameter (repeatable).")
@click.option("--file", "query_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Run the SPARQL in this file.")
@click.option("--sparql", "sparql_text", help="Run this SPARQL text.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True, help="Output format.")
@click.option("-g", "--graph", "graphs", multiple=True, metavar="GRAPH",
              help="Run on this named graph only (repeatable; see 'kzgraph graphs'): the "
                   "full IRI, graph:LOCAL, LOCAL (src-internet-shutdowns) or the section "
                   "(kz:src-internet-shutdowns). Replaces the query's FROM / FROM NAMED.")
@friendly
def query(name, params, query_file, sparql_text, fmt, graphs) -> None:
    """Run the stored query NAME (see 'kzgraph queries'), or --file / --sparql."""
    from .entry import answer

    out = answer(lambda: _load(()), name, _params(params), query_file, sparql_text, fmt,
                 graphs=list(graphs))
    # SPARQL results formats are written exactly as they are (the bytes of pyoxigraph's
    # writer); a last newline is added only where the format has none, for the terminal
    click.echo(out, nl=not out.endswith("\n"))


@main.command()
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json"]),
              default="table", show_default=True, help="Output format.")
@friendly
def graphs(fmt) -> None:
    """List the named graphs (one per source section, the ontology, the inferred graph with
    reasoning) with their triples, subjects and section: what --graph, FROM, FROM NAMED and
    default-graph-uri / named-graph-uri may name (stored query 'graphs')."""
    from .entry import answer

    out = answer(lambda: _load(()), "graphs", fmt=fmt)
    click.echo(out, nl=not out.endswith("\n"))


# -- the analyst's API on the command line: thin layers over KZGraph methods -----------------

_FORMAT = click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "csv"]),
                       default="table", show_default=True, help="Output format.")


@main.command()
@click.argument("entity")
@_FORMAT
@friendly
def show(entity, fmt) -> None:
    """Show ENTITY (a name, alternative name, kz:name or IRI): labels, types, sources and
    every statement about it, with source and time."""
    from . import render
    from .namespaces import shorten

    found = _load(()).entity(entity)
    facts, sources = found.facts(), found.sources()
    if fmt == "json":
        click.echo(render.to_json({"entity": found.to_dict(), "sources": sources.to_dicts(),
                                   "facts": facts.to_dicts()}))
        return
    if fmt == "csv":
        click.echo(render.render(facts, render.FACTS, "csv"))
        return
    click.echo(f"{found.label or found.curie}  ({found.curie})")
    if found.alt_labels:
        click.echo(f"  also called: {'; '.join(found.alt_labels)}")
    click.echo(f"  types:       {', '.join(shorten(t) for t in found.types)}")
    for source in sources:
        click.echo(f"  source:      {source.label}")
    click.echo("")
    click.echo(render.render(facts, render.FACTS, "table"))


@main.command()
@click.argument("entity")
@click.option("--as-of", "as_of", metavar="DATE",
              help="Only stakes holding then (YYYY, YYYY-MM or YYYY-MM-DD); undated stakes "
                   "are kept with an empty 'holds'.")
@_FORMAT
@friendly
def owners(entity, as_of, fmt) -> None:
    """Who owns ENTITY: every stake with share (or bounds), kind, time and source."""
    from . import render

    click.echo(render.render(_load(()).owners(entity, as_of=as_of), render.OWNERS, fmt))


@main.command()
@click.argument("entity")
@click.option("--as-of", "as_of", metavar="DATE", help="Only stakes holding then.")
@_FORMAT
@friendly
def holdings(entity, as_of, fmt) -> None:
    """What ENTITY owns: every stake it holds, with share, kind, time and source."""
    from . import render

    click.echo(render.render(_load(()).holdings(entity, as_of=as_of), render.HOLDINGS, fmt))


@main.command()
@click.option("--kind", help="Only this kind: shutdown, blocking, restoration, law, milestone "
                             "... or a class label or kzo: class.")
@click.option("--from", "start", metavar="DATE", help="Window start (YYYY[-MM[-DD]]).")
@click.option("--to", "end", metavar="DATE", help="Window end (YYYY[-MM[-DD]]).")
@_FORMAT
@friendly
def timeline(kind, start, end, fmt) -> None:
    """Everything dated (events, laws, policies, facts) in date order."""
    from . import render

    entries = _load(()).timeline(kind=kind, start=start, end=end)
    click.echo(render.render(entries, render.TIMELINE, fmt))


@main.command()
@click.argument("start")
@click.argument("end")
@click.option("--max-hops", type=click.IntRange(0, 12), default=4, show_default=True)
@_FORMAT
@friendly
def path(start, end, max_hops, fmt) -> None:
    """The shortest connection from START to END and the statements on the way. Exit 1 when
    there is none within --max-hops."""
    from . import render

    kg = _load(())
    found = kg.path(start, end, max_hops=max_hops)
    if found is None:
        a, b = kg.entity(start), kg.entity(end)
        click.echo(f"kzgraph: no connection between {a.label} and {b.label} within "
                   f"{max_hops} hops", err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(render.to_json(found))
        return
    click.echo(render.render(render.path_rows(found), render.PATH, fmt))


@main.command()
@click.argument("entity")
@click.option("--direction", type=click.Choice(["out", "in", "both"]), default="both",
              show_default=True, help="Links from ENTITY (out), to it (in) or both.")
@click.option("--predicate", metavar="IRI", help="Only links with this predicate (kzo:owner).")
@_FORMAT
@friendly
def neighbors(entity, direction, predicate, fmt) -> None:
    """The nodes linked to ENTITY, with the link and its direction."""
    from . import render

    view = render.View([("dir", lambda n: n.direction),
                        ("link", lambda n: n.predicate_label or n.predicate),
                        ("node", lambda n: n.label or n.iri), ("iri", lambda n: n.iri)])
    found = _load(()).neighbors(entity, predicate=predicate, direction=direction)
    click.echo(render.render(found, view, fmt))


@main.command()
@click.argument("measure")
@_FORMAT
@friendly
def series(measure, fmt) -> None:
    """The observations of MEASURE (a measure's name or IRI) by period, each with its source;
    figures that disagree are all shown and marked as conflicting."""
    from . import render

    click.echo(render.render(_load(()).series(measure), render.SERIES, fmt))


@main.command()
@click.option("--endpoint", required=True, metavar="URL",
              help="The server's SPARQL 1.1 Graph Store Protocol URL (Oxigraph: "
                   "http://HOST:PORT/store).")
@click.option("--graph", "graph_iri", metavar="IRI",
              help="Named graph to replace; the default graph when left out.")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@friendly
def publish(endpoint, graph_iri, paths) -> None:
    """Upload the validated graph (plus PATHS) to a SPARQL server with the Graph Store HTTP
    Protocol: all triples to the default graph (or --graph), then each named graph (one per
    source section, see 'kzgraph graphs') to its own IRI. PUT replaces each target graph,
    so a rerun leaves no duplicates."""
    from .engine import publish as upload

    kg = _load(paths)
    named = kg.named_graphs()
    sent = upload(kg.graph, endpoint, graph_iri, named=named)
    click.echo(f"published {len(kg)} triples ({sent} bytes) to {endpoint} "
               f"({'graph <' + graph_iri + '>' if graph_iri else 'default graph'}) and "
               f"{len(named)} named graphs", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 exposes the server to the network).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True,
              help="Seconds a query may run before it is stopped (503).")
@click.option("--max-rows", type=click.IntRange(1), default=10_000, show_default=True,
              help="Largest result (rows or triples); bigger ones are refused (413).")
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Query worker processes: queries evaluated at the same time.")
@click.option("--queue", type=click.IntRange(0, 10_000), default=32, show_default=True,
              help="Requests that may wait for a busy worker; more get 503 at once.")
@click.option("--answer-cache", "answer_cache", type=click.IntRange(0, 1_000_000), default=64,
              show_default=True, metavar="MB",
              help="Megabytes of complete query answers kept for repeated queries (0: none).")
@click.option("--short-lane", "short_lane", type=click.IntRange(0, 63), default=1,
              show_default=True, metavar="N",
              help="Workers kept for queries not known to be long (0: one lane).")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@friendly
def serve(host, port, timeout, max_rows, workers, queue, answer_cache, short_lane,
          paths) -> None:
    """Serve the validated graph (plus PATHS) over HTTP: a read-only SPARQL endpoint at
    /sparql, stored queries at /queries, a page for every kz: IRI at /id/..., downloads and a
    query page at /."""
    from .errors import InputError
    from .server import serve as run_server

    if _engine().startswith(("http://", "https://")):
        raise InputError("serve publishes a local graph (--engine memory or oxigraph); the "
                         f"SPARQL server at {_engine()} already serves its own")
    kg = _load(paths)
    click.echo(f"kzgraph: serving {len(kg)} triples on http://{host}:{port}/ "
               f"(SPARQL at /sparql; Ctrl-C stops)", err=True)
    run_server(kg, host=host, port=port, timeout=timeout, max_rows=max_rows, workers=workers,
               queue=queue, answer_cache=answer_cache * 2**20, short_lane=short_lane)


if __name__ == "__main__":  # pragma: no cover
    from .entry import main as entry

    entry()  # the console script: `kzgraph query NAME` without click, the rest by click
