"""The second, independent SHACL engine of the tests: Apache Jena (Debian's libapache-jena-java,
installed by .ci/run; java 17). Also Jena's RDF parser (`riot`) for the stock-tools test.

`available()` says whether Jena can run here; `validate(data, shapes)` returns (conforms, {(focus,
path, component)}) with terms written as kzgraph's `Violation` writes them (kz:..., kzo:...,
"[blank node]" for blank nodes and complex paths, sh:...ConstraintComponent); `validate_many`
does the same for many data files in one Java process (a JVM start costs about a second);
`riot_count(path)` is the number of triples (or quads) Jena reads from a file.

Debian's jena-core 4.5.0 relocates Xerces' classes to ``xerces.*`` but leaves the regex message
bundle under ``org/apache/jena/ext/xerces``: without it every XSD datatype fails to initialise
("internal error" in XSSimpleTypeDecl). `_resources` copies the bundle to the path the classes
look for, in a folder added to the class path. Debian also ships no Jakarta JSON provider, which
Jena's JSON-LD 1.1 reader (titanium) needs: JSON-LD is read with Jena's JSON-LD 1.0 reader
(jsonld-java, syntax "jsonld10"); kzgraph's export uses no 1.1 feature and an inline context.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

JARS = Path(os.environ.get("KZGRAPH_JENA_JARS", "/usr/share/java"))
HERE = Path(__file__).resolve().parent
RUNNER = HERE / "JenaShacl.java"
# jena-*.jar and the libraries libapache-jena-java depends on (one slf4j binding: simple, so
# riot's warnings reach standard error)
LIBS = ("commons-cli commons-codec commons-compress commons-csv commons-io commons-lang3 "
        "commons-logging dexx.collection gson guava httpclient httpclient-cache httpcore "
        "jackson-annotations jackson-core jackson-databind jakarta.json-api jsonld-java protobuf "
        "slf4j-api slf4j-simple thrift titanium-json-ld").split()
REQUIRED = bool(os.environ.get("KZGRAPH_REQUIRE_JENA"))


def available() -> bool:
    """A JDK (the source launcher compiles tests/JenaShacl.java) and Jena's SHACL jar."""
    return (shutil.which("java") is not None and shutil.which("javac") is not None
            and (JARS / "jena-shacl.jar").is_file())


@lru_cache(maxsize=None)
def _resources() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="kzgraph-jena-"))
    with zipfile.ZipFile(JARS / "jena-core.jar") as jar:
        for name in jar.namelist():
            if name.startswith("org/apache/jena/ext/xerces/") and name.endswith(".properties"):
                target = folder / name.removeprefix("org/apache/jena/ext/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(jar.read(name))
    return folder


@lru_cache(maxsize=None)
def classpath() -> str:
    jars = sorted(str(p) for p in JARS.glob("jena-*.jar") if not re.search(r"-\d[\d.]*\.jar$", p.name))
    jars += [str(JARS / f"{name}.jar") for name in LIBS if (JARS / f"{name}.jar").is_file()]
    return os.pathsep.join([str(_resources()), *jars])


def _java(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["java", "-Xss8m", "-cp", classpath(), *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def short(text: str) -> str:
    """A Jena N-Triples term or path as kzgraph's Violation writes it."""
    from kzgraph.namespaces import shorten

    if not text:
        return ""
    match = re.fullmatch(r"<([^<>]*)>", text)
    if match:
        return shorten(match.group(1))
    return "[blank node]"  # blank nodes, and complex paths (pySHACL reports their blank node)


def validate_many(data_paths, shapes_path) -> dict[str, tuple[bool, set]]:
    """{data path: (conforms, {(focus, path, component)})} from one Jena run."""
    data_paths = [str(p) for p in data_paths]
    done = _java(str(RUNNER), str(shapes_path), *data_paths)
    if done.returncode != 0:
        raise RuntimeError(f"Jena SHACL failed ({done.returncode}): {done.stderr[-2000:]}")
    out: dict[str, tuple[bool, set]] = {}
    current = None
    for line in done.stdout.splitlines():
        parts = line.split("\t")
        if parts[0] == "@@":
            current = parts[1]
            out[current] = (parts[2] == "true", set())
        elif current is not None and len(parts) == 3:
            out[current][1].add((short(parts[0]), short(parts[1]), short(parts[2])))
    missing = set(data_paths) - set(out)
    if missing:
        raise RuntimeError(f"Jena SHACL gave no report for {sorted(missing)}: {done.stderr[-2000:]}")
    return out


def validate(data_path, shapes_path) -> tuple[bool, set]:
    """(conforms, {(focus, path, component)}) for one data file."""
    return validate_many([data_path], shapes_path)[str(data_path)]


def riot_count(path, *, syntax: str | None = None) -> int:
    """Triples (quads for N-Quads, TriG, JSON-LD with named graphs) Jena reads from ``path``,
    after ``riot --validate`` accepted the file (a syntax error raises)."""
    lang = [f"--syntax={syntax}"] if syntax else []
    checked = _java("riotcmd.riot", "--validate", *lang, str(path))
    if checked.returncode != 0 or "ERROR" in checked.stderr or "WARN" in checked.stderr:
        raise RuntimeError(f"riot --validate rejects {path}: {checked.stderr[-2000:]}")
    counted = _java("riotcmd.riot", "--count", *lang, str(path))
    match = re.search(r"(Triples|Quads) = ([\d,]+)", counted.stdout + counted.stderr)
    if counted.returncode != 0 or match is None:
        raise RuntimeError(f"riot --count failed on {path}: {counted.stderr[-2000:]}")
    return int(match.group(2).replace(",", ""))
