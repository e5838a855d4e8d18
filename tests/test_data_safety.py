"""Data safety: ``kzgraph build`` / ``export`` killed at any step of writing leave the previous
output intact, and concurrent runs to the same output never interleave (the file is always one
complete output). The real commands run under a harness that kills them at a named step or
holds them half-way through writing, so each case happens for certain, not by timing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import rdflib

from .conftest import ROOT

PREVIOUS = b"# the previous build\n<http://x/a> <http://x/b> <http://x/c> .\n"

#: Runs the CLI (arguments after the script) with every write to the output file, or to a
#: temporary file named after it, watched. Environment:
#:   WATCH     the output's file name;
#:   KILL_AT   SIGKILL the process when the output's temporary is "created", "half" written
#:             (and flushed to disk), "synced", or just after it "replaced" the output;
#:   BARRIER   "FOLDER N": half-way through writing, wait until N processes are half-way
#:             (forced overlap; a writer that is not atomic would mix their bytes).
#: It wraps `open` as well as `os.fdopen`, so a plain non-atomic write is watched too.
HARNESS = """
import builtins, os, signal, sys, time
import kzgraph.export as export
name, point = os.environ["WATCH"], os.environ.get("KILL_AT")
barrier = os.environ.get("BARRIER")
real_open, real_fdopen, real_fsync = builtins.open, os.fdopen, os.fsync
real_mkstemp, real_replace = export.tempfile.mkstemp, os.replace
ours = set()
def kill(at):
    if point == at:
        os.kill(os.getpid(), signal.SIGKILL)
def watched(path):
    base = os.path.basename(str(path))
    return base == name or base.startswith("." + name + ".")
def wait():
    folder, n = barrier.split()
    real_open(os.path.join(folder, str(os.getpid())), "w").close()
    deadline = time.monotonic() + 120
    while len(os.listdir(folder)) < int(n) and time.monotonic() < deadline:
        time.sleep(0.01)
class Watched:
    def __init__(self, handle): self.handle = handle
    def __enter__(self): return self
    def __exit__(self, *exc): return self.handle.__exit__(*exc)
    def write(self, data):
        half = len(data) // 2
        self.handle.write(data[:half]); self.handle.flush(); real_fsync(self.handle.fileno())
        kill("half")
        if barrier:
            wait()
        return self.handle.write(data[half:]) + half
    def __getattr__(self, attr): return getattr(self.handle, attr)
def mkstemp(*a, **k):
    fd, path = real_mkstemp(*a, **k)
    if watched(path):
        ours.add(fd)
        kill("created")
    return fd, path
def fdopen(fd, *a, **k):
    handle = real_fdopen(fd, *a, **k)
    return Watched(handle) if fd in ours else handle
def fsync(fd):
    real_fsync(fd)
    if fd in ours:
        kill("synced")
def replace(src, dst, *a, **k):
    real_replace(src, dst, *a, **k)
    if watched(src):
        kill("replaced")
def open_(file, mode="r", *a, **k):
    handle = real_open(file, mode, *a, **k)
    return Watched(handle) if "w" in mode and watched(file) else handle
export.tempfile.mkstemp = mkstemp
os.fdopen, os.fsync, os.replace, builtins.open = fdopen, fsync, replace, open_
from kzgraph.cli import main
sys.argv = ["kzgraph", *sys.argv[1:]]
main()
"""


def _watched(*args, watch: str = "kzgraph.ttl", **env) -> subprocess.Popen:
    """The CLI under `HARNESS` (``env``: KILL_AT, BARRIER)."""
    return subprocess.Popen([sys.executable, "-c", HARNESS, *args], cwd=ROOT,
                            env={**os.environ, "WATCH": watch, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One normal build and one N-Triples export (also warms the build cache)."""
    out = tmp_path_factory.mktemp("reference")
    subprocess.run([sys.executable, "-m", "kzgraph.cli", "build", "-o", str(out)], cwd=ROOT,
                   check=True, capture_output=True, timeout=600)
    subprocess.run([sys.executable, "-m", "kzgraph.cli", "export", "-f", "nt", "-o",
                    str(out / "kzgraph.nt")], cwd=ROOT, check=True, capture_output=True,
                   timeout=600)
    return {"ttl": (out / "kzgraph.ttl").read_bytes(), "nt": (out / "kzgraph.nt").read_bytes()}


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


COMMANDS = {"build": (["build", "-o", "{dir}"], "ttl"),
            "export": (["export", "-f", "nt", "-o", "{dir}/kzgraph.ttl"], "nt")}


@pytest.mark.parametrize("point", ["created", "half", "synced", "replaced"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_killed_at_every_step_of_writing(tmp_path, reference, command, point):
    """A real build (export) SIGKILLed at each step of writing its output: until the rename
    the output is the previous one and the partial temporary a hidden sibling; after it, the
    complete new output and nothing left over."""
    target = tmp_path / "kzgraph.ttl"
    target.write_bytes(PREVIOUS)
    args, fmt = COMMANDS[command]
    proc = _watched(*[a.format(dir=tmp_path) for a in args], KILL_AT=point)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    leftovers = _leftovers(tmp_path)
    if point == "replaced":
        assert target.read_bytes() == reference[fmt]
        assert leftovers == []
        return
    assert target.read_bytes() == PREVIOUS
    assert len(leftovers) == 1 and leftovers[0].startswith(".kzgraph.ttl.")
    size = (tmp_path / leftovers[0]).stat().st_size
    assert size == {"created": 0, "half": len(reference[fmt]) // 2,
                    "synced": len(reference[fmt])}[point]


def test_concurrent_builds_do_not_interleave(tmp_path, reference):
    """Three builds to one folder, one of them with the OWL RL closure (different bytes), each
    held half-way through writing until all three are there: the output is one complete
    build."""
    inferred = tmp_path / "inferred"
    subprocess.run([sys.executable, "-m", "kzgraph.cli", "build", "--inferred", "-o",
                    str(inferred)], cwd=ROOT, check=True, capture_output=True, timeout=600)
    complete = (reference["ttl"], (inferred / "kzgraph.ttl").read_bytes())
    assert complete[0] != complete[1]
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    out = tmp_path / "out"
    procs = [_watched("build", *extra, "-o", str(out), BARRIER=f"{barrier} 3")
             for extra in ([], ["--inferred"], [])]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-2000:]
    assert len(list(barrier.iterdir())) == 3  # all three did meet half-way
    data = (out / "kzgraph.ttl").read_bytes()
    assert data in complete
    rdflib.Graph().parse(data=data, format="turtle")
    assert _leftovers(out) == []


def test_concurrent_exports_of_different_formats(tmp_path, reference):
    """Turtle and N-Triples written to the same file at once, each held half-way through
    writing until all four are there: the file is exactly one of the two complete outputs."""
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    target = tmp_path / "out.rdf"
    procs = [_watched("export", "-f", fmt, "-o", str(target), watch="out.rdf",
                      BARRIER=f"{barrier} 4") for fmt in ("ttl", "nt", "ttl", "nt")]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-2000:]
    assert len(list(barrier.iterdir())) == 4
    assert target.read_bytes() in (reference["ttl"], reference["nt"])
    assert _leftovers(tmp_path) == []
