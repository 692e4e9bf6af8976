"""The arena: play a suite of matchups, store every game, resume where a run stopped.

>>> import tempfile
>>> from wbstream.arena.matchups import Matchup
>>> m = Matchup("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)", "kernel-injection", "white-box")
>>> with tempfile.TemporaryDirectory() as d:
...     run = run_arena([m], trials=2, seed=0, out_dir=d, executor=SerialExecutor())
...     again = run_arena([m], trials=2, seed=0, out_dir=d, executor=SerialExecutor())
>>> run.played, again.played, again.skipped
(2, 0, 2)
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from wbstream.engine.keys import load_or_create_secret

from .executors import SerialExecutor
from .matchups import Matchup
from .store import ResultStore, StoreError

STORE_NAME = "results.sqlite"
LOCK_NAME = "arena.lock"
#: The run secret that keys every game's coins, kept beside the store (mode 0600) for resume and replay.
SECRET_NAME = "secret"
DEFAULT_TIMEOUT = 300.0


@dataclass
class ArenaRun:
    """What one arena run did, with its own timing."""

    total: int
    skipped: int
    played: int
    errors: int
    wall_seconds: float
    game_seconds: float
    overhead_seconds: float
    store: Path

    @property
    def overhead_fraction(self) -> float:
        """The arena's time per game on top of the games' own, as a fraction of the latter."""
        return self.overhead_seconds / self.game_seconds if self.game_seconds else 0.0


def run_arena(matchups: list[Matchup], *, trials: int, seed: int, out_dir: str | Path, executor=None,
              timeout: float | None = DEFAULT_TIMEOUT, progress: Callable[[int, int], None] | None = None,
              secret: bytes | None = None, on_wait: Callable[[str], None] | None = None) -> ArenaRun:
    """Play every (matchup, trial) not yet in ``out_dir/results.sqlite``, writing each game as it ends.

    Trial t of a matchup uses seed ``seed + t``. ``progress(done, total)`` is called after each game.
    Tasks are made one at a time as the executor asks for them, each checked against the store
    just then, so any number of trials costs constant memory. One arena at a time plays into a
    directory: another one waits for its lock (``out_dir/arena.lock``), telling ``on_wait`` why.

    Every game's coins follow from the run secret in ``out_dir/secret``, drawn from the OS on the
    first run and read back on later ones, so a resumed run plays the games it would have played.
    ``secret`` sets it for a new directory (to play the games of another run again); a directory
    that already keeps another secret is refused.
    """
    if not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the output directory {out}: {exc.strerror}") from None
    executor = executor or SerialExecutor()
    total = sum(m.trials(trials) for m in matchups)
    with arena_lock(out, on_wait):
        try:
            kept = load_or_create_secret(out / SECRET_NAME, secret)
        except OSError as exc:
            raise StoreError(f"cannot keep the run secret in {out}: {exc.strerror}") from None
        if secret is not None and kept != secret:
            raise StoreError(f"{out} keeps the secret of another run; use a new directory to play with this one")
        matchups = [replace(m, secret=kept) for m in matchups]
        t_start = time.perf_counter()
        with ResultStore(out / STORE_NAME) as store:
            skipped = played = errors = 0
            game_s = overhead_s = 0.0

            def tasks():
                nonlocal skipped
                for m in matchups:
                    for t in range(m.trials(trials)):
                        if m.key(seed + t) in store:
                            skipped += 1
                        else:
                            yield m, seed + t

            warm = any(m.isolation_mode() == "process" for m in matchups)
            for (m, s), outcome in executor.run(tasks(), timeout, warm=warm):
                t0 = time.perf_counter()
                written = store.add(m.key(s), matchup=m.id, problem=m.problem, algorithm=m.algorithm,
                                    adversary=m.adversary, threat=m.threat, seed=s, status=outcome.status,
                                    result=outcome.result, error=outcome.error, task_seconds=outcome.task_seconds,
                                    if_absent=True)
                write_s = time.perf_counter() - t0
                if not written:  # stored meanwhile by a writer that ignored the lock: theirs stays
                    skipped += 1
                    continue
                played += 1
                if outcome.status == "ok":
                    game_s += outcome.result.wall_seconds
                    overhead_s += max(0.0, outcome.task_seconds - outcome.result.wall_seconds) + write_s
                else:
                    errors += 1
                if progress is not None:
                    progress(skipped + played, total)
    return ArenaRun(total, skipped, played, errors, time.perf_counter() - t_start, game_s, overhead_s,
                    out / STORE_NAME)


@contextmanager
def arena_lock(out: Path, on_wait: Callable[[str], None] | None = None):
    """Hold ``out/arena.lock`` (an exclusive ``flock``), waiting for another arena to release it.

    The kernel releases the lock when its holder exits, SIGKILL included, so a killed
    arena never leaves a stale lock.
    """
    path = out / LOCK_NAME
    try:
        f = open(path, "a+")
    except OSError as exc:
        raise StoreError(f"cannot open the arena lock {path}: {exc.strerror}") from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            if on_wait is not None:
                on_wait(f"another arena (pid {holder}) is playing into {out}; waiting for it to finish")
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        yield
