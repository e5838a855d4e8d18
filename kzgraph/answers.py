"""The answer cache of ``kzgraph serve``: the served build never changes while the server
runs, so a query's answer is fully determined by `AnswerKey` — the build, the exact query
text after parameter substitution, the dataset and the result format — and can be kept.

`Answers` holds complete successful answers only (never a timed-out, capped or refused one),
least recently used first out, within a byte budget (``kzgraph serve --answer-cache MB``;
0 keeps nothing). It lives in the server's process, shared by every worker: a hit never
waits for a worker, so it is never queued behind a long query. Concurrent requests for the
same missing answer wait for one evaluation instead of starting one each. `etag` is the
answer's HTTP validator, computed from the key alone (the same key always gives the same
bytes), so ``If-None-Match`` is answered 304 without evaluating anything.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import NamedTuple

#: the default budget of ``kzgraph serve --answer-cache`` (MB)
DEFAULT_MB = 64
#: bytes counted for an entry besides its body and query text (key tuple, dict slot)
ENTRY_OVERHEAD = 200
#: ``Cache-Control`` of a cacheable answer: fresh for an hour in a client or proxy, then
#: revalidated with the ETag (a new build served at the same address changes every ETag)
CACHE_CONTROL = "public, max-age=3600"


class AnswerKey(NamedTuple):
    """What determines an answer's bytes. Extend it (at the end, with a default) when
    something else comes to change an answer."""

    build: str          #: `build_identity` of the served graph
    query: str          #: the exact query text after parameter substitution
    fmt: str            #: the result format key ("json", "xml", "csv", "tsv", "ttl", ...)
    dataset: tuple = ()  #: `dataset_key` of the request's dataset, () for the service's own


def dataset_key(dataset) -> tuple:
    """The part of a key a `kzgraph.dataset.Dataset` decides: ((default graph IRIs), (named
    graph IRIs)), or () for None (the service dataset: union default graph, every named
    graph). A dataset naming no graph at all differs from None: ((), ())."""
    if dataset is None or dataset.is_service:
        return ()
    return (tuple(dataset.default), tuple(dataset.named))


def build_identity(data: bytes) -> str:
    """The served build's identity: SHA-256 of the N-Quads the workers load and of the
    versions of the code that writes answers (a new kzgraph, pyoxigraph or rdflib may write
    other bytes for the same graph)."""
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    digest = hashlib.sha256(data)
    parts = [f"kzgraph {__version__}"]
    for package in ("pyoxigraph", "rdflib"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} -")
    digest.update(("\0" + "\0".join(parts)).encode())
    return digest.hexdigest()


def etag(key: AnswerKey) -> str:
    """The strong HTTP entity tag of the answer ``key`` determines."""
    encoded = json.dumps(list(key), ensure_ascii=False, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(encoded).hexdigest()[:40] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``tag`` (weak comparison, as RFC 9110 asks
    for this header; ``*`` is not answered from the key, the caller evaluates)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == tag:
            return True
    return False


class Answers:
    """Complete successful answers by `AnswerKey`, at most ``max_bytes`` of them (bodies,
    query texts and `ENTRY_OVERHEAD` each), least recently used evicted first. An answer
    bigger than a quarter of the budget is not kept (it would flush the others)."""

    def __init__(self, max_bytes: int = DEFAULT_MB * 2**20) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self._entries: OrderedDict[AnswerKey, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[AnswerKey, asyncio.Future] = {}
        self.bytes = self.hits = self.misses = self.shared = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @staticmethod
    def cost(key: AnswerKey, body: bytes) -> int:
        return len(body) + len(key.query.encode()) + ENTRY_OVERHEAD

    def get(self, key: AnswerKey) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
            return body

    def put(self, key: AnswerKey, body: bytes) -> bool:
        """Keep ``body`` as the answer of ``key``; False when it is not kept (disabled, or
        too big)."""
        size = self.cost(key, body)
        if not self.enabled or size > self.max_bytes // 4:
            return False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= self.cost(key, old)
            self._entries[key] = body
            self.bytes += size
            while self.bytes > self.max_bytes:
                gone, dropped = self._entries.popitem(last=False)
                self.bytes -= self.cost(gone, dropped)
        return True

    def __len__(self) -> int:
        return len(self._entries)

    async def fetch(self, key: AnswerKey, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """The answer of ``key``: kept, or being computed for another request (then this one
        shares its outcome, an error too — nothing is kept of an error), or ``compute()``d
        now and kept when it succeeds. Disabled: always ``compute()``."""
        if not self.enabled:
            return await compute()
        while True:
            body = self.get(key)
            if body is not None:
                self.hits += 1
                return body
            flight = self._flights.get(key)
            if flight is None:
                break
            self.shared += 1
            try:
                return await asyncio.shield(flight)
            except asyncio.CancelledError:
                if not flight.cancelled():  # this request was cancelled, not the other
                    raise
                # the other request was cancelled (its client left): try again
        self.misses += 1
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            body = await compute()
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            self.put(key, body)
            flight.set_result(body)
            return body
        finally:
            self._flights.pop(key, None)

    def stats(self) -> dict:
        """For ``/health``."""
        return {"max_bytes": self.max_bytes, "bytes": self.bytes, "entries": len(self),
                "hits": self.hits, "misses": self.misses, "shared": self.shared}
