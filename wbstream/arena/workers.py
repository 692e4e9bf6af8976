"""A pool of game workers the arena can always stop: the referee's side of every time limit.

Each worker is a long-lived process forked from the clean fork server
(:func:`~wbstream.engine.isolation.clean_context`). The arena sends it tasks over a
pipe (at most two queued, so it never waits for the arena between games) and
keeps the deadline of each worker's current game itself: a worker still playing
at its deadline is SIGKILLed, whatever the game is doing (an ``except
BaseException`` loop, a long C call that never checks signals, a disarmed timer),
the task becomes a ``timeout`` outcome, and a fresh worker takes the tasks that
were queued behind it.
A worker that dies (a segfault, ``os._exit``) becomes an ``error`` outcome naming
how it died, and is replaced the same way.

Outcomes come back as JSON bytes (``send_bytes``/``recv_bytes``), never pickles: the
arena does not unpickle anything a game process sends. Tasks go the other way
pickled (the arena is the trusted side). Classes registered in this process at
run time (a test's or a script's adversary) reach the workers by reference and are
registered there too, so a worker plays whatever the arena could.

Workers die with the arena, and their own children with them: each has
``PR_SET_PDEATHSIG`` (:class:`~wbstream.engine.isolation.CleanProcess`) and exits on
EOF of its task pipe.

>>> from wbstream.arena.matchups import Matchup
>>> m = Matchup("f2(n=8, M=4, eps=0.5)", "exact", "dense(rounds=3)", "oblivious")
>>> [(seed, o.status, o.result.rounds) for (_, seed), o in sorted(WorkerPool(1).run([(m, 1), (m, 2)], 10.0),
...                                                              key=lambda x: x[0][1])]
[(1, 'ok', 3), (2, 'ok', 3)]
"""

from __future__ import annotations

import json
import math
import pickle
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait

from wbstream.engine.errors import WbstreamError
from wbstream.engine.isolation import clean_context, describe_exit, run_forked
from wbstream.engine.registry import adversaries, algorithms, problems
from wbstream.engine.result import GameResult

#: Largest outcome a worker may send (a GameResult is a few kB; transcripts are not recorded here).
MAX_OUTCOME_BYTES = 1 << 26

MALFORMED = "the game's process sent a malformed outcome"

#: How long a new worker may take to start (a cold fork server imports the catalogue first).
STARTUP_SECONDS = 120.0

_REGISTRIES = {"problem": problems, "algorithm": algorithms, "adversary": adversaries}


class ExecutorError(WbstreamError, RuntimeError):
    """An executor could not start (an unreachable Dask scheduler, a worker that never came up)."""


@dataclass
class Outcome:
    """What one task produced: a result, or an error or timeout message; and its wall time."""

    status: str
    result: GameResult | None
    error: str | None
    task_seconds: float


def play_bytes(matchup, seed: int) -> bytes:
    """Play one game in this process; the outcome as JSON bytes. Never raises (but may never return)."""
    try:
        result = matchup.game(seed).play()
        return json.dumps({"status": "ok", "result": result.to_dict()}).encode()
    except Exception as exc:  # a crashing algorithm or adversary is recorded, and the arena goes on
        return json.dumps({"status": "error", "error": f"{type(exc).__name__}: {exc}"}).encode()


def parse_outcome(data: bytes, task_seconds: float) -> Outcome:
    """The Outcome a worker sent; a malformed message is an error outcome saying so."""
    try:
        msg = json.loads(data)
        if msg.get("status") == "ok":
            return Outcome("ok", GameResult.from_dict(msg["result"]), None, task_seconds)
        if msg.get("status") == "error" and isinstance(msg.get("error"), str):
            return Outcome("error", None, msg["error"], task_seconds)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        pass
    return Outcome("error", None, MALFORMED, task_seconds)


def timeout_outcome(timeout: float, task_seconds: float) -> Outcome:
    return Outcome("timeout", None, f"the game ran past its {timeout:g} s limit (its process was killed)",
                   task_seconds)


def registrations() -> list[tuple[str, bytes]]:
    """Every registered class that pickles (by reference), to register in a worker."""
    out = []
    for kind, registry in _REGISTRIES.items():
        for name in registry.names():
            try:
                out.append((kind, pickle.dumps(registry.get(name))))
            except (pickle.PicklingError, TypeError, AttributeError):
                pass  # a class no other process can import: games using it fail there, as errors
    return out


def _register(classes: list[tuple[str, bytes]]) -> None:
    for kind, blob in classes:
        try:
            cls = pickle.loads(blob)
        except Exception:  # not importable here (defined in a script's __main__, say)
            continue
        registry = _REGISTRIES[kind]
        if cls.name not in registry:
            registry.register(cls)


def _worker(conn, classes, warm: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the arena's to handle: it kills its workers
    _register(classes)
    if warm:  # start this worker's own fork server now, not inside the first isolated game's time
        run_forked(int, seconds=STARTUP_SECONDS)
    conn.send_bytes(b"ready")
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the arena is gone
            return
        if task is None:
            return
        conn.send_bytes(play_bytes(*task))


class _Worker:
    """One worker process and the tasks sent to it, in order: the first is the one it plays.

    A worker starts ``up = False``; the arena sends it tasks once it says it is ready,
    so its start-up is neither a game's time nor part of a game's deadline.
    """

    def __init__(self, ctx, classes, warm: bool):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, classes, warm), daemon=False)
        self.proc.start()
        child.close()
        self.queue: deque = deque()
        self.up = False
        self.started = time.perf_counter()
        self.deadline = self.started + STARTUP_SECONDS

    def come_up(self, ready: set) -> None:
        """Mark the worker up if it said so; a worker that failed or is too slow to start stops the run."""
        if self.conn in ready or self.proc.sentinel in ready:
            try:
                if self.conn.recv_bytes(16) == b"ready":
                    self.up, self.deadline = True, math.inf
                    return
            except (EOFError, OSError):
                pass
        elif time.perf_counter() < self.deadline:
            return
        self.kill()
        if self.proc.exitcode == -signal.SIGKILL:
            raise ExecutorError(f"a game worker did not start within {STARTUP_SECONDS:g} s")
        raise ExecutorError(f"a game worker failed as it started ({describe_exit(self.proc.exitcode)}; its error "
                            f"is on stderr: a script read from stdin, say, cannot be imported by a worker)")

    def begin(self, now: float, timeout: float | None) -> None:
        """The first queued task counts as started now."""
        self.started = now
        self.deadline = now + timeout if timeout else math.inf

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()


class WorkerPool:
    """``size`` worker processes playing tasks ``(matchup, seed)``, each within ``timeout`` seconds.

    :meth:`run` pulls tasks lazily, as workers free up, and yields ``(task, Outcome)``
    as games end, in any order; the workers live for one :meth:`run`. Each worker
    holds up to ``depth`` tasks, so it starts its next game without waiting for the
    arena; a queued game's time and deadline count from when the arena receives the
    result before it (or sends it, to an idle worker). Tasks queued behind a game
    that timed out or died are played again by another worker. With ``warm``, each
    worker starts its own fork server before it takes a task, for games whose
    adversary plays from its own process.
    """

    def __init__(self, size: int, depth: int = 2):
        if size < 1 or depth < 1:
            raise ValueError(f"a worker pool needs at least one worker and one task each, got {size}, {depth}")
        self.size, self.depth = size, depth

    def run(self, tasks: Iterable, timeout: float | None, warm: bool = False) -> Iterator[tuple[object, Outcome]]:
        ctx, classes = clean_context(), registrations()
        source = _Tasks(tasks)
        workers: list[_Worker] = []

        def top_up() -> None:
            """Fill every worker that is up, and start workers while tasks remain."""
            for w in workers:
                if w.up:
                    self._fill(w, source, timeout)
            while source.more() and len(workers) < self.size:
                workers.append(_Worker(ctx, classes, warm))

        try:
            while True:
                top_up()
                busy = [w for w in workers if w.queue or not w.up]
                if not busy:
                    return
                wait_s = min(w.deadline for w in busy) - time.perf_counter()
                ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                                 None if wait_s == math.inf else max(0.0, wait_s)))
                done = []
                for w in busy:
                    if not w.up:
                        w.come_up(ready)
                        continue
                    outcome, keep = self._collect(w, ready, timeout)
                    if outcome is not None:
                        done.append((w.queue.popleft(), outcome))
                        if w.queue:
                            w.begin(time.perf_counter(), timeout)
                    if not keep:
                        w.kill()
                        workers.remove(w)
                        source.retry.extend(w.queue)  # never started: another worker plays them
                top_up()  # before the arena stores the results, so no worker waits for it
                yield from done
        finally:
            for w in workers:
                w.kill()

    def _fill(self, w: _Worker, source: _Tasks, timeout: float | None) -> None:
        while len(w.queue) < self.depth:
            task = source.next()
            if task is None:
                return
            if not w.queue:
                w.begin(time.perf_counter(), timeout)
            w.queue.append(task)
            try:
                w.conn.send(task)
            except OSError:  # it has died: the wait sees its end and hands its tasks on
                return

    @staticmethod
    def _collect(w: _Worker, ready: set, timeout: float | None) -> tuple[Outcome | None, bool]:
        """The outcome of a worker's current task if it has one (a result, a death, or the
        deadline), and whether the worker can go on."""
        now = time.perf_counter()
        if w.conn in ready or w.proc.sentinel in ready:
            try:
                outcome = parse_outcome(w.conn.recv_bytes(MAX_OUTCOME_BYTES), now - w.started)
                return outcome, outcome.error != MALFORMED and w.proc.is_alive()
            except (EOFError, OSError):
                w.proc.join()
                return Outcome("error", None, f"the game's process died while playing it "
                               f"({describe_exit(w.proc.exitcode)})", now - w.started), False
        if now >= w.deadline:
            return timeout_outcome(timeout, now - w.started), False
        return None, True


class _Tasks:
    """The tasks still to play: those handed back first, then the source, pulled one at a time."""

    def __init__(self, tasks: Iterable):
        self.pending, self.retry, self.exhausted = iter(tasks), deque(), False

    def more(self) -> bool:
        return bool(self.retry) or not self.exhausted

    def next(self):
        if self.retry:
            return self.retry.popleft()
        if self.exhausted:
            return None
        task = next(self.pending, None)
        self.exhausted = task is None
        return task
