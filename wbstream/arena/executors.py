"""Where the arena's games run: serially, in a local process pool, or on a Dask cluster.

Each executor takes ``(matchup, seed)`` tasks and yields ``(task, Outcome)`` as games
finish, in any order. A game never raises out of :func:`play_task`: a crash
becomes an ``error`` outcome with its message, and a game that runs past
``timeout`` seconds becomes a ``timeout`` outcome (enforced with SIGALRM in the
process that plays it; Dask runs tasks in worker threads, where that timer cannot
be set, so there each game runs in a forked child of the worker, on that child's
main thread, and the limit is enforced by killing the child).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass

from wbstream.engine.errors import WbstreamError
from wbstream.engine.isolation import ForkTimeout, run_forked
from wbstream.engine.result import GameResult

from .matchups import Matchup

Task = tuple[Matchup, int]


class ExecutorError(WbstreamError, RuntimeError):
    """An executor could not start (e.g. an unreachable Dask scheduler)."""


@dataclass
class Outcome:
    """What one task produced: a result, or an error or timeout message; and its wall time."""

    status: str
    result: GameResult | None
    error: str | None
    task_seconds: float


class GameTimeout(Exception):
    """Raised inside a game that overran its time limit."""


@contextmanager
def _time_limit(seconds: float | None):
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise GameTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def play_task(matchup: Matchup, seed: int, timeout: float | None = None) -> Outcome:
    """Play one game here and now; never raises."""
    t0 = time.perf_counter()
    try:
        with _time_limit(timeout):
            result = matchup.game(seed).play()
        return Outcome("ok", result, None, time.perf_counter() - t0)
    except GameTimeout:
        return Outcome("timeout", None, f"the game ran past its {timeout:g} s limit", time.perf_counter() - t0)
    except Exception as exc:  # a crashing algorithm or adversary is recorded, and the arena goes on
        return Outcome("error", None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)


def play_task_forked(matchup: Matchup, seed: int, timeout: float | None = None) -> Outcome:
    """:func:`play_task` in a forked child (for worker threads); never raises."""
    t0 = time.perf_counter()
    try:
        return run_forked(play_task, matchup, seed, None, seconds=timeout or 1e9)
    except ForkTimeout:
        return Outcome("timeout", None, f"the game ran past its {timeout:g} s limit", time.perf_counter() - t0)
    except Exception as exc:
        return Outcome("error", None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)


class SerialExecutor:
    """Every game in this process, one after another."""

    name = "serial"

    def run(self, tasks: Iterable[Task], timeout: float | None) -> Iterator[tuple[Task, Outcome]]:
        for m, seed in tasks:
            yield (m, seed), play_task(m, seed, timeout)

    def close(self):
        pass


class PoolExecutor:
    """A local pool of worker processes (forked, so everything registered here is there too)."""

    name = "pool"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1

    def run(self, tasks: Iterable[Task], timeout: float | None) -> Iterator[tuple[Task, Outcome]]:
        pending = list(tasks)
        while pending:
            with ProcessPoolExecutor(self.workers, mp_context=mp.get_context("fork")) as pool:
                futures = {pool.submit(play_task, m, s, timeout): (m, s) for m, s in pending}
                pending = []
                for fut in as_completed(futures):
                    task = futures[fut]
                    try:
                        yield task, fut.result()
                    except BrokenProcessPool:
                        # a worker died (e.g. a segfault): record it and play the rest in a new pool
                        yield task, Outcome("error", None, "a worker process died while playing this game", 0.0)
                        pending = [t for f, t in futures.items() if not f.done()]
                        break

    def close(self):
        pass


class DaskExecutor:
    """A Dask cluster: an existing scheduler (``tcp://host:port``) or a LocalCluster of n workers.

    Games run in forked children of the workers, so workers must not be daemonic:
    a LocalCluster is started that way; start external workers with the Dask config
    ``distributed.worker.daemon: false`` (e.g. ``DASK_DISTRIBUTED__WORKER__DAEMON=False``).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError("Dask is not installed: pip install 'wbstream[dist]'") from None
        self.cluster = None
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="5s")
            else:
                with dask.config.set({"distributed.worker.daemon": False}):
                    self.cluster = LocalCluster(n_workers=local_workers or 2, threads_per_worker=1,
                                                processes=True, dashboard_address=None)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise ExecutorError(f"cannot reach the Dask scheduler {scheduler or '(local)'}: {exc}") from None

    def run(self, tasks: Iterable[Task], timeout: float | None) -> Iterator[tuple[Task, Outcome]]:
        from distributed import as_completed as dask_completed

        tasks = list(tasks)
        futures = {self.client.submit(play_task_forked, m, s, timeout, pure=False): (m, s) for m, s in tasks}
        for fut in dask_completed(list(futures)):
            try:
                outcome = fut.result()
            except Exception as exc:
                outcome = Outcome("error", None, f"{type(exc).__name__}: {exc}", 0.0)
            yield futures[fut], outcome

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
