"""The servers of a distributed game: each holds one sketch, in this process or in a forked child.

Every server builds its sketch from ``Coins.for_game(key)``, the game's key: the
servers share the sketch's keys (the model's shared randomness), exactly as the
coordinator's copy does, so their sketches merge. A server answers four requests:
apply a batch, show its state, show its coin log, and produce its message for the
coordinator (plain: its merged entries; ``bfv``: those entries encrypted). Every
reply travels as bytes in the format of :mod:`wbstream.distributed.wire` and is read
with its decoder, never unpickled: a hostile server can send a malformed reply
(a :class:`~wbstream.distributed.wire.WireError`), not run code in the coordinator.
Each request returns the seconds the server spent on it, measured where it ran.

A request may take :func:`request_timeout` seconds, a base plus an allowance per
update or sketch entry; a server process that is stopped (``SIGSTOP``) or dead fails
the request at once, naming the server, instead of stalling the game.

>>> from wbstream.engine.problems import SparseRecovery
>>> from wbstream.algorithms.sparse.countsketch import CountSketchRecovery as CS
>>> p = SparseRecovery(n=64, k=2, M=8)
>>> server = ProcessServer(SketchFactory(CS, p.params, bytes(32), {"rows": 3, "cols": 8}))
>>> server.update(np.array([5]), np.array([3])) >= 0
True
>>> int(server.state()["table"].sum() != 0), len(server.coin_log())
(1, 2)
>>> server.close()
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass

import numpy as np

from wbstream.distributed.wire import WireError, bfv_message, decode_value, encode_value, plain_message
from wbstream.engine.coins import Coins
from wbstream.engine.errors import WbstreamError
from wbstream.engine.isolation import clean_context

#: Seconds any request may take, plus :data:`SECONDS_PER_UNIT` per update it carries or sketch entry
#: it sends; past that the server counts as hung and the request fails instead of stalling the game.
BASE_TIMEOUT = 10.0
SECONDS_PER_UNIT = 20e-6
#: How often a waiting coordinator checks that a server process is still running (seconds).
POLL_SLICE = 0.1
#: The largest reply the coordinator reads from a server (bytes).
MAX_REPLY_BYTES = 1 << 30


def request_timeout(units: int = 0) -> float:
    """Seconds a request may take: :data:`BASE_TIMEOUT` plus an allowance per update or sketch entry.

    >>> request_timeout(0), request_timeout(10**6)
    (10.0, 30.0)
    """
    return BASE_TIMEOUT + SECONDS_PER_UNIT * max(0, units)


class ServerError(WbstreamError, RuntimeError):
    """A server failed, died, was stopped, or did not answer within its :func:`request_timeout`."""


@dataclass(frozen=True)
class SketchFactory:
    """Builds a server's sketch from the game's key: every server gets the same sketch keys."""

    cls: type
    params: object
    key: bytes
    options: dict

    def __call__(self):
        return self.cls(self.params, Coins.for_game(self.key), **self.options)


def _serve(alg, request, encryptor):
    kind = request[0]
    t0 = time.perf_counter()
    if kind == "update":
        alg.update(request[1], request[2])
        out = None
    elif kind == "state":
        out = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in alg.state().items()}
    elif kind == "coins":
        out = alg.coins.log
    elif kind == "message":
        out = plain_message(alg) if encryptor is None else bfv_message(encryptor.encrypt(alg))
    else:
        raise ValueError(f"unknown server request {kind!r}")
    return out, time.perf_counter() - t0


def _reply(alg, request, encryptor) -> bytes:
    """A request's answer as wire bytes: ``{"ok": True, "out", "seconds"}`` or ``{"ok": False, "error"}``."""
    try:
        out, seconds = _serve(alg, request, encryptor)
        return encode_value({"ok": True, "out": out, "seconds": seconds})
    except Exception as exc:  # the coordinator raises it with the server's traceback
        return encode_value({"ok": False, "error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"})


def _read_reply(data: bytes, name: str):
    """``(out, seconds)`` of a server's reply bytes; a failure or a malformed reply is a :class:`ServerError`."""
    try:
        reply = decode_value(data)
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            raise WireError("a malformed reply (no ok flag)")
        if not reply["ok"]:
            raise ServerError(f"{name} failed: {reply.get('error')}")
        seconds = reply.get("seconds")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            raise WireError("a malformed reply (no seconds)")
        return reply.get("out"), float(seconds)
    except WireError as exc:
        raise ServerError(f"{name} sent {exc}") from None


class InlineServer:
    """A server in this process (for small games and debugging); replies take the same wire path.

    Requests go out with :meth:`send` and come back with :meth:`receive`, so the
    coordinator can have every server work on its part of a batch at once.
    """

    def __init__(self, factory, name: str = "server"):
        self.alg, self.name = factory(), name
        self.encryptor = None

    def set_encryptor(self, encryptor) -> None:
        self.encryptor = encryptor

    def send(self, *request, units: int = 0):
        """Start a request (``units``: the updates it carries or entries it sends); :meth:`receive` ends it."""
        return _reply(self.alg, request, self.encryptor)

    def receive(self, ticket) -> tuple[object, float]:
        """The ``(answer, server seconds)`` of a request started by :meth:`send`."""
        return _read_reply(ticket, self.name)

    def _call(self, *request, units: int = 0):
        return self.receive(self.send(*request, units=units))

    def update(self, indices, deltas) -> float:
        return self._call("update", indices, deltas, units=len(indices))[1]

    def state(self) -> dict:
        return self._call("state")[0]

    def coin_log(self) -> tuple:
        return tuple(self._call("coins")[0])

    def message(self, entries: int = 0) -> tuple[bytes, float]:
        out, seconds = self._call("message", units=entries)
        if not isinstance(out, bytes):
            raise ServerError(f"{self.name} sent a message that is not bytes")
        return out, seconds

    def close(self) -> None:
        pass


def _child(factory, conn):
    alg, encryptor = factory(), None
    while True:
        request = conn.recv()  # requests come from the coordinator that started this process
        if request[0] == "stop":
            conn.close()
            return
        if request[0] == "encryptor":
            encryptor = request[1]
            conn.send_bytes(encode_value({"ok": True, "out": None, "seconds": 0.0}))
            continue
        conn.send_bytes(_reply(alg, request, encryptor))


def _context():
    """Servers fork from the clean fork server (:func:`~wbstream.engine.isolation.clean_context`)."""
    return clean_context()


def process_state(pid: int) -> str:
    """The one-letter state of process ``pid`` from ``/proc`` (``T``: stopped), or ``""`` if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0].decode()
    except (OSError, IndexError, UnicodeDecodeError):
        return ""


class ProcessServer(InlineServer):
    """A server in a child process forked from the fork server; requests go over a pipe, replies come back as bytes.

    ``factory`` must pickle (a :class:`SketchFactory`): it is sent to the child.
    """

    def __init__(self, factory, name: str = "server"):
        ctx = _context()
        self.name = name
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(factory, child), daemon=True)
        self._proc.start()
        child.close()

    def _died(self) -> ServerError:
        self._proc.join(1)
        return ServerError(f"{self.name} (pid {self._proc.pid}) died (exit code {self._proc.exitcode})")

    def send(self, *request, units: int = 0):
        try:
            self._conn.send(request)
        except (OSError, BrokenPipeError):
            raise self._died() from None
        return request[0], units

    def receive(self, ticket) -> tuple[object, float]:
        kind, units = ticket
        limit = request_timeout(units)
        deadline = time.monotonic() + limit
        while not self._conn.poll(POLL_SLICE):
            if not self._proc.is_alive():
                raise self._died()
            if process_state(self._proc.pid) in ("T", "t"):
                raise ServerError(f"{self.name} (pid {self._proc.pid}) is stopped: it cannot answer {kind!r}")
            if time.monotonic() > deadline:
                raise ServerError(f"{self.name} (pid {self._proc.pid}) did not answer {kind!r} within {limit:g} s")
        try:
            data = self._conn.recv_bytes(MAX_REPLY_BYTES)
        except (EOFError, OSError):
            raise self._died() from None
        return _read_reply(data, self.name)

    def set_encryptor(self, encryptor) -> None:
        self._call("encryptor", encryptor)

    def close(self) -> None:
        if self._proc.is_alive() and process_state(self._proc.pid) not in ("T", "t"):
            try:
                self._conn.send(("stop",))
            except (OSError, BrokenPipeError):
                pass
            self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._conn.close()


class _ServerActor:
    """One server's sketch, held by a Dask worker between rounds (a Dask actor); it answers in wire bytes."""

    def __init__(self, factory):
        self.alg, self.encryptor = factory(), None

    def set_encryptor(self, encryptor) -> None:
        self.encryptor = encryptor

    def call(self, request) -> bytes:
        return _reply(self.alg, request, self.encryptor)


class DaskServer(InlineServer):
    """A server as a Dask actor on a worker of ``client``'s cluster; requests are actor calls.

    ``factory`` must pickle: the worker builds the sketch from it, with the shared keys.
    The actor answers in wire bytes, read with the wire decoder.
    """

    def __init__(self, factory, client, name: str = "server"):
        self.name = name
        self._future = client.submit(_ServerActor, factory, actor=True, pure=False)
        try:
            self._actor = self._future.result(timeout=request_timeout())
        except Exception as exc:
            raise ServerError(f"the Dask worker could not start {name}: {exc}") from exc

    def send(self, *request, units: int = 0):
        return self._actor.call(request), request[0], units

    def receive(self, ticket) -> tuple[object, float]:
        future, kind, units = ticket
        try:
            data = future.result(timeout=request_timeout(units))
        except Exception as exc:
            raise ServerError(f"{self.name} (a Dask actor) failed on {kind!r}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(data, bytes):
            raise ServerError(f"{self.name} sent a {type(data).__name__} reply, not bytes")
        return _read_reply(data, self.name)

    def set_encryptor(self, encryptor) -> None:
        self._actor.set_encryptor(encryptor).result(timeout=request_timeout())

    def close(self) -> None:
        self._future.release()
