"""Adversaries that try to stall, fool or crash the arena's referee (for tests; not registered on import).

``register()`` adds them to the registry; arena workers receive them by reference,
so this module must be importable there (tests/ is on sys.path via conftest, or
PYTHONPATH for a subprocess).
"""

from __future__ import annotations

import ctypes
import gc
import os
import hashlib
import signal
import time
from multiprocessing.connection import Connection

from wbstream.engine.adversary import Adversary
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch


class Swallows(Adversary):
    """Retries forever, catching every exception the referee might raise into it."""

    name = "test-swallows"

    def act(self, obs):
        while True:
            try:
                time.sleep(0.01)
            except BaseException:  # noqa: B036 - the point of this adversary
                pass


class BlocksInC(Adversary):
    """One C call that never checks for signals (key stretching with ~forever iterations)."""

    name = "test-blocks-in-c"

    def act(self, obs):
        hashlib.pbkdf2_hmac("sha256", b"stall", b"the referee", 2**31 - 1)  # hours of C


class Disarms(Adversary):
    """Disarms the real-time interval timer, and masks SIGALRM for good measure, then sleeps."""

    name = "test-disarms"

    def act(self, obs):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while True:
            time.sleep(0.05)


class Crashing(Adversary):
    """Raises inside act."""

    name = "test-crashing"

    def act(self, obs):
        raise RuntimeError("the adversary fell over")


class Segfaults(Adversary):
    """Crashes its process outright."""

    name = "test-segfaults"

    def act(self, obs):
        ctypes.string_at(0)


class _MakeDir:
    """Unpickling this creates a directory: proof that someone unpickled it."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


class Forges(Adversary):
    """Writes a pickle that runs code when loaded into every pipe of its process, then ends the game."""

    name = "test-forges"

    def __init__(self, *, path: str = ""):
        self.path = path

    def act(self, obs):
        for conn in [o for o in gc.get_objects() if isinstance(o, Connection)]:
            try:
                conn.send(_MakeDir(self.path))
            except OSError:
                pass


class Hangs(Adversary):
    """Never returns from act (politely: it sleeps)."""

    name = "test-hangs"

    def act(self, obs):
        while True:
            time.sleep(0.05)


class Fine(Adversary):
    """One single update, then stops."""

    name = "test-fine"

    def act(self, obs):
        return Batch.single(1, 1) if obs.round == 1 else None


HOSTILE = (Swallows, BlocksInC, Disarms, Crashing, Segfaults, Forges, Hangs, Fine)


def register() -> None:
    for cls in HOSTILE:
        adversaries.register(cls)


def unregister() -> None:
    for cls in HOSTILE:
        adversaries.unregister(cls.name)


def toml_suite(names, *, trials: int = 1) -> str:
    """A suite file body: each named adversary against ``exact`` on a tiny F2 problem."""
    body = f"trials = {trials}\n"
    for name in names:
        body += (f'[[matchup]]\nproblem = "f2(n=8, M=4, eps=0.5)"\nalgorithm = "exact"\n'
                 f'adversary = "{name}"\nthreat = "oblivious"\n')
    return body


#: Run the CLI with the hostile adversaries registered: ``[sys.executable, "-c", CLI, "arena", ...]``.
CLI = "import sys, arena_hostile; arena_hostile.register(); from wbstream.cli import main; main(sys.argv[1:])"
