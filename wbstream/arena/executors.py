"""Where the arena's games run: in worker processes on this machine, or on a Dask cluster.

Each executor takes an iterable of ``(matchup, seed)`` tasks, pulls them lazily as
workers free up, and yields ``(task, Outcome)`` as games finish, in any order. A
game never takes the arena down: a crash becomes an ``error`` outcome with its
message, a process that dies an ``error`` outcome naming how, and a game still
running ``timeout`` seconds after it started a ``timeout`` outcome. The time limit
is the referee's, never the game's: the arena kills the process playing the game
at the deadline (SIGKILL), so nothing the game does (catching exceptions, blocking
in C, resetting timers) can stretch it.

* :class:`SerialExecutor`: one worker process, one game at a time;
* :class:`PoolExecutor`: one worker process per CPU (:mod:`wbstream.arena.workers`);
* :class:`DaskExecutor`: each game in a child forked by a Dask worker, killed at the deadline.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator

from wbstream.engine.isolation import ForkTimeout, run_forked_bytes

from .matchups import Matchup
from .workers import MAX_OUTCOME_BYTES, ExecutorError, Outcome, WorkerPool, parse_outcome, play_bytes, timeout_outcome

Task = tuple[Matchup, int]

__all__ = ["DaskExecutor", "ExecutorError", "Outcome", "PoolExecutor", "SerialExecutor", "Task",
           "play_task_forked"]


def play_task_forked(matchup: Matchup, seed: int, timeout: float | None = None) -> str:
    """One game in a forked child, killed at ``timeout``; the Outcome as JSON (never raises).

    For Dask worker threads: the child plays on its own main thread, and sends its
    outcome back as bytes, never a pickle.
    """
    t0 = time.perf_counter()
    try:
        data = run_forked_bytes(play_bytes, matchup, seed, seconds=timeout or 1e9, maxlength=MAX_OUTCOME_BYTES)
        outcome = parse_outcome(data, time.perf_counter() - t0)
    except ForkTimeout:
        outcome = timeout_outcome(timeout, time.perf_counter() - t0)
    except Exception as exc:
        outcome = Outcome("error", None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)
    result = outcome.result.to_dict() if outcome.result is not None else None
    return json.dumps({"status": outcome.status, "result": result, "error": outcome.error,
                       "task_seconds": outcome.task_seconds})


def _outcome_from_json(text: str) -> Outcome:
    from wbstream.engine.result import GameResult

    msg = json.loads(text)
    result = GameResult.from_dict(msg["result"]) if msg["result"] is not None else None
    return Outcome(msg["status"], result, msg["error"], msg["task_seconds"])


class SerialExecutor:
    """One game at a time, in one worker process (killed and replaced at a game's deadline).

    >>> SerialExecutor().workers
    1
    """

    name = "serial"
    workers = 1

    def run(self, tasks: Iterable[Task], timeout: float | None, warm: bool = False) -> Iterator[tuple[Task, Outcome]]:
        """``warm``: some games isolate their adversary, so each worker starts its own fork server first."""
        return WorkerPool(self.workers).run(tasks, timeout, warm)

    def close(self):
        pass


class PoolExecutor(SerialExecutor):
    """A local pool of worker processes, one per CPU unless ``workers`` says otherwise."""

    name = "pool"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1


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

    def run(self, tasks: Iterable[Task], timeout: float | None, warm: bool = False) -> Iterator[tuple[Task, Outcome]]:
        from distributed import as_completed as dask_completed

        pending = iter(tasks)
        in_flight: dict = {}
        limit = 2 * max(1, sum(self.client.nthreads().values()))  # tasks are pulled as games end

        def submit() -> bool:
            task = next(pending, None)
            if task is None:
                return False
            fut = self.client.submit(play_task_forked, *task, timeout, pure=False)
            in_flight[fut] = task
            completed.add(fut)
            return True

        completed = dask_completed()
        while len(in_flight) < limit and submit():
            pass
        for fut in completed:
            task = in_flight.pop(fut)
            submit()
            try:
                outcome = _outcome_from_json(fut.result())
            except Exception as exc:  # the Dask worker itself failed
                outcome = Outcome("error", None, f"{type(exc).__name__}: {exc}", 0.0)
            yield task, outcome

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
