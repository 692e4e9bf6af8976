"""The servers of a distributed game: each holds one sketch, in this process or in a forked child.

Every server builds its sketch from ``Coins.for_game(key)``, the game's key: the
servers share the sketch's keys (the model's shared randomness), exactly as the
coordinator's copy does, so their sketches merge. A server answers four requests:
apply a batch, show its state, show its coin log, and produce its message for the
coordinator (plain: its merged entries; ``bfv``: those entries encrypted), as npz bytes
(:mod:`wbstream.distributed.wire`), never pickle.
Each request returns the seconds the server spent on it, measured where it ran.

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

import time
import traceback
from dataclasses import dataclass

import numpy as np

from wbstream.distributed.wire import bfv_message, plain_message
from wbstream.engine.coins import Coins
from wbstream.engine.errors import WbstreamError
from wbstream.engine.isolation import clean_context


#: Seconds a request may take before the server counts as hung (a game fails instead of hanging).
REQUEST_TIMEOUT = 600.0


class ServerError(WbstreamError, RuntimeError):
    """A server process failed, died or did not answer within :data:`REQUEST_TIMEOUT`."""


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


class InlineServer:
    """A server in this process (for small games and debugging)."""

    def __init__(self, factory):
        self.alg = factory()
        self.encryptor = None

    def set_encryptor(self, encryptor) -> None:
        self.encryptor = encryptor

    def _call(self, *request):
        return _serve(self.alg, request, self.encryptor)

    def update(self, indices, deltas) -> float:
        return self._call("update", indices, deltas)[1]

    def state(self) -> dict:
        return self._call("state")[0]

    def coin_log(self) -> tuple:
        return self._call("coins")[0]

    def message(self) -> tuple[bytes, float]:
        return self._call("message")

    def close(self) -> None:
        pass


def _child(factory, conn):
    alg, encryptor = factory(), None
    while True:
        request = conn.recv()
        if request[0] == "stop":
            conn.close()
            return
        if request[0] == "encryptor":
            encryptor = request[1]
            conn.send((True, (None, 0.0)))
            continue
        try:
            conn.send((True, _serve(alg, request, encryptor)))
        except BaseException as exc:  # the parent re-raises it with the server's traceback
            conn.send((False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def _context():
    """Servers fork from the clean fork server (:func:`~wbstream.engine.isolation.clean_context`)."""
    return clean_context()


class ProcessServer(InlineServer):
    """A server in a child process forked from the fork server; requests and replies travel over a pipe.

    ``factory`` must pickle (a :class:`SketchFactory`): it is sent to the child.
    """

    def __init__(self, factory):
        ctx = _context()
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(factory, child), daemon=True)
        self._proc.start()
        child.close()

    def _call(self, *request):
        try:
            self._conn.send(request)
            if not self._conn.poll(REQUEST_TIMEOUT):
                raise ServerError(f"the server process did not answer {request[0]!r} within {REQUEST_TIMEOUT:g} s")
            ok, value = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            raise ServerError(f"the server process died (exit code {self._proc.exitcode})") from None
        if not ok:
            raise ServerError(f"the server failed: {value}")
        return value

    def set_encryptor(self, encryptor) -> None:
        self._call("encryptor", encryptor)

    def close(self) -> None:
        if self._proc.is_alive():
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
    """One server's sketch, held by a Dask worker between rounds (a Dask actor)."""

    def __init__(self, factory):
        self.alg, self.encryptor = factory(), None

    def set_encryptor(self, encryptor) -> None:
        self.encryptor = encryptor

    def call(self, request):
        return _serve(self.alg, request, self.encryptor)


class DaskServer(InlineServer):
    """A server as a Dask actor on a worker of ``client``'s cluster; requests are actor calls.

    ``factory`` must pickle: the worker builds the sketch from it, with the shared keys.
    """

    def __init__(self, factory, client):
        self._future = client.submit(_ServerActor, factory, actor=True, pure=False)
        try:
            self._actor = self._future.result(timeout=REQUEST_TIMEOUT)
        except Exception as exc:
            raise ServerError(f"the Dask worker could not start the server: {exc}") from exc

    def _call(self, *request):
        try:
            return self._actor.call(request).result(timeout=REQUEST_TIMEOUT)
        except Exception as exc:
            raise ServerError(f"the Dask server failed: {type(exc).__name__}: {exc}") from exc

    def set_encryptor(self, encryptor) -> None:
        self._actor.set_encryptor(encryptor).result(timeout=REQUEST_TIMEOUT)

    def close(self) -> None:
        self._future.release()

