"""Adversaries that try to break out of their threat model, for tests/test_isolation.py.

They live in a module of their own so an isolated child can import them by name.
Each plays the same plain stream (one insert per round for ``rounds`` rounds);
``Snoop`` first tries one route to the referee and raises ``Escaped`` if it works.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import time

import numpy as np

from wbstream.engine.adversary import Adversary
from wbstream.engine.algorithm import StreamingAlgorithm
from wbstream.engine.coins import Coins
from wbstream.engine.errors import ThreatModelError
from wbstream.engine.problems import Problem
from wbstream.engine.stream import Batch
from wbstream.engine.threat import OBLIVIOUS, WHITE_BOX


class Escaped(RuntimeError):
    """A route out of the threat model worked."""


def _referee_object(obj) -> str | None:
    """A name if ``obj`` belongs to the referee: a problem (the truth), keyed coins, a live algorithm, the game."""
    if isinstance(obj, Problem):
        return f"the problem {type(obj).__name__}"
    if isinstance(obj, Coins):
        return "keyed coins"
    if isinstance(obj, StreamingAlgorithm) and not obj.__dict__.get("_simulated", False):
        return f"the algorithm {type(obj).__name__}"
    if type(obj).__name__ in ("Game", "GameResult", "Observation", "IsolatedAdversary"):
        return f"a {type(obj).__name__}"
    return None


class Plain(Adversary):
    """One insert per round, then stop."""

    name = "plain-inserts"
    needs = OBLIVIOUS

    def __init__(self, *, rounds: int = 6):
        self.rounds = rounds

    def act(self, obs):
        return Batch.single(obs.round % 50, 1) if obs.round <= self.rounds else None


class Snoop(Plain):
    """Tries ``route`` every round; raises :class:`Escaped` if it reaches anything of the referee."""

    name = "snoop"

    def __init__(self, *, route: str, rounds: int = 6, path: str | None = None, pid: int | None = None):
        super().__init__(rounds=rounds)
        self.route, self.path, self.pid = route, path, pid

    def act(self, obs):
        getattr(self, "_" + self.route.replace("-", "_"))(obs)
        return super().act(obs)

    def _frames(self, obs):
        frame = sys._getframe()
        while frame is not None:
            for value in list(frame.f_locals.values()):
                found = _referee_object(value)
                if found:
                    raise Escaped(f"{found} in frame {frame.f_code.co_name}")
            frame = frame.f_back

    def _gc(self, obs):
        for obj in gc.get_objects():
            found = _referee_object(obj)
            if found:
                raise Escaped(f"{found} through gc")

    def _escalate(self, obs):
        for how in ("assign", "object-setattr"):
            try:
                if how == "assign":
                    obs.threat = WHITE_BOX
                else:
                    object.__setattr__(obs, "threat", WHITE_BOX)
            except (AttributeError, TypeError):
                continue
            for read in (obs.state, lambda: obs.coins, lambda: obs.simulate(np.random.default_rng(0))):
                try:
                    read()
                except ThreatModelError:
                    continue
                raise Escaped(f"{how}: an escalated observation was answered")

    def _write_state(self, obs):
        for value in obs.state().values():
            if not isinstance(value, np.ndarray) or not value.size:
                continue
            for target in (value, value.base):
                if not isinstance(target, np.ndarray):
                    continue
                try:
                    target.flags.writeable = True
                    target.reshape(-1)[0] += 1000
                except ValueError:
                    pass
            # beneath numpy: write straight into the bytes under the array (the child's own memory)
            ctypes.memset(value.ctypes.data, 0x7F, min(value.nbytes, 8))

    def _secret(self, obs):
        for obj in gc.get_objects():
            if isinstance(obj, Coins) and getattr(obj, "_Coins__key", None):
                raise Escaped("a coins key")
            if type(obj).__name__ in ("Game", "GameResult") and hasattr(obj, "seed"):
                raise Escaped(f"the game seed {obj.seed}")
        for name in ("_alg", "_Observation__alg", "_live"):
            if hasattr(obs, name):
                raise Escaped(f"obs.{name}")


    # -- through the OS: files, /proc, signals (the sandbox's business, tests/test_sandbox.py) -------------------
    def _key_cache(self, obs):
        try:
            names = sorted(os.listdir(self.path))
        except OSError:
            return
        for name in names:
            try:
                with open(os.path.join(self.path, name), "rb") as fh:
                    if fh.read(8):
                        raise Escaped(f"read the cached key {name}")
            except (PermissionError, IsADirectoryError):
                continue

    def _secret_file(self, obs):
        """A run secret (64 hex digits) in ``path``, the working directory or any ancestor's working directory."""
        places, pid = [self.path or ".", os.getcwd()], os.getpid()
        while pid > 1:
            try:
                places.append(os.readlink(f"/proc/{pid}/cwd"))
                with open(f"/proc/{pid}/stat") as fh:
                    pid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                break
        for place in places:
            try:
                names = os.listdir(place)
            except OSError:
                continue
            for name in names:
                try:
                    with open(os.path.join(place, name), "rb") as fh:
                        text = fh.read(100).strip()
                except OSError:
                    continue
                if len(text) == 64 and all(c in b"0123456789abcdef" for c in text):
                    raise Escaped(f"a secret in {os.path.join(place, name)}")

    def _proc_mem(self, obs):
        try:
            with open(f"/proc/{self.pid}/maps") as fh:
                start = next(int(line.split("-")[0], 16) for line in fh if line.split()[1].startswith("r"))
            with open(f"/proc/{self.pid}/mem", "rb") as mem:
                mem.seek(start)
                if mem.read(16):
                    raise Escaped(f"read the memory of process {self.pid}")
        except OSError:
            pass

    def _environ(self, obs):
        try:
            with open(f"/proc/{self.pid}/environ", "rb") as fh:
                if fh.read():
                    raise Escaped(f"read the environment of process {self.pid}")
        except OSError:
            pass

    def _write(self, obs):
        try:
            with open(os.path.join(self.path, f"written-{obs.round}"), "w") as fh:
                fh.write("out")
        except OSError:
            return
        raise Escaped(f"wrote into {self.path}")

    def _signal(self, obs):
        try:
            os.kill(self.pid, 0)
        except OSError:
            return
        raise Escaped(f"may signal process {self.pid}")

    def _connect(self, obs):
        import socket

        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                s.listen()
                socket.create_connection(s.getsockname(), timeout=2).close()
        except OSError:
            return
        raise Escaped("opened a TCP connection")


class Crash(Plain):
    """Raises in round 3, naming its process."""

    name = "crash"

    def act(self, obs):
        if obs.round == 3:
            raise ValueError(f"boom from pid {os.getpid()}")
        return super().act(obs)


class Misbehave(Plain):
    """From round 3 on: hangs, exits, floods, stops reading, sends garbage, notes or oversized batches."""

    name = "misbehave"

    def __init__(self, *, how: str, rounds: int = 6):
        super().__init__(rounds=rounds)
        self.how = how

    def act(self, obs):
        if obs.round < 3:
            return super().act(obs)
        if self.how == "hang":
            while True:
                time.sleep(1)
        if self.how == "exit":
            os._exit(3)
        if self.how == "flood":
            obs._conn.send_bytes(b"B" + bytes(1 << 22))
        if self.how == "notes":
            obs._conn.send_bytes(b"O\x01notes instead of a batch")
        if self.how == "garbage":
            obs._conn.send_bytes(b"Zgarbage")
        if self.how == "big-batch":
            return Batch(np.arange(500) % 50, np.ones(500, np.int64))
        if self.how == "lying-length":
            obs._conn.send_bytes(b"B" + (2).to_bytes(8, "little") + bytes(16))
        if self.how == "deaf":  # asks for the state again and again and never reads a reply
            from wbstream.engine.sandbox_wire import REQUEST
            for _ in range(20_000):
                obs._conn.send_bytes(REQUEST + b"S")
            while True:
                time.sleep(1)
        if self.how == "requests":
            while True:
                try:
                    obs.state()
                except ThreatModelError:
                    obs._state_round = -1
        return super().act(obs)


class Noter(Plain):
    """The plain stream, with notes on its acts: how many, the last round, the answers seen at each.

    ``notes="long"`` returns notes over the wire's bound; ``notes="bytes"`` returns bytes, not a string.
    """

    name = "noter"

    def __init__(self, *, rounds: int = 6, notes: str = "count"):
        super().__init__(rounds=rounds)
        self.kind, self.acts, self.last, self.seen = notes, 0, 0, []

    def act(self, obs):
        self.acts, self.last = self.acts + 1, obs.round
        if "answers" in obs.threat.capabilities:
            self.seen.append(len(obs.answers))
        return super().act(obs)

    def notes(self):
        if self.kind == "long":
            return "x" * 100_000
        if self.kind == "bytes":
            return b"acted"
        return f"acted {self.acts} times, last round {self.last}, answers seen {','.join(map(str, self.seen)) or '-'}"


def read_bytes(path: str) -> bytes:
    """What a plugin's describing or checking child could do at import: read a file of the referee's user."""
    with open(path, "rb") as fh:
        return fh.read()


def half_message(length: int) -> bytes:
    """Run by a probe child: announce ``length`` bytes on every pipe it can write to, send none, and wait."""
    import stat
    import struct
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, struct.pack("!i", length))
        except OSError:
            pass
    time.sleep(60)
    return b""
