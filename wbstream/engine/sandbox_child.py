"""The isolated adversary's side: its process, its observation, and the bytes it sends back.

The child is forked from the engine's clean fork server and receives only the
adversary's class and options, the public parameters, the algorithm's public
description, the threat level and the adversary's own generator. Every round the
referee sends the round number (and the new answers, where the level grants them);
:class:`RemoteObservation` asks the referee for state, coins or a detached copy
on demand, and the referee decides, by its own record of the level, whether to
answer. The child sends back only bytes in :mod:`~wbstream.engine.sandbox_wire`'s
strict format.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from types import MappingProxyType

import numpy as np

from . import landlock, sandbox_wire as wire
from .adversary import Adversary
from .coins import Coins
from .errors import ThreatModelError
from .mapped import map_array, mapped_origin

#: An oblivious block ends after this many rounds or updates (whichever comes first).
BLOCK_ROUNDS, BLOCK_UPDATES = 1024, 100_000


class FrozenArray:
    """An array travelling as raw bytes; rebuilt in the child over immutable bytes, so it can never be written.

    An array over a read-only memory-mapped file (a key of GiBs) travels as the file's
    name and offset instead, and is re-mapped read-only in the child: nothing is copied.
    """

    __slots__ = ("dtype", "shape", "data")

    def __init__(self, array: np.ndarray):
        origin = mapped_origin(array)
        if origin is not None:
            self.dtype, self.shape, self.data = array.dtype.str, array.shape, origin
        elif array.dtype.hasobject:
            self.dtype, self.shape, self.data = None, array.shape, pickle.dumps(np.array(array))
        else:
            self.dtype, self.shape, self.data = array.dtype.str, array.shape, np.ascontiguousarray(array).tobytes()

    def __getstate__(self):
        return self.dtype, self.shape, self.data

    def __setstate__(self, state):
        self.dtype, self.shape, self.data = state

    def rebuild(self) -> np.ndarray:
        if self.dtype is None:  # object arrays (Python ints): a private copy, marked read-only
            out = pickle.loads(self.data)
        elif isinstance(self.data, tuple):  # (path, offset) of a mapped file, mapped read-only
            out = map_array(*self.data, self.dtype, self.shape)
        else:
            out = np.frombuffer(self.data, np.dtype(self.dtype)).reshape(self.shape)
        out.flags.writeable = False
        return out


def freeze(value):
    """A state view as plain data: arrays to :class:`FrozenArray`, mappings to dicts (in the referee)."""
    if isinstance(value, np.ndarray):
        return FrozenArray(value)
    if hasattr(value, "items") and hasattr(value, "keys"):
        return {k: freeze(v) for k, v in value.items()}
    return value


def thaw(value):
    """The child's read-only view of frozen data."""
    if isinstance(value, FrozenArray):
        return value.rebuild()
    if isinstance(value, dict):
        return MappingProxyType({k: thaw(v) for k, v in value.items()})
    return value


class RemoteObservation:
    """The isolated adversary's view, with the API of :class:`~wbstream.engine.observation.Observation`.

    Nothing here is authoritative: the referee checks the level on every request
    and refuses with the :class:`ThreatModelError` text this object raises.
    """

    def __init__(self, conn, threat, params, algorithm):
        self.threat, self.params, self.algorithm = threat, params, algorithm
        self.round = 0
        inbox, self._conn = conn  # from the referee, to the referee (two one-way pipes)
        self._reader = wire.FrameReader(inbox.fileno())
        self._answers: list = []
        self._state, self._state_round = None, -1
        self._coins: list = []
        self._coins_round = -1
        self._copy, self._copy_round = None, -1

    def _require(self, capability: str, what: str) -> None:
        if capability not in self.threat.capabilities:
            raise ThreatModelError(f"the {self.threat.name} threat model does not reveal {what}")

    def _ask(self, what: bytes):
        self._conn.send_bytes(wire.REQUEST + what)
        ok, payload = pickle.loads(self._reader.receive())  # from the referee, which the child trusts
        if not ok:
            raise ThreatModelError(payload)
        return payload

    @property
    def answers(self) -> tuple:
        self._require("answers", "the algorithm's answers")
        return tuple(self._answers)

    def state(self):
        if self._state_round != self.round:
            self._state = thaw(self._ask(b"S"))
            self._state_round = self.round
        return self._state

    @property
    def coins(self) -> tuple:
        if self._coins_round != self.round:
            self._coins.extend(self._ask(b"C"))
            self._coins_round = self.round
        return tuple(self._coins)

    def simulate(self, rng: np.random.Generator):
        if self._copy_round != self.round:
            self._copy = self._ask(b"D")
            self._copy_round = self.round
        copy = pickle.loads(self._copy)
        copy.attach_coins(Coins.from_rng(rng))
        return copy


def seal_descriptors(keep) -> None:
    """Leave this process only the descriptors in ``keep``, and stdin, stdout, stderr on /dev/null.

    A child inherits the referee's stdout and stderr and its helpers' pipes (the resource
    tracker's); an open descriptor passes any sandbox, and a line written to the
    referee's stdout would land in its report. The resource tracker is forgotten, so a
    child that needs one starts its own.
    """
    from multiprocessing import resource_tracker

    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd not in keep:
            os.dup2(null, fd)
    low = 3
    for fd in sorted(set(keep) | {null}):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536)
    if null > 2 and null not in keep:
        os.close(null)
    tracker = resource_tracker._resource_tracker
    tracker._fd, tracker._pid = None, None


def main(conn, adv_cls, adv_opts, threat, params, algorithm, rng, policy=None) -> None:
    """The child process: build the adversary, then answer the referee's rounds until told to stop.

    ``conn`` is a pair of one-way connections: from the referee, to the referee. ``policy``
    (a :class:`~wbstream.engine.landlock.Policy`, None where the kernel has no Landlock) is
    applied first, before a plugin's module is imported and before any adversary code runs.
    """
    out = conn[1].fileno()
    # The referee starts this process as a daemon (it must not outlive the game), and multiprocessing
    # forbids daemons children; an adversary's own work may need one (the lattice attack reduces in a
    # child with a safety net). Its children die with it all the same: each forks from this process's own
    # fork server and is killed when that server's parent (this process) is gone.
    multiprocessing.current_process()._config["daemon"] = False
    seal_descriptors((conn[0].fileno(), out))
    try:
        if policy is not None:  # before a plugin's module code runs: it could read the key cache at import
            landlock.enter(policy)
        if not isinstance(adv_cls, type):  # an adversary plugin's PluginRef: its module is imported only here
            adv_cls = adv_cls.load()
        adversary = adv_cls(**adv_opts)
        adversary.reset(params, rng)
    except BaseException as exc:
        wire.send(out, wire.encode_error(exc))
        return
    obs = RemoteObservation(conn, threat, params, algorithm)
    pending = None  # a batch computed for a block that could not join it (rows): the next reply
    # Blocks run ahead of the game, so notes are taken after each round's act (if the class has any).
    notes = {} if getattr(type(adversary), "notes", Adversary.notes) is not Adversary.notes else None
    while True:
        try:
            msg = obs._reader.receive()
        except (EOFError, OSError):
            return
        tag = msg[:1]
        if tag == b"A":  # one round: its number, then any new answers
            obs.round = int.from_bytes(msg[1:9], "little", signed=True)
            if len(msg) > 9:
                obs._answers.extend(pickle.loads(msg[9:]))
            try:
                batch = adversary.act(obs)
                reply = wire.encode_batch(batch if batch is None or isinstance(batch, wire.Batch)
                                          else wire.as_batch(batch))
            except BaseException as exc:
                reply = wire.encode_error(exc)
            wire.send(out, reply)
        elif tag == b"K":  # oblivious, or adaptive between queries: as many rounds as fit in a block
            first = int.from_bytes(msg[1:9], "little", signed=True)
            limit = int.from_bytes(msg[9:17], "little", signed=True)
            cap = int.from_bytes(msg[17:25], "little", signed=True)
            if len(msg) > 25:  # adaptive: the answers of the queries since the last block
                obs._answers.extend(pickle.loads(msg[25:]))
            if notes:
                for r in [r for r in notes if r < first]:
                    del notes[r]
            pending = _block(out, adversary, obs, first, limit, min(cap, BLOCK_UPDATES), pending, notes)
        elif tag == b"T":  # the game is over: the notes after the last round the referee played
            last = int.from_bytes(msg[1:9], "little", signed=True)
            if len(msg) > 9:
                obs._answers.extend(pickle.loads(msg[9:]))
            try:
                if notes is None:
                    value = None
                elif last in notes:
                    value = notes[last]
                else:
                    value = adversary.notes()
                reply = wire.encode_notes(value)
            except BaseException as exc:
                reply = wire.encode_error(exc)
            wire.send(out, reply)
        else:
            return


def _block(out: int, adversary, obs, first: int, limit: int, cap: int, pending, notes: dict | None = None):
    """Rounds ``first, first + 1, ...`` in one message: at most ``limit`` rounds and ``cap`` updates.

    A batch that cannot join the block (rows, or one that would pass the cap) is
    kept for the next block, or sent on its own when it would be the block's first.
    """
    batches, total, stop, message = [], 0, wire.MORE, ""
    r = first
    while len(batches) < min(limit, BLOCK_ROUNDS):
        if pending is not None:
            batch, pending = pending, None
        else:
            obs.round = r
            try:
                batch = adversary.act(obs)
                if notes is not None:
                    notes[r] = adversary.notes()
            except BaseException as exc:
                stop, message = wire.RAISED, f"{type(exc).__name__}: {exc}"
                break
        if batch is None:
            stop = wire.STOPPED
            break
        if not isinstance(batch, wire.Batch):
            try:
                batch = wire.as_batch(batch)
            except BaseException as exc:
                stop, message = wire.RAISED, f"{type(exc).__name__}: {exc}"
                break
        if isinstance(batch, wire.RowBatch) or total + len(batch) > cap:  # sent on its own, one round
            if batches:
                pending = batch
                break
            wire.send(out, wire.encode_batch(batch))
            return None
        batches.append(batch)
        total += len(batch)
        r += 1
    wire.send(out, wire.encode_block(batches, stop, message))
    return pending
