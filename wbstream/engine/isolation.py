"""Run work in child processes forked from a clean fork server, killable from outside.

Used where work must be stoppable from outside (a lattice reduction inside C
code, an arena game) or must run on a process's main thread (signal handlers,
e.g. fpylll's cysignals, when the caller is a worker thread).

Every child of :func:`clean_context` dies with the process that asked for it: it
gets ``PR_SET_PDEATHSIG`` (SIGKILL when the fork server exits) and drops its
inherited copy of the fork server's keep-alive pipe, so the fork server, and with
it the child, goes as soon as the requesting process does, SIGKILL included
(:func:`die_with_parent`). The same holds one level down: a child's own children
(an isolated adversary of a game in an arena worker) go with it.

>>> run_forked(sum, [1, 2, 3], seconds=10)
6
>>> run_forked_bytes(bytes, 3, seconds=10)
b'\\x00\\x00\\x00'
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import multiprocessing.forkserver  # noqa: F401 - loads mp.forkserver
import os
import pickle
import select
import signal
import sys
import time

PR_SET_PDEATHSIG = 1


class ForkTimeout(TimeoutError):
    """The child did not finish within its time limit (it has been killed)."""


#: Modules the fork server imports once, so its children start warm.
PRELOAD = ["wbstream.builtin", "tenseal", "fpylll"]


class CleanProcess(mp.context.ForkServerProcess):
    """A fork-server child that dies with its fork server (:func:`die_with_parent`), so with its requester."""

    def start(self):
        self._wbstream_server = fork_server_pid()
        super().start()

    def run(self):
        die_with_parent(getattr(self, "_wbstream_server", None))
        super().run()


class CleanContext(mp.context.ForkServerContext):
    Process = CleanProcess


_CONTEXT = CleanContext()


def clean_context():
    """A multiprocessing context whose children fork from a clean fork server, not from this process.

    This process may hold library threads (TenSEAL's pools, BLAS, fpylll) whose locks
    a plain ``fork`` child can inherit mid-use and deadlock or crash on; the fork
    server is a fresh interpreter with none of them, started once (``PRELOAD`` imported).
    ``fn`` and its arguments must therefore pickle. Its children die with this
    process (:class:`CleanProcess`), and their own children with them.
    """
    _CONTEXT.set_forkserver_preload(PRELOAD)
    return _CONTEXT


def fork_server_pid() -> int | None:
    """The pid of this process's fork server, started if need be (the parent of its children)."""
    server = mp.forkserver._forkserver
    server.ensure_running()
    return getattr(server, "_forkserver_pid", None)  # CPython keeps it there since 3.4


def die_with_parent(parent_pid: int | None) -> None:
    """In a fork-server child: die when the fork server does, and exit now if it already has.

    The fork server exits when every holder of its keep-alive pipe has closed it;
    each child inherits a copy, so it is closed here, leaving the requesting process
    the only holder. ``parent_pid`` is the fork server's pid as the requester saw it:
    the check after ``prctl`` closes the race of a parent that died before the call.
    """
    server = mp.forkserver._forkserver
    alive = getattr(server, "_forkserver_alive_fd", None)
    if alive is not None and getattr(server, "_forkserver_pid", None) is None:
        os.close(alive)
        server._forkserver_alive_fd = None
        server._forkserver_address = None  # this process starts its own fork server if it needs one
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def _child(fn, args, conn):
    try:
        conn.send((True, fn(*args)))
    except BaseException as exc:  # the parent re-raises it
        conn.send((False, exc))
    finally:
        conn.close()


def _child_bytes(fn, args, conn):
    conn.send_bytes(fn(*args))  # an exception ends the child with a non-zero exit code
    conn.close()


def _run(target, fn, args, seconds: float, decode, maxlength: int | None = None):
    """Start ``target`` in a child and read its one message, never past ``seconds``: a child that sends
    half a message, or announces too long a one, cannot hold or crash the caller."""
    from .sandbox_wire import FrameReader, TooLong

    ctx = clean_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(fn, args, child), daemon=True)
    proc.start()
    child.close()
    reader = FrameReader(parent.fileno(), maxlength)
    ready = select.poll()
    ready.register(parent.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
    end = time.monotonic() + seconds
    try:
        while (data := reader.message()) is None:
            wait = end - time.monotonic()
            if wait <= 0 or not ready.poll(wait * 1000.0):
                raise ForkTimeout(f"no result within {seconds:g} s")
            reader.fill()
        return decode(data)
    except EOFError:
        proc.join()
        raise RuntimeError(f"the child process died ({describe_exit(proc.exitcode)})") from None
    except TooLong as exc:
        raise RuntimeError(f"the child process sent {exc}") from None
    finally:
        proc.kill()
        proc.join()
        parent.close()


def run_forked(fn, *args, seconds: float):
    """``fn(*args)`` in a child of the fork server; its result, its exception, or :class:`ForkTimeout`.

    The result comes back pickled: use this only for work whose child is trusted.
    """
    ok, value = _run(_child, fn, args, seconds, pickle.loads)
    if not ok:
        raise value
    return value


def run_forked_bytes(fn, *args, seconds: float, maxlength: int = 1 << 26):
    """Like :func:`run_forked` for an ``fn`` returning bytes, which come back as bytes, never unpickled.

    A child that raises or dies is a RuntimeError naming its exit; past ``seconds`` it
    is killed and :class:`ForkTimeout` raised.
    """
    return _run(_child_bytes, fn, args, seconds, bytes, maxlength)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (under any user).

    >>> pid_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, under another user
        return True
    return True


def describe_exit(code: int | None) -> str:
    """A process exit code in words: ``killed by SIGSEGV``, ``exit code 3``.

    >>> describe_exit(-11), describe_exit(3)
    ('killed by SIGSEGV', 'exit code 3')
    """
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
