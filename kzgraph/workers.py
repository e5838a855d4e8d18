"""Query worker processes for ``kzgraph serve``: a query that runs past its deadline is
killed with its process, never left running in a thread.

One *zygote* process loads the served dataset (N-Quads: the union default graph and the
named graphs) into an in-memory Oxigraph store once; every
worker is forked from it (copy-on-write: the store is shared, a replacement is a fork of
1-40 ms, not a reload). A worker answers one query at a time over its own socket. The server's
process vets the query first (`kzgraph.sparql.prepare`, the first half of `kzgraph.sparql.run`,
cached there by text); the worker does the second half, ``engine.query``, and writes the
answer itself — SELECT and ASK with Oxigraph's own serialiser (no per-row Python work),
CONSTRUCT/DESCRIBE through rdflib (prefixed, deterministic Turtle as everywhere else) —
stopping at the row cap. `Pool` (in the server's
process) hands each query to an idle worker, at most ``size`` at once, and SIGKILLs and
replaces a worker whose query passes the deadline.

Two lanes, so that short queries are not stuck behind long ones: `Costs` remembers the CPU
time each query *shape* (the text without its constants) took in a worker; a shape that took
more than `SHORT_SECONDS` is long and runs only on the general workers; ``short_lane``
workers (default 1) take only short queries (new shapes count as short until measured). A
short query takes a short-lane worker if one is idle, else any idle one.

Linux only (``fork``, ``PR_SET_PDEATHSIG``): a worker dies with its zygote, and the zygote
ends when the server's end of its control socket closes — also when the server is killed.
"""
from __future__ import annotations

import asyncio
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

from .sparql import QueryResult

_LENGTH = struct.Struct("!Q")
#: CPU seconds above which a query shape is "long" (at 1M triples the benchmark's lookup and
#: join take 0.5 ms, its aggregate 200 ms)
SHORT_SECONDS = 0.025
#: pyoxigraph's result formats by the server's format key
RESULT_FORMATS = ("json", "xml", "csv", "tsv")
#: a byte string that occurs at least once per row (and only in rows, after the head),
#: per result format, and how many times it occurs before the first row
_ROW_MARK = {"json": (b"{", 3), "xml": (b"<result>", 0), "csv": (b"\r\n", 1),
             "tsv": (b"\n", 1)}


class ResultTooLarge(Exception):
    """More rows (or triples) than the server's cap."""


class Rendered(QueryResult):
    """A query answer already written in the requested format."""

    def __init__(self, form: str, body: bytes = b"") -> None:
        super().__init__(form, terms=[])
        self.body = body


# -- the worker side (runs in the forked processes) ---------------------------------------


class _Sink:
    """A file for pyoxigraph's serialiser that keeps the bytes and counts an upper bound of
    the rows written (one C-level ``bytes.count`` per 8 KB chunk), stopping at the cap."""

    def __init__(self, fmt: str, cap: int) -> None:
        self.mark, self.before = _ROW_MARK[fmt]
        self.cap, self.parts, self.count, self.tail = cap, [], 0, b""

    def write(self, chunk) -> int:
        chunk = bytes(chunk)
        # the tail of the previous chunk is too short to hold a whole mark: nothing twice
        self.count += (self.tail + chunk).count(self.mark)
        self.tail = chunk[-(len(self.mark) - 1):] if len(self.mark) > 1 else b""
        self.parts.append(chunk)
        if self.count - self.before > self.cap:
            raise ResultTooLarge()
        return len(chunk)

    def flush(self) -> None:
        pass


def _engine_class():
    from .engine import OxigraphEngine, collect

    class RenderingEngine(OxigraphEngine):
        """Oxigraph answering in ``self.fmt`` with at most ``self.max_rows`` rows: its
        ``query`` returns a `Rendered` result holding the bytes."""

        fmt, max_rows = "json", 10_000

        def query(self, prepared, bindings, dataset=None):
            import pyoxigraph as ox

            result = self.evaluate(prepared, bindings, dataset)
            if prepared.form in ("CONSTRUCT", "DESCRIBE"):
                from .formats import graph_bytes

                def tick(count: int) -> None:
                    if count > self.max_rows:
                        raise ResultTooLarge()

                graph = collect(prepared, result, tick).graph
                return Rendered(prepared.form, body=graph_bytes(graph, self.fmt))
            kind = getattr(ox.QueryResultsFormat, self.fmt.upper())
            if prepared.form == "ASK":
                return Rendered("ASK", body=result.serialize(format=kind))
            sink = _Sink(self.fmt, self.max_rows)
            try:
                result.serialize(sink, format=kind)
            except ResultTooLarge:
                # the count is exact for XML and TSV, an upper bound for JSON and CSV
                # (a "{" or a line break inside a value): count the rows themselves
                if self.fmt in ("xml", "tsv"):
                    raise
                for count, _ in enumerate(self.evaluate(prepared, bindings, dataset), 1):
                    if count > self.max_rows:
                        raise
                return Rendered("SELECT", body=self.evaluate(prepared, bindings, dataset)
                                .serialize(format=kind))
            return Rendered("SELECT", body=b"".join(sink.parts))

    return RenderingEngine


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    parts, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the closed socket still ends the worker
        pass


def _work(sock: socket.socket, engine) -> None:
    """A worker's loop: (prepared query, bindings, format, max_rows, dataset) in, (status,
    bytes, CPU seconds) out.
    The query was vetted in the server's process (`kzgraph.sparql.prepare`, what
    `kzgraph.sparql.run` does first); the worker does the rest of `run`: ``engine.query``."""
    from .protocol import error_status

    while True:
        header = _recv_exactly(sock, _LENGTH.size)
        if header is None:
            return
        prepared, bindings, fmt, max_rows, dataset = pickle.loads(
            _recv_exactly(sock, _LENGTH.unpack(header)[0]))
        engine.fmt, engine.max_rows = fmt, max_rows
        started = time.process_time()
        try:
            status, body = 200, engine.query(prepared, dict(bindings or {}), dataset).body
        except ResultTooLarge:
            status, body = 413, (f"the result has more than {max_rows} rows; add a LIMIT (at "
                                 f"most {max_rows}) or a more selective pattern").encode()
        except Exception as exc:  # an error of this query, answered as the server would
            status, body = error_status(exc), str(exc).encode()
        reply = pickle.dumps((status, body, time.process_time() - started),
                             protocol=pickle.HIGHEST_PROTOCOL)
        sock.sendall(_LENGTH.pack(len(reply)) + reply)


def zygote(control_fd: int, data: str) -> None:
    """The zygote: load the N-Quads file ``data`` (then delete it), say ready, then fork
    a worker for every socket the server sends and answer with the worker's pid."""
    import pyoxigraph
    import rdflib  # noqa: F401 -- imported once here, for every worker's graph answers

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps killed workers at once
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C stops the server, which stops us
    control = socket.socket(fileno=control_fd)
    engine = _engine_class()()
    engine.store.bulk_load(path=data, format=pyoxigraph.RdfFormat.N_QUADS)
    Path(data).unlink(missing_ok=True)
    control.sendall(_LENGTH.pack(len(engine)))
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return
        if not message:
            return
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                control.close()
                _die_with_parent()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _work(socket.socket(fileno=fds[0]), engine)
            finally:
                os._exit(0)
        os.close(fds[0])
        control.sendall(_LENGTH.pack(pid))


# -- the server side --------------------------------------------------------------------------


class _Worker:
    def __init__(self, pid: int, sock: socket.socket, short: bool) -> None:
        self.pid, self.sock, self.short = pid, sock, short


def shape(text: str) -> str:
    """A query's shape: its tokens without comments, spacing and constants (IRIs, strings,
    numbers), so that the same query with other parameters has the same cost estimate."""
    from .engine import _tokens

    out = []
    for kind, tok in _tokens(text):
        if kind in ("comment", "space"):
            continue
        if kind in ("iri", "string"):
            tok = "<>" if kind == "iri" else '""'
        elif kind == "punct" and (tok.isdigit() or tok == "." and out[-1:] == ["0"]):
            if out[-1:] == ["0"]:
                continue  # the rest of a number
            tok = "0"
        out.append(tok)
    return " ".join(out)


class Costs:
    """CPU seconds that query shapes took in a worker, for the last ``size`` shapes (the
    mean of the last measure and the one before, so one noisy run does not flip a shape)."""

    def __init__(self, size: int = 4096) -> None:
        from collections import OrderedDict

        self.size, self.known, self.lock = size, OrderedDict(), threading.Lock()
        self._shapes: OrderedDict[str, str] = OrderedDict()

    def _shape(self, text: str) -> str:
        found = self._shapes.get(text)
        if found is None:
            found = self._shapes[text] = shape(text)
            while len(self._shapes) > self.size:
                self._shapes.popitem(last=False)
        return found

    def estimate(self, text: str) -> float | None:
        """The estimated CPU seconds of ``text``, None for a shape never measured."""
        with self.lock:
            return self.known.get(self._shape(text))

    def is_long(self, text: str) -> bool:
        seconds = self.estimate(text)
        return seconds is not None and seconds > SHORT_SECONDS

    def record(self, text: str, seconds: float) -> None:
        with self.lock:
            key = self._shape(text)
            old = self.known.pop(key, None)
            self.known[key] = seconds if old is None else (old + seconds) / 2
            while len(self.known) > self.size:
                self.known.popitem(last=False)


class WorkerDied(Exception):
    """The worker's socket closed before it answered (it crashed or was killed)."""


class Pool:
    """At most ``size`` queries at once, each in its own worker process with a deadline;
    up to ``queue`` more wait (at most ``timeout`` seconds) for a worker, beyond that a
    request is refused at once.

    `run` is called on the server's event loop; a worker is never shared by two queries.
    Killed workers are replaced in a background thread (a fork of the zygote).

    ``short_lane`` of the workers (at most ``size - 1``; 0: one lane) take only queries whose
    shape is not known to be long (`Costs`); the others take any."""

    def __init__(self, nquads: bytes, size: int, timeout: float, max_rows: int,
                 queue: int = 32, short_lane: int = 1) -> None:
        self.size, self.timeout, self.max_rows, self.queue = size, timeout, max_rows, queue
        self.short_lane = max(0, min(short_lane, size - 1))
        self.costs = Costs()
        self._lock = threading.Lock()        # guards the zygote's control socket
        self._idle: list[_Worker] = []
        self._waiting: deque = deque()       # (future, loop, long) of requests waiting
        self._guard = threading.Lock()       # guards _idle and _waiting
        self.killed: list[int] = []          # pids of workers killed at their deadline
        folder = tempfile.mkdtemp(prefix="kzgraph-serve-")  # private (0700)
        data = Path(folder) / "graph.nq"
        data.write_bytes(nquads)  # N-Triples are N-Quads too
        ours, theirs = socket.socketpair()
        package = str(Path(__file__).resolve().parent.parent)  # this kzgraph, installed or not
        path = os.pathsep.join(filter(None, [package, os.environ.get("PYTHONPATH")]))
        self._zygote = subprocess.Popen(
            [sys.executable, "-c", "import sys; from kzgraph.workers import zygote; "
             "zygote(int(sys.argv[1]), sys.argv[2])", str(theirs.fileno()), str(data)],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": path})
        theirs.close()
        self._control = ours
        try:
            ready = _recv_exactly(ours, _LENGTH.size)
        finally:
            data.unlink(missing_ok=True)
            os.rmdir(folder)
        if ready is None:
            raise RuntimeError("the query worker process could not load the graph")
        self.triples = _LENGTH.unpack(ready)[0]
        for index in range(size):
            self._idle.append(self._fork(short=index < self.short_lane))

    def _fork(self, short: bool) -> _Worker:
        ours, theirs = socket.socketpair()
        with self._lock:
            socket.send_fds(self._control, [b"F"], [theirs.fileno()])
            theirs.close()
            answer = _recv_exactly(self._control, _LENGTH.size)
        if answer is None:
            raise RuntimeError("the query worker process has stopped")
        ours.setblocking(False)
        return _Worker(_LENGTH.unpack(answer)[0], ours, short)

    @property
    def pids(self) -> list[int]:
        """The pids of the idle workers."""
        with self._guard:
            return sorted(w.pid for w in self._idle)

    def idle(self) -> int:
        with self._guard:
            return len(self._idle)

    async def run(self, prepared, bindings: dict, fmt: str, dataset=None) -> bytes:
        """The answer to a query vetted by `kzgraph.sparql.prepare` (a `Prepared`, or its
        text: then it is vetted here) in format ``fmt`` on ``dataset`` (a
        `kzgraph.dataset.Dataset` already checked by `kzgraph.sparql.resolve_dataset`; None:
        the service dataset); raises `kzgraph.protocol.HTTPError` (503 busy or past the
        deadline, 413 too many rows, 4xx from the engine)."""
        from .protocol import HTTPError
        from .sparql import prepare

        if isinstance(prepared, str):
            prepared = prepare(prepared)
        # the parsed rdflib query stays here: the worker needs only text and form
        request = pickle.dumps((prepared.light(), bindings, fmt, self.max_rows, dataset),
                               protocol=pickle.HIGHEST_PROTOCOL)
        retry = {"Retry-After": str(max(1, round(self.timeout)))}
        busy = HTTPError(503, f"all {self.size} query workers are busy; try again shortly",
                         retry)
        loop = asyncio.get_running_loop()
        long = bool(self.short_lane) and self.costs.is_long(prepared.text)
        with self._guard:
            worker = self._take(long)
            if worker is None:
                if len(self._waiting) >= self.queue:
                    raise busy
                waiter = loop.create_future()
                entry = (waiter, loop, long)
                self._waiting.append(entry)
        if worker is None:
            try:
                worker = await asyncio.wait_for(waiter, self.timeout)
            except asyncio.TimeoutError:
                raise busy from None
            finally:
                with self._guard:
                    if entry in self._waiting:
                        self._waiting.remove(entry)
        try:
            await loop.sock_sendall(worker.sock, _LENGTH.pack(len(request)) + request)
            status, body, seconds = await asyncio.wait_for(self._receive(loop, worker.sock),
                                                           self.timeout)
            self.costs.record(prepared.text, seconds)
        except asyncio.TimeoutError:
            self.costs.record(prepared.text, self.timeout)
            self._replace(worker, killed=True)
            raise HTTPError(503, f"the query took longer than {self.timeout:g} s and was "
                                 "stopped; make it more selective or add a LIMIT",
                            retry) from None
        except (WorkerDied, OSError):
            self._replace(worker)
            raise HTTPError(503, "the query worker stopped unexpectedly (out of memory?); "
                                 "try again or make the query more selective", retry) from None
        except BaseException:  # cancelled (client gone, server stopping): never reuse it
            self._replace(worker, killed=True)
            raise
        self._release(worker)
        if status != 200:
            raise HTTPError(status, body.decode("utf-8", "replace"))
        return body

    def _take(self, long: bool) -> _Worker | None:
        """An idle worker for a query (under ``_guard``): a short one takes a short-lane
        worker first, a long one only a general one."""
        for index in range(len(self._idle) - 1, -1, -1):
            if not long and self._idle[index].short:
                return self._idle.pop(index)
        for index in range(len(self._idle) - 1, -1, -1):
            if not self._idle[index].short:
                return self._idle.pop(index)
        return None

    @staticmethod
    async def _receive(loop, sock: socket.socket) -> tuple[int, bytes, float]:
        async def exactly(size: int) -> bytes:
            buffer = bytearray()
            while len(buffer) < size:
                chunk = await loop.sock_recv(sock, min(size - len(buffer), 1 << 20))
                if not chunk:
                    raise WorkerDied()
                buffer += chunk
            return bytes(buffer)

        size = _LENGTH.unpack(await exactly(_LENGTH.size))[0]
        return pickle.loads(await exactly(size))

    def _replace(self, worker: _Worker, killed: bool = False) -> None:
        """SIGKILL ``worker`` (the kernel reaps it: the zygote ignores SIGCHLD) and, in a
        thread, fork a fresh one once it is gone; the slot is free again when that is ready."""
        try:
            os.kill(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        worker.sock.close()
        if killed:
            self.killed.append(worker.pid)

        def refill() -> None:
            # the slot is free once the old process is gone (the kernel tears a big one down
            # in a while), so that a full pool never has a dying worker beside it
            gone = Path(f"/proc/{worker.pid}")
            for _ in range(10_000):
                if not gone.exists():
                    break
                time.sleep(0.001)
            try:
                fresh = self._fork(worker.short)
            except (OSError, RuntimeError):  # the zygote is gone: the server is stopping
                return
            self._release(fresh)

        threading.Thread(target=refill, name="kzgraph-refill", daemon=True).start()

    def _release(self, worker: _Worker) -> None:
        """Give ``worker`` to the longest waiting request it may take (a short-lane worker:
        the longest waiting short query), else make it idle (any thread)."""
        with self._guard:
            for entry in list(self._waiting):
                waiter, loop, long = entry
                if waiter.done():
                    self._waiting.remove(entry)
                elif not (long and worker.short):
                    self._waiting.remove(entry)
                    break
            else:
                self._idle.append(worker)
                return

        def hand() -> None:
            if waiter.done():  # it gave up meanwhile: the next one, or idle
                self._release(worker)
            else:
                waiter.set_result(worker)

        try:
            loop.call_soon_threadsafe(hand)
        except RuntimeError:  # that loop has closed
            self._release(worker)

    def close(self) -> None:
        """Stop the zygote and every worker (they die with it)."""
        with self._guard:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.sock.close()
        self._control.close()
        if self._zygote.poll() is None:
            self._zygote.kill()
            self._zygote.wait(10)
