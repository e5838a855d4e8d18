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

FORMATS = ["table", "csv", "tsv", "json", "xml", "ttl", "nt", "jsonld"]


def _fail(message: str, code: int) -> None:
    click.echo(f"kzgraph: {message}", err=True)
    sys.exit(code)


def friendly(func):
    """Turn kzgraph errors into a message and an exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KzGraphError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except BrokenPipeError:
            sys.exit(0)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="kzgraph")
def main() -> None:
    """kzgraph: the knowledge graph of telecommunications and the internet in Kazakhstan."""


def _load(paths, reasoning=False):
    from . import load

    return load(list(paths), reasoning=reasoning)


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

    report = run_validation(input_files(list(paths)), checks=not no_checks,
                            consistency=not no_reasoning)
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

    kg = _load(paths, reasoning=inferred)
    target = write_atomic(out_dir / "kzgraph.ttl", to_turtle(kg.graph))
    click.echo(f"wrote {target} ({len(kg)} triples, validated)")


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
@friendly
def query(name, params, query_file, sparql_text, fmt) -> None:
    """Run the stored query NAME (see 'kzgraph queries'), or --file / --sparql."""
    from .errors import InputError
    from .formats import render

    given = [x for x in (name, query_file, sparql_text) if x]
    if len(given) != 1:
        raise InputError("give exactly one of NAME, --file FILE or --sparql TEXT")
    if query_file:
        try:
            text = query_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{query_file}: cannot read: {exc}") from None
    else:
        text = sparql_text or name
    kg = _load(())
    result = kg.execute(text, _params(params), stored=bool(name))
    click.echo(render(result, fmt))


if __name__ == "__main__":  # pragma: no cover
    main()
