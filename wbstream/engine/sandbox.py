"""Process isolation: the adversary plays from its own process and sees only what its level grants.

``Game(..., isolation="process")`` wraps the adversary in an :class:`IsolatedAdversary`,
the referee-side proxy whose ``act(obs)`` the round loop calls as usual. The
adversary itself runs in a child forked from the engine's clean fork server
(:func:`~wbstream.engine.isolation.clean_context`), so no object of the referee's
process (coins, problem, algorithm, game) exists there. Each round the proxy sends
the round number, and the new answers when the level grants them; state, coins
and a detached copy of the algorithm travel only when the child asks, and only
if the referee's own record of the level grants them. Arrays arrive as raw bytes
and are rebuilt read-only over immutable memory.

What comes back is never unpickled: :mod:`~wbstream.engine.sandbox_wire` decodes
a tag byte and int64 (or float64 row) arrays strictly, and the round loop then
checks the batch as any other. An oblivious adversary computes its rounds in
blocks (it can: it sees only parameters and round numbers), and so does an
adaptive one up to the next query's round (no new answer can reach it before), so
isolation costs them one round trip per block, not per round. Messages travel
over two one-way pipes, framed as ``Connection.send_bytes`` frames them, and the
referee reads them with :class:`~wbstream.engine.sandbox_wire.FrameReader` (one
``read`` per small message; a partial message never blocks it past the timeout).
When the game ends the proxy asks for the adversary's notes (:meth:`IsolatedAdversary.notes`).

A child that crashes, hangs past the per-act timeout, sends garbage or too much,
or exits raises :class:`AdversaryError` (or :class:`AdversaryTimeout`); the child is
killed; the algorithm and the truth are as they were before that round. A child
still computing when the game's time budget runs out is killed and the game stops
with ``time-budget`` (:class:`TimeBudgetReached`, caught by the game).

>>> from wbstream.engine.game import Game
>>> r = Game("f2(n=64, M=8, eps=0.5)", "exact", "dense(rounds=5)", "oblivious", seed=3, isolation="process").play()
>>> r.failed, r.rounds, r.stop_reason
(False, 5, 'adversary-stopped')
"""

from __future__ import annotations

import os
import pickle
import select
import shutil
import tempfile
import time
from collections import deque

from . import landlock, sandbox_child, sandbox_wire as wire
from .errors import AdversaryError, ThreatModelError
from .isolation import clean_context, pid_alive

#: Seconds the referee waits for one ``act`` (a block, for an oblivious adversary) before it kills the child.
ACT_SECONDS = 60.0
#: The most updates one message may carry, whatever the update budget.
MAX_UPDATES = 10_000_000
#: Where isolation applies: ``"none"`` (in-process) or ``"process"``.
MODES = ("none", "process")


PRIVATE_PREFIX = "wbstream-adversary-"


def private_dir(prefix: str = PRIVATE_PREFIX) -> str:
    """A new directory for one sandboxed child (named by this process), after removing those of processes now
    gone (a referee killed before it could remove its own)."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        if name.startswith(prefix):
            pid = name[len(prefix):].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
                shutil.rmtree(os.path.join(base, name), ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


class AdversaryTimeout(AdversaryError):
    """The isolated adversary did not answer in time (it has been killed)."""


class TimeBudgetReached(AdversaryTimeout):
    """The game's time budget ran out while the isolated adversary computed (it has been killed).

    The game catches it and stops with ``time-budget``, as an in-process game whose
    adversary used up the budget does: it is not an error of the adversary.
    """


class IsolatedAdversary:
    """The referee's side of an adversary that runs in its own process.

    ``threat`` is the referee's record of the level: every request is checked
    against it, whatever the child believes its level to be.
    """

    def __init__(self, adv_cls, adv_opts: dict, threat, info, algorithm, *, max_rounds: int, max_updates: int,
                 seconds: float | None = None, act_seconds: float | None = None, query_every: int | None = None):
        self.adv_cls, self.adv_opts, self.threat, self.info = adv_cls, adv_opts, threat, info
        self.name = getattr(adv_cls, "name", adv_cls.__name__)
        self._alg = algorithm
        self.max_rounds = max_rounds
        self.cap = min(MAX_UPDATES, max_updates)
        self.max_bytes = 64 + 8 * sandbox_child.BLOCK_ROUNDS + 16 * self.cap + 4 * wire.MESSAGE_CHARS
        self.seconds, self.act_seconds = seconds, act_seconds or ACT_SECONDS
        # Rounds in blocks where the child learns nothing new between them: always at the oblivious
        # level; at the adaptive level up to the next query's round (its answer comes only after it).
        ahead = threat.capabilities - {"params", "round"}
        self._every = None if ahead else 0
        if ahead == {"answers"} and query_every is not None and query_every > 1:
            self._every = query_every
        self._blocks = self._every is not None
        self._proc = self._conn = self._out = self._private = None
        self._queue: deque = deque()
        self._end = None
        self._answers_sent = self._coins_sent = self._last = 0
        self._deadline = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def reset(self, params, rng) -> None:
        """Start the child with the adversary's class, options, the public parameters and its own generator."""
        self.close()
        if self.seconds is not None:
            self._deadline = time.perf_counter() + self.seconds
        ctx = clean_context()
        landlock.set_dumpable(False)  # the referee's /proc/<pid>/mem, environ, fds: closed to non-root peers
        self._private = private_dir()
        policy = landlock.policy_for(self.threat, self._private)
        # two one-way pipes, not a socket pair: a round trip over pipes costs about half as much
        inbox, child_out = ctx.Pipe(duplex=False)
        child_in, self._out = ctx.Pipe(duplex=False)
        self._conn = inbox
        self._proc = ctx.Process(target=sandbox_child.main, daemon=True, name=f"wbstream-adversary-{self.name}",
                                 args=((child_in, child_out), getattr(self.adv_cls, "_wbstream_plugin", None)
                                       or self.adv_cls, self.adv_opts, self.threat, params, self.info, rng, policy))
        try:
            self._proc.start()
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            self._proc = None
            inbox.close(), self._out.close()
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None
            raise AdversaryError(f"the adversary {self.name!r} cannot be isolated: its class or options do not "
                                 f"travel to a new process by name ({exc})") from None
        finally:
            child_in.close(), child_out.close()
        self._poll = select.poll()
        self._poll.register(inbox.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
        self._reader = wire.FrameReader(inbox.fileno(), self.max_bytes)
        self._out_fd = self._out.fileno()
        os.set_blocking(self._out_fd, False)  # a child that stops reading must not hold the referee (_send)
        self._queue.clear()
        self._end, self._answers_sent, self._coins_sent, self._last = None, 0, 0, 0

    def act(self, obs):
        r = self._last = obs.round
        if self._blocks:
            return self._from_block(obs, r)
        self._send(self._with_answers(b"A" + r.to_bytes(8, "little", signed=True), obs))
        kind, value = self._await(obs, r, 1)
        if kind not in ("batch", "stop"):
            raise self._fail(AdversaryError(f"the isolated adversary {self.name!r} sent {kind} in round {r}, "
                                            f"which it was not asked for"))
        return value

    def _with_answers(self, msg: bytes, obs) -> bytes:
        """``msg`` and the answers the child has not seen yet, if the level grants answers."""
        if "answers" in self.threat.capabilities:
            answers = obs._answers
            if len(answers) > self._answers_sent:
                msg += pickle.dumps(answers[self._answers_sent:])
                self._answers_sent = len(answers)
        return msg

    def notes(self, obs) -> str | None:
        """The adversary's notes once the game is over, as they stood after the last round played.

        They come back as a bounded UTF-8 string (:func:`~wbstream.engine.sandbox_wire.encode_notes`),
        never unpickled; ``obs`` brings the child the answers it has not seen (the final query's).
        """
        if self._proc is None:
            return None
        self._deadline = None  # the game is over, its time budget too: only the per-act timeout bounds this
        msg = b"T" + self._last.to_bytes(8, "little", signed=True)
        self._send(self._with_answers(msg, obs))
        kind, value = self._await(obs, self._last, 0)
        if kind != "notes":
            raise self._fail(AdversaryError(f"the isolated adversary {self.name!r} sent {kind} when asked "
                                            f"for its notes"))
        return value

    def _from_block(self, obs, r: int):
        if not self._queue:
            if self._end is not None:
                stop, message = self._end
                if stop == wire.STOPPED:
                    return None
                raise self._fail(AdversaryError(f"the isolated adversary {self.name!r} raised in round {r}: "
                                                f"{message}"))
            limit = min(sandbox_child.BLOCK_ROUNDS, self.max_rounds - r + 1)
            if self._every:  # up to the next query's round, whose answer the child cannot have seen
                limit = min(limit, -(-r // self._every) * self._every - r + 1)
            self._send(self._with_answers(b"K" + b"".join(v.to_bytes(8, "little", signed=True)
                                                          for v in (r, limit, self.cap)), obs))
            kind, value = self._await(obs, r, limit)
            if kind == "block":
                batches, stop, message = value
                if not batches and stop == wire.MORE:
                    raise self._fail(AdversaryError(f"the isolated adversary {self.name!r} sent an empty block"))
                self._queue.extend(batches)
                self._end = None if stop == wire.MORE else (stop, message)
            elif kind in ("batch", "stop"):
                self._queue.append(value)
            else:
                raise self._fail(AdversaryError(f"the isolated adversary {self.name!r} sent {kind} in round {r}, "
                                                f"which it was not asked for"))
            return self._from_block(obs, r)
        return self._queue.popleft()

    # -- the channel -----------------------------------------------------------------------------
    def _limit(self, now: float) -> tuple[float, bool]:
        """When a wait begun at ``now`` ends, and whether the game's time budget (not the per-act timeout) ends it."""
        end = now + self.act_seconds
        if self._deadline is not None and self._deadline <= end:
            return self._deadline, True
        return end, False

    def _send(self, data: bytes) -> None:
        if self._proc is None:
            raise AdversaryError(f"the isolated adversary {self.name!r} is not running (reset it first)")
        end, by_budget = self._limit(time.perf_counter())
        try:
            wire.send(self._out_fd, data, end)
        except wire.WriteTimeout:
            budget = "the game's time budget" if by_budget else f"{self.act_seconds:g} s"
            raise self._fail(AdversaryTimeout(f"the isolated adversary {self.name!r} did not read what the "
                                              f"referee sent within {budget}; it was killed")) from None
        except OSError:
            raise self._fail(AdversaryError(f"the isolated adversary {self.name!r} exited "
                                            f"(exit code {self._proc.exitcode})")) from None

    def _await(self, obs, r: int, rounds: int):
        """The child's reply to this round, serving its requests meanwhile."""
        end = by_budget = None
        while True:
            try:
                data = self._reader.message()
            except wire.TooLong:
                raise self._fail(AdversaryError(f"the isolated adversary {self.name!r} sent a message of more "
                                                f"than {self.max_bytes:,} bytes in round {r}")) from None
            if data is None:  # wait for more bytes, never past the timeout: a partial message blocks nothing
                now = time.perf_counter()
                if end is None:
                    end, by_budget = self._limit(now)
                wait = end - now
                if wait <= 0 or not self._poll.poll(max(wait, 0.0) * 1000.0):  # a C poll: no selector per round
                    if by_budget:  # the game's budget ran out, not a hang
                        raise self._fail(TimeBudgetReached(f"the game's time budget ran out while the isolated "
                                                           f"adversary {self.name!r} computed round {r}"))
                    raise self._fail(AdversaryTimeout(f"the isolated adversary {self.name!r} did not answer round "
                                                      f"{r} within {self.act_seconds:g} s; it was killed"))
                try:
                    self._reader.fill()
                except (EOFError, OSError):  # the child is gone
                    self._proc.join(1)
                    raise self._fail(AdversaryError(f"the isolated adversary {self.name!r} exited in round {r} "
                                                    f"(exit code {self._proc.exitcode})")) from None
                continue
            try:
                kind, value = wire.decode(data, self.cap, rounds)
            except AdversaryError as exc:
                raise self._fail(exc) from None
            if kind == "request":
                self._serve(obs, value)
            elif kind == "error":
                raise self._fail(AdversaryError(f"the isolated adversary {self.name!r} raised in round {r}: {value}"))
            else:
                return kind, value

    def _serve(self, obs, what: str) -> None:
        """Answer a request if the referee's record of the level grants it, else refuse with the reason."""
        try:
            if what == "state":
                payload = sandbox_child.freeze(obs.state())
            elif what == "coins":
                draws = obs.coins
                payload = draws[self._coins_sent:]  # each draw holds immutable bytes
                self._coins_sent = len(draws)
            else:
                if "simulate" not in self.threat.capabilities:
                    raise ThreatModelError(f"the {self.threat.name} threat model does not reveal a simulation "
                                           f"of the algorithm")
                payload = pickle.dumps(self._alg.detached_copy())
            reply = (True, payload)
        except ThreatModelError as exc:
            reply = (False, str(exc))
        self._send(pickle.dumps(reply, protocol=5))

    def _fail(self, exc: AdversaryError) -> AdversaryError:
        self.close()
        return exc

    def close(self) -> None:
        """Kill the child (if it runs) and wait for it: no process is left behind."""
        proc, conns, private = self._proc, (self._conn, self._out), self._private
        self._proc = self._conn = self._out = self._private = None
        if proc is not None:
            proc.kill()
            proc.join()
        for conn in conns:
            if conn is not None:
                conn.close()
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass
