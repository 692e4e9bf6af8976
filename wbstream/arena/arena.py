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
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from wbstream.engine.errors import WbstreamError
from wbstream.engine import keys
from wbstream.engine.keys import game_key, read_secret_file, secret_id, write_secret_file
from wbstream.engine.landlock import set_dumpable

from .executors import SerialExecutor
from .matchups import Matchup
from .store import ResultStore, StoreError

STORE_NAME = "results.sqlite"
LOCK_NAME = "arena.lock"
#: The run secret that keys every game's coins, written beside the store (mode 0600) when a run ends, for resume
#: and replay; while the games play it is only in memory.
SECRET_NAME = "secret"
#: One line per secret the directory's games were played under: when, its public id (``keys.secret_id``), why.
SECRET_LOG_NAME = "secrets.log"
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
              secret: bytes | None = None, on_wait: Callable[[str], None] | None = None,
              on_notice: Callable[[str], None] | None = None) -> ArenaRun:
    """Play every (matchup, trial) not yet in ``out_dir/results.sqlite``, writing each game as it ends.

    Trial t of a matchup uses seed ``seed + t``. ``progress(done, total)`` is called after each game.
    Tasks are made one at a time as the executor asks for them, each checked against the store
    just then, so any number of trials costs constant memory. One arena at a time plays into a
    directory: another one waits for its lock (``out_dir/arena.lock``), telling ``on_wait`` why.

    Every game's coins follow from the run secret, drawn from the OS on the first run and
    read back from ``out_dir/secret`` on later ones, so a resumed run plays the games it would
    have played. No secret is on disk while games play (an adversary's process runs as this
    user): a resumed run reads the file and removes it, and every run writes it (mode 0600) when
    it ends, normally, on an error or on Ctrl-C. A run killed outright (SIGKILL) cannot write it:
    its directory then holds games and no secret. Given that run's secret again (``secret``,
    checked against a stored game's key) the next run resumes with it; otherwise it plays the
    missing games under a fresh secret, says so (``on_notice``, else a warning), and records it
    in ``out_dir/secrets.log`` (one line per secret: its public id and why), so secrets never mix
    silently. Every stored game keeps its own key, so replay works either way; ``out_dir/secret``
    then re-creates only the games played under it. ``secret`` also sets the secret of a new
    directory (to play another run's games again); a directory that keeps another is refused.
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
    with arena_lock(out, on_wait), ResultStore(out / STORE_NAME) as store:
        kept = None
        try:
            kept, why = _take_secret(out, secret, store, matchups)
            if why is not None:
                _log_secret(out, kept, why, on_notice)
            matchups = [replace(m, secret=kept) for m in matchups]
            t_start = time.perf_counter()
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
            if warm:  # this process holds the secret: its /proc/<pid>/mem is closed to non-root peers
                set_dumpable(False)
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
        finally:
            _put_back(out, kept)
    return ArenaRun(total, skipped, played, errors, time.perf_counter() - t_start, game_s, overhead_s,
                    out / STORE_NAME)


def _take_secret(out: Path, secret: bytes | None, store: ResultStore,
                 matchups: list[Matchup]) -> tuple[bytes, str | None]:
    """The run's secret, now only in memory (``out/secret`` is removed), and why it is new here (None: resumed)."""
    path = out / SECRET_NAME
    if path.exists():
        kept = read_secret_file(path)
        if secret is not None and kept != secret:
            raise StoreError(f"{out} keeps the secret of another run; use a new directory to play with this one")
        try:
            path.unlink()
        except OSError as exc:
            raise StoreError(f"cannot take the run secret out of {out} while games play: {exc.strerror}") from None
        return kept, None
    if len(store):
        if secret is not None:
            if _check_secret(out, secret, store, matchups):
                return secret, None
            return secret, "given, unchecked: no stored game of these matchups to check it against"
        return keys.new_secret(), (f"fresh: the secret of the {len(store)} games stored before was lost (their run "
                                   f"was killed before it could write {SECRET_NAME})")
    return (secret, "given") if secret is not None else (keys.new_secret(), "new")


def _log_secret(out: Path, secret: bytes, why: str, on_notice: Callable[[str], None] | None) -> None:
    with open(out / SECRET_LOG_NAME, "a", encoding="utf-8") as log:
        log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} {secret_id(secret)} {why}\n")
    if why.startswith("fresh"):
        message = (f"{out}: the run secret is lost (the last run was killed before it could write it); the missing "
                   f"games play under a fresh secret, recorded in {out / SECRET_LOG_NAME}")
        if on_notice is not None:
            on_notice(message)
        else:
            warnings.warn(message, stacklevel=3)


def _check_secret(out: Path, secret: bytes, store: ResultStore, matchups: list[Matchup]) -> bool:
    """Refuse ``secret`` unless it gives the key of the last game stored (of these matchups): the lost secret's.

    False when no stored game could check it (none of these matchups, or none that ended ok)."""
    by_id = {m.id: m for m in matchups}
    for row in reversed(store.rows("ok")):
        m = by_id.get(row["matchup"])
        if m is not None and row["result"].game_key:
            try:
                expected = game_key(secret, m.game(row["seed"]).matchup, row["seed"]).hex()
            except WbstreamError:
                continue
            if expected != row["result"].game_key:
                raise StoreError(f"{out} holds the games of another run's secret; use a new directory "
                                 f"to play with this one")
            return True
    return False


def _put_back(out: Path, secret: bytes | None) -> None:
    """Write the run secret to ``out/secret`` (mode 0600) now that no game plays."""
    if secret is None:
        return
    try:
        write_secret_file(out / SECRET_NAME, secret)
    except FileExistsError:  # refused before it was taken out: the file is as it was
        pass
    except OSError as exc:
        raise StoreError(f"cannot write the run secret to {out / SECRET_NAME}: {exc.strerror} (the stored games "
                         f"keep their own keys, so they still replay)") from None


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
