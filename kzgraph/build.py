"""The pipeline: input files → merged graph → validation → (closure) → cached build."""
from __future__ import annotations

from pathlib import Path

from . import __version__, paths
from .errors import InputError, ValidationError


def input_files(extra: list | None = None, *, packaged: bool = True) -> list[Path]:
    """The ontology and graph files (when ``packaged``) followed by the user's ``extra`` files."""
    files = [paths.ontology_file(), *paths.graph_files()] if packaged else []
    for item in extra or []:
        path = Path(item)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        files.append(path)
    return files


def validation_inputs() -> list[Path]:
    """Files whose change must invalidate a cached build: shapes and checks."""
    return [paths.shapes_file(), *sorted(paths.checks_dir().glob("*.rq"))]


def read(files: list[Path]):
    """Parse and merge ``files``; returns (graph, origin) where origin maps subject → file."""
    from .loader import load_files

    return load_files(files)


def validate(files: list[Path], *, checks: bool = True, consistency: bool = True,
             use_cache: bool = True):
    """Parse ``files`` and return the validation `Report` (never raises on non-conformance).
    Incremental (`kzgraph.incremental`): unchanged files come from the parse cache and only
    the focus nodes an edit can reach are validated again; ``kzgraph.incremental.last`` says
    what was reused."""
    from .incremental import validate_files

    return validate_files(files, checks=checks, consistency=consistency,
                          use_cache=use_cache).report


def load_graph(files: list[Path], *, reasoning: bool = False, validate: bool = True,
               use_cache: bool = True):
    """The merged graph of ``files`` as an rdflib Graph, validated (raises ValidationError)
    and with the OWL RL closure added when ``reasoning``. Served from the cache when the
    same inputs were built before."""
    from . import cache

    digest = _digest(files, reasoning, validate)
    if use_cache and (hit := cache.lookup(digest)) is not None:
        return hit
    if validate:
        from .incremental import validate_files

        # incremental: parse cache per file, SHACL again only where an edit reaches (bars
        # for big graphs on a terminal)
        outcome = validate_files(files, use_cache=use_cache)
        graph, report = outcome.graph, outcome.report
        if not report.conforms:
            raise ValidationError(report)
    else:
        graph, origin = read(files)
    if reasoning:
        from .reason import closure

        inferred, _ = closure(graph)
        graph += inferred
    if use_cache:
        cache.store(digest, graph)
    return graph


def named_parts(graph, files: list[Path], *, reasoning: bool = False, validate: bool = True,
                use_cache: bool = True) -> dict:
    """The named graphs of the build ``graph`` of ``files`` (`kzgraph.dataset.split`): with
    reasoning, the build without the closure tells which triples go to the inferred graph."""
    from .dataset import split

    if not reasoning:
        return split(graph)
    base = load_graph(files, reasoning=False, validate=validate, use_cache=use_cache)
    return split(graph, base)


def load_nquads(files: list[Path], *, reasoning: bool = False, validate: bool = True,
                use_cache: bool = True) -> bytes:
    """The build of `load_graph` as sorted N-Quads (`kzgraph.dataset.quads`: every triple in
    the default graph, the named graphs as quads), what the Oxigraph engine loads. Cached
    beside the pickled graph, so a cold Oxigraph start neither parses Turtle nor unpickles
    or serialises an rdflib graph (0.6 → 0.35 s for `kzgraph --engine oxigraph query`)."""
    from . import cache
    from .dataset import quads

    digest = _digest(files, reasoning, validate)
    if use_cache and (hit := cache.lookup_nquads(digest)) is not None:
        return hit
    options = {"validate": validate, "use_cache": use_cache}
    graph = load_graph(files, reasoning=reasoning, **options)
    base = load_graph(files, reasoning=False, **options) if reasoning else None
    data = quads(graph, base)
    if use_cache:
        cache.store_nquads(digest, data)
    return data


def load_store(files: list[Path], *, reasoning: bool = False, validate: bool = True,
               use_cache: bool = True):
    """The build of `load_graph` as a pyoxigraph Store, with its name index
    (`kzgraph.names.NameIndex`, a function that opens it, or None when it is to be built
    on first use).

    From the cache: the persisted store, opened read-only (no parsing, no bulk load: a cold
    `kzgraph query` costs the same at any size) and the index beside it. On a miss the
    store is made from the checksummed N-Quads entry (`load_nquads`), the index from the
    store, and the vetting verdicts of the packaged queries are kept
    (`kzgraph.sparql.store_verdicts`), all written atomically. Without the cache, or when
    its folder is not writable, the store lives in memory."""
    from . import cache
    from .names import NameIndex

    digest = _digest(files, reasoning, validate)
    if use_cache and (store := cache.open_store(digest)) is not None:
        _keep_verdicts()

        def names():  # opened on the first lookup only (a query needs no names)
            return (NameIndex.open(cache.entry_path(digest, ".names.sqlite"))
                    or _index(store, digest))

        return store, names
    data = load_nquads(files, reasoning=reasoning, validate=validate, use_cache=use_cache)
    store = cache.store_store(digest, data) if use_cache else None
    if store is None:
        import pyoxigraph

        store = pyoxigraph.Store()
        store.bulk_load(data, format=pyoxigraph.RdfFormat.N_QUADS)
        return store, None
    names = _index(store, digest)
    _keep_verdicts()
    return store, names


def _index(store, digest: str):
    """Build and keep the name index of ``store`` (None when the cache is not writable)."""
    from . import cache
    from .engine import OxigraphEngine
    from .graph import KZGraph
    from .names import NameIndex

    try:
        return NameIndex.build(KZGraph(OxigraphEngine(store)),
                               cache.entry_path(digest, ".names.sqlite"))
    except OSError:
        return None


def _keep_verdicts() -> None:
    """Vet every packaged query once and keep the verdicts (when not kept already)."""
    from . import paths, sparql

    if sparql.known_verdict(_PROBE) is not None:
        return
    folder = paths.queries_dir()
    texts = [p.read_text(encoding="utf-8")
             for p in sorted([*folder.glob("*.rq"), *folder.glob("*/*.rq")])]
    sparql.store_verdicts([_PROBE, *texts])


#: A query whose verdict is always kept: its presence says the verdicts are there.
_PROBE = "ASK {}"


#: the layout of the cached entries; bumped when it changes, so old caches are rebuilt
#: (2: the store and the N-Quads entry hold the named graphs of `kzgraph.dataset`)
LAYOUT = "2"


def _digest(files: list[Path], reasoning: bool, validate: bool) -> str:
    """Cache key of a build: inputs, shapes and checks, kzgraph version, layout, options."""
    from . import cache

    return cache.key([*files, *validation_inputs()], __version__, f"layout={LAYOUT}",
                     f"reasoning={reasoning}", f"validate={validate}")
