"""Data safety: ``kzgraph build`` / ``export`` killed part-way leave the previous output
intact, and concurrent runs to the same output never interleave (the file is always one
complete output). tests/test_export.py covers `write_atomic` killed at its fsync; these tests
kill the real commands."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import rdflib

from .conftest import ROOT

PREVIOUS = b"# the previous build\n<http://x/a> <http://x/b> <http://x/c> .\n"

#: Runs the CLI with the file write replaced by one that writes half the bytes, flushes them
#: to disk and then SIGKILLs its own process: a crash in the middle of writing the output.
HALF_WRITE = """
import os, signal, sys
import kzgraph.export as export
real_fdopen = os.fdopen
class Half:
    def __init__(self, handle): self.handle = handle
    def __enter__(self): return self
    def __exit__(self, *exc): return False
    def write(self, data):
        self.handle.write(data[: len(data) // 2]); self.handle.flush()
        os.fsync(self.handle.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    def __getattr__(self, name): return getattr(self.handle, name)
real_mkstemp = export.tempfile.mkstemp
ours = set()
def mkstemp(*a, **k):
    fd, name = real_mkstemp(*a, **k)
    if os.path.basename(name).startswith(".kzgraph.ttl."):  # the output, not the cache
        ours.add(fd)
    return fd, name
def fdopen(fd, *a, **k):
    handle = real_fdopen(fd, *a, **k)
    return Half(handle) if fd in ours else handle
export.tempfile.mkstemp = mkstemp
export.os.fdopen = fdopen
from kzgraph.cli import main
sys.argv = ["kzgraph", *sys.argv[1:]]
main()
"""


def _cli(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "kzgraph.cli", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)


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


@pytest.mark.parametrize("command", [["build", "-o", "{dir}"],
                                     ["export", "-f", "nt", "-o", "{dir}/kzgraph.ttl"]])
def test_killed_in_the_middle_of_writing(tmp_path, command):
    target = tmp_path / "kzgraph.ttl"
    target.write_bytes(PREVIOUS)
    args = [a.format(dir=tmp_path) for a in command]
    done = subprocess.run([sys.executable, "-c", HALF_WRITE, *args], cwd=ROOT,
                          capture_output=True, timeout=600)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert target.read_bytes() == PREVIOUS
    # the half-written temporary is a hidden sibling, never the output itself
    partial = _leftovers(tmp_path)
    assert len(partial) == 1 and partial[0].startswith(".kzgraph.ttl.")
    assert 0 < (tmp_path / partial[0]).stat().st_size


@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9, 1.2])
@pytest.mark.parametrize("command", ["build", "export"])
def test_killed_at_any_moment(tmp_path, reference, delay, command):
    """A real build (export) SIGKILLed after ``delay`` seconds: the output is the previous one
    or the complete new one, never anything in between."""
    target = tmp_path / "kzgraph.ttl"
    target.write_bytes(PREVIOUS)
    proc = _cli("build", "-o", str(tmp_path)) if command == "build" else _cli(
        "export", "-f", "ttl", "-o", str(target))
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    assert target.read_bytes() in (PREVIOUS, reference["ttl"])


def test_concurrent_builds_do_not_interleave(tmp_path, reference):
    procs = [_cli("build", "-o", str(tmp_path)) for _ in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-2000:]
    data = (tmp_path / "kzgraph.ttl").read_bytes()
    assert data == reference["ttl"]
    rdflib.Graph().parse(data=data, format="turtle")
    assert _leftovers(tmp_path) == []


def test_concurrent_exports_of_different_formats(tmp_path, reference):
    """Turtle and N-Triples written to the same file at the same time: the file ends up as
    exactly one of the two complete outputs."""
    target = tmp_path / "out.rdf"
    procs = [_cli("export", "-f", fmt, "-o", str(target)) for fmt in ("ttl", "nt", "ttl", "nt")]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-2000:]
    data = target.read_bytes()
    assert data in (reference["ttl"], reference["nt"])
    assert _leftovers(tmp_path) == []
