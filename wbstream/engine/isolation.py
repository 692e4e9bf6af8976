"""Run a function in a child process, forked from a clean fork server, with a time limit.

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


#: Modules the fork server imports once, so its children start warm.
PRELOAD = ["wbstream.builtin", "tenseal", "fpylll"]


def clean_context():
    """A multiprocessing context whose children fork from a clean fork server, not from this process.

    This process may hold library threads (TenSEAL's pools, BLAS, fpylll) whose locks
    a plain ``fork`` child can inherit mid-use and deadlock or crash on; the fork
    server is a fresh interpreter with none of them, started once (``PRELOAD`` imported).
    ``fn`` and its arguments must therefore pickle.
    """
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def run_forked(fn, *args, seconds: float):
    """``fn(*args)`` in a child of the fork server; its result, its exception, or :class:`ForkTimeout`."""
    ctx = clean_context()
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
