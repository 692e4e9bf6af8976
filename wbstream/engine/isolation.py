"""Run a function in a forked child process, with a time limit.

Used where work must be stoppable from outside (a lattice reduction inside C
code) or must run on a process's main thread (signal handlers, e.g. fpylll's
cysignals, when the caller is a worker thread).

>>> run_forked(sum, [1, 2, 3], seconds=10)
6
"""

from __future__ import annotations

import multiprocessing as mp


class ForkTimeout(TimeoutError):
    """The child did not finish within its time limit (it has been killed)."""


def _child(fn, args, conn):
    try:
        conn.send((True, fn(*args)))
    except BaseException as exc:  # the parent re-raises it
        conn.send((False, exc))
    finally:
        conn.close()


def run_forked(fn, *args, seconds: float):
    """``fn(*args)`` in a forked child; its result, its exception, or :class:`ForkTimeout`."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, args, child), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(seconds):
            raise ForkTimeout(f"no result within {seconds:g} s")
        try:
            ok, value = parent.recv()
        except EOFError:
            raise RuntimeError(f"the child process died (exit code {proc.exitcode})") from None
        if not ok:
            raise value
        return value
    finally:
        proc.kill()
        proc.join()
