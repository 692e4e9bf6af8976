"""The distributed game (FJW'24's distributed model): s servers, a coordinator, an adversary driving the servers.

Each round the adversary returns a :class:`Batch`, whose update of coordinate i goes
to server ``i mod s`` (each coordinate lives on one server, so any stream a
single-stream adversary plays keeps every server within the promise), or a dict
``{server: Batch}`` that puts updates on chosen servers. The referee checks every
server's part and the sum against the promise ``|x_i| <= M`` before anything
changes. When a query is due, every server sends its message (plain: its merged
sketch entries; ``bfv``: those entries BFV-encrypted, summed by an untrusted
aggregator), and the coordinator merges them (decrypting the sum, for ``bfv``) into
its own copy of the sketch and answers. The referee judges the answer on the sum.

What the adversary sees (:class:`DistributedObservation`): the public parameters
and round always; the answers from ``adaptive`` on; from ``state-only`` on, what
travels and what the aggregator stores (``aggregate()``: the merged plain entries,
or the ciphertexts and public context); at ``white-box``, every server's full state
and coin log, and the BFV secret context (logged as the coordinator's coin
``he/secret-context``, see :func:`wbstream.engine.coins.Coins.adopt`). A server's
state holds its coin-derived keys, so it is shown with the coins.

The record (:class:`DistributedResult`) adds to a :class:`GameResult`: bits sent per
server and in total (the bytes of the messages actually sent), the declared sketch
bits per server, and server and coordinator seconds.

>>> g = DistributedGame("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)",
...                     "random-sparse(rounds=4)", "white-box", servers=3, executor="inline", seed=1)
>>> r = g.play()
>>> r.failed, r.servers, len(r.comm_bits_per_server), r.comm_bits_total == sum(r.comm_bits_per_server)
(False, 3, 3, True)
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from wbstream.crypto.he import BfvKeyHolder, BfvParams, HEError
from wbstream.distributed.encrypted import SECRET_LABEL, EncryptedAggregation
from wbstream.distributed.wire import read_bfv, read_plain
from wbstream.distributed.servers import (
    DaskServer,
    InlineServer,
    ProcessServer,
    ServerError,
    SketchFactory,
)
from wbstream.engine.coins import Coins
from wbstream.engine.errors import MergeError, SpecError, StreamError, ThreatModelError
from wbstream.engine.game import Game, _record_failure
from wbstream.engine.keys import adversary_rng
from wbstream.engine.observation import AlgorithmInfo, frozen_view
from wbstream.engine.result import GameResult
from wbstream.engine.stream import Batch, as_batch

AGGREGATIONS = ("plain", "bfv")
EXECUTORS = ("inline", "process", "dask")


class VoidGame(ServerError):
    """A server failed while the servers applied a batch: their sketches disagree, so the game has no verdict."""


@dataclass
class DistributedResult(GameResult):
    """A :class:`GameResult` plus the distributed figures (bits and seconds per party)."""

    servers: int = 0
    aggregation: str = "plain"
    executor: str = "process"
    reports: int = 0
    comm_bits_per_server: list[int] = field(default_factory=list)
    comm_bits_total: int = 0
    message_bits: int = 0
    declared_bits_per_server: int = 0
    server_seconds: list[float] = field(default_factory=list)
    coordinator_seconds: float = 0.0


class DistributedObservation:
    """The adversary's view of a distributed game, gated by its threat model."""

    def __init__(self, game: _Play):
        self._g = game
        self.threat, self.params, self.algorithm = game.threat, game.problem.params, game.info
        self.servers = len(game.servers)
        self.round = 0
        self._answers: list[tuple[int, object]] = []

    def _require(self, capability: str, what: str) -> None:
        if capability not in self.threat.capabilities:
            raise ThreatModelError(f"the {self.threat.name} threat model does not reveal {what}")

    @property
    def answers(self):
        self._require("answers", "the coordinator's answers")
        return tuple(self._answers)

    def aggregate(self):
        """What travels and what the aggregator holds: merged plain entries, or ciphertexts (state-only and up)."""
        self._require("state", "the aggregator's state")
        return frozen_view(dict(self._g.aggregate_view))

    def state(self):
        """White-box: the coordinator's full state (the shared keys and the last merged sketch), so
        single-stream white-box adversaries apply unchanged; below: what the aggregator holds."""
        if "coins" in self.threat.capabilities:
            return frozen_view(self._g.coordinator.state())
        return self.aggregate()

    def simulate(self, rng: np.random.Generator):
        """White-box: a private copy of the coordinator's sketch (as of the last report), future coins from ``rng``."""
        self._require("simulate", "a simulation of the coordinator")
        real = self._g.coordinator_coins
        return copy.deepcopy(self._g.coordinator, memo={id(real): Coins.from_rng(rng)})

    def server_state(self, i: int):
        """Server i's full state, keys included (white-box: its keys are coins)."""
        self._require("coins", "a server's state (it holds the server's coin-derived keys)")
        return frozen_view(self._g.servers[i].state())

    def server_coins(self, i: int):
        self._require("coins", "a server's coins")
        return self._g.servers[i].coin_log()

    @property
    def coins(self):
        """The coordinator's coin log (its sketch keys and, for bfv, the logged BFV secret context)."""
        self._require("coins", "the coordinator's coins")
        return self._g.coordinator_coins.log


class DistributedGame(Game):
    """A game with ``servers`` servers and a coordinator; ``aggregation`` is ``plain`` or ``bfv``.

    Specs and options as for :class:`~wbstream.engine.game.Game`; ``executor`` is
    ``process`` (each server a process forked from a clean fork server), ``dask`` (each
    server a Dask actor on a cluster: the scheduler at ``scheduler``, or a local cluster
    of two workers) or ``inline``; ``poly_degree`` is the BFV ring degree (the plaintext
    modulus is chosen by :class:`BfvParams`).
    """

    def __init__(self, problem, algorithm, adversary, threat="white-box", *, servers: int = 2,
                 aggregation: str = "plain", executor: str = "process", poly_degree: int = 4096,
                 scheduler: str | None = None, **options):
        super().__init__(problem, algorithm, adversary, threat, **options)
        if not isinstance(servers, int) or servers < 1:
            raise SpecError(f"servers must be a positive integer, got {servers!r}")
        if aggregation not in AGGREGATIONS:
            raise SpecError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
        if executor not in EXECUTORS:
            raise SpecError(f"executor must be one of {tuple(EXECUTORS)}, got {executor!r}")
        self.servers, self.aggregation, self.executor, self.poly_degree = servers, aggregation, executor, poly_degree
        self.scheduler = scheduler

    def play(self) -> DistributedResult:
        play = _Play(self)
        try:
            return play.run()
        finally:
            play.close()


class _Play:
    """One play of a distributed game (the state of the parties)."""

    def __init__(self, game: DistributedGame):
        self.game, self.threat = game, game.threat
        self.problem = game.problem_cls(**game.problem_opts)
        self.parts = [game.problem_cls(**game.problem_opts) for _ in range(game.servers)]
        params, cls, opts = self.problem.params, game.alg_cls, game.alg_opts
        self.key = game.key_for(game.seed)
        self.info = AlgorithmInfo(cls.name, game.alg_spec, cls)
        self.coordinator_coins = Coins.for_game(self.key)
        self.coordinator = game.build_algorithm(params, self.coordinator_coins)
        if not self.coordinator.merge_moduli():
            raise SpecError(f"algorithm {cls.name!r} is not mergeable, so it cannot run distributed")
        self.zero = {k: np.zeros_like(v) if isinstance(v, np.ndarray) else 0
                     for k, v in self.coordinator.state().items() if k in self.coordinator.merge_moduli()}
        self.servers = []
        self.dask = None
        try:
            self._start_servers(game, params, self.key, cls, opts)
        except BaseException:  # a server or the cluster failed to start: stop the ones that did
            self.close()
            raise

    def _start_servers(self, game: DistributedGame, params, key: bytes, cls, opts) -> None:
        if game.executor == "dask":
            from wbstream.arena.executors import DaskExecutor

            self.dask = DaskExecutor(game.scheduler, local_workers=2)
            make = lambda f, name: DaskServer(f, self.dask.client, name)  # noqa: E731
        else:
            make = ProcessServer if game.executor == "process" else InlineServer
        for i in range(game.servers):  # in other processes: servers never hold the BFV secret
            self.servers.append(make(SketchFactory(cls, params, key, dict(opts)), f"server {i}"))
        self.entries = sum(int(np.size(v)) for v in self.zero.values())  # what each message carries
        self.pipeline = None
        if game.aggregation == "bfv":
            keys = BfvKeyHolder.generate(BfvParams(game.poly_degree))
            self.coordinator_coins.adopt(SECRET_LABEL, keys.secret_bytes())
            self.pipeline = EncryptedAggregation(self.coordinator, game.servers, keys)
            for s in self.servers:
                s.set_encryptor(self.pipeline.encryptor)
        self.aggregate_view: dict = {}

    def close(self):
        try:
            for s in self.servers:
                s.close()
        finally:
            if self.dask is not None:
                self.dask.close()

    def route(self, batch, r: int) -> dict[int, Batch]:
        if isinstance(batch, dict):
            routed = {}
            for i, b in batch.items():
                if not isinstance(i, (int, np.integer)) or not 0 <= i < len(self.servers):
                    raise StreamError(f"server {i!r} is not one of the {len(self.servers)} servers")
                routed[int(i)] = as_batch(b)
            return routed
        batch = as_batch(batch)
        owner = batch.indices % len(self.servers)  # coordinate i lives on server i mod s
        return {int(j): Batch(batch.indices[owner == j], batch.deltas[owner == j]) for j in np.unique(owner)}

    def apply(self, routed: dict[int, Batch], res: DistributedResult, r: int = 0) -> None:
        """Validate every server's part and the sum, then have every server update at once.

        A refused batch changes nothing. A server that fails, dies or stalls while the
        others apply their parts leaves the sketches disagreeing with each other and
        with the truth: the game is void (:class:`VoidGame`), never judged.
        """
        plans = {i: self.parts[i].validate(b) for i, b in routed.items()}
        total = self.problem.validate(Batch.concat(list(routed.values())))
        applied: list[int] = []
        try:
            tickets = {i: self.servers[i].send("update", b.indices, b.deltas, units=len(b)) for i, b in routed.items()}
            for i, ticket in tickets.items():
                res.server_seconds[i] += self.servers[i].receive(ticket)[1]
                applied.append(i)
        except ServerError as exc:
            done = f"servers {applied} had applied their parts" if applied else "no server had confirmed its part"
            raise VoidGame(f"the game is void: {exc.args[0].splitlines()[0]} during round {r}'s batch; {done}, "
                           f"so the sketches disagree and no verdict is recorded") from None
        for i in routed:
            self.parts[i].commit(plans[i])
        self.problem.commit(total)
        res.updates += sum(len(b) for b in routed.values())

    def report(self, res: DistributedResult) -> object:
        """Servers send, the coordinator merges and answers; bits and seconds are recorded."""
        coordinator_s = 0.0
        messages = []
        tickets = [s.send("message", units=self.entries) for s in self.servers]  # all servers at once
        for i, (s, ticket) in enumerate(zip(self.servers, tickets)):
            payload, seconds = s.receive(ticket)
            if not isinstance(payload, bytes):
                raise ServerError(f"{s.name} sent a message that is not bytes")
            res.server_seconds[i] += seconds
            res.comm_bits_per_server[i] += 8 * len(payload)
            messages.append(payload)
        res.message_bits = max(8 * len(m) for m in messages)
        t0 = time.perf_counter()
        alg = self.coordinator
        alg.load_merged(self.zero)
        if self.pipeline is None:
            for m in messages:
                fingerprint, values = read_plain(m)
                if fingerprint != alg.merge_fingerprint():
                    raise MergeError("a server's message was made with other parameters or keys")
                alg.add_merged(values)
            self.aggregate_view = {k: v for k, v in alg.state().items() if k in alg.merge_moduli()}
        else:
            aggregate = self.pipeline.start()
            for m in messages:
                self.pipeline.add(aggregate, read_bfv(m))
            self.aggregate_view = {"public_context": self.pipeline.public,
                                   "aggregate": MappingProxyType(self.pipeline.serialized(aggregate))}
            self.pipeline.decrypt_into(aggregate, alg)
        answer = alg.query()
        coordinator_s += time.perf_counter() - t0
        res.coordinator_seconds += coordinator_s
        res.reports += 1
        return answer

    def run(self) -> DistributedResult:
        g = self.game
        wall0 = time.perf_counter()
        res = DistributedResult(problem=g.problem_spec, algorithm=g.alg_spec, adversary=g.adv_spec,
                                threat=g.threat.name, seed=g.seed, query_every=g.query_every,
                                budget_rounds=g.budget.rounds, budget_updates=g.budget.updates,
                                budget_seconds=g.budget.seconds, budget_max_batch=g.budget.max_batch,
                                servers=len(self.servers),
                                aggregation=g.aggregation, executor=g.executor,
                                comm_bits_per_server=[0] * len(self.servers),
                                server_seconds=[0.0] * len(self.servers))
        adversary = g.adv_cls(**g.adv_opts)
        adversary.reset(self.problem.params, adversary_rng(self.key))
        obs = DistributedObservation(self)
        self.coordinator_coins.clock = obs
        max_rounds = g.budget.rounds if g.budget.rounds is not None else 1 << 62
        max_updates = g.budget.updates if g.budget.updates is not None else 1 << 62
        deadline = time.perf_counter() + g.budget.seconds if g.budget.seconds is not None else None
        r = last_query = 0
        adv_s = 0.0
        res.stop_reason = "round-budget"
        while r < max_rounds:
            if deadline is not None and time.perf_counter() > deadline:
                res.stop_reason = "time-budget"
                break
            r += 1
            obs.round = r
            t0 = time.perf_counter()
            batch = adversary.act(obs)
            adv_s += time.perf_counter() - t0
            if batch is None:
                res.stop_reason, r = "adversary-stopped", r - 1
                break
            routed = self.route(batch, r)
            size = sum(len(b) for b in routed.values())
            if g.budget.max_batch is not None and size > g.budget.max_batch:
                raise StreamError(f"round {r}: a batch of {size:,} updates exceeds the budget's "
                                  f"max_batch = {g.budget.max_batch:,}; send it over several rounds")
            if res.updates + size > max_updates:
                res.stop_reason, r = "update-budget", r - 1
                break
            self.apply(routed, res, r)
            if r % g.query_every == 0:
                last_query = r
                if not self._judge(res, obs, r) and g.stop_on_failure:
                    res.stop_reason = "failure"
                    break
        if r > last_query:
            obs.round = r
            self._judge(res, obs, r)
        res.rounds = r
        space = self.coordinator.space()
        res.space_state_bits, res.space_key_bits, res.space_nbytes = space.state_bits, space.key_bits, space.nbytes
        res.declared_bits_per_server = space.state_bits
        res.comm_bits_total = sum(res.comm_bits_per_server)
        res.adversary_seconds = adv_s
        res.game_key = self.key.hex()
        res.wall_seconds = time.perf_counter() - wall0
        return res

    def _judge(self, res: DistributedResult, obs: DistributedObservation, r: int) -> bool:
        t0 = time.perf_counter_ns()
        answer = self.report(res)
        res.query_ns_median = float(time.perf_counter_ns() - t0)
        res.queries += 1
        verdict = self.problem.judge(answer)
        obs._answers.append((r, answer))
        if not verdict.correct:
            _record_failure(res, r, verdict)
        return verdict.correct


__all__ = ["DistributedGame", "DistributedObservation", "DistributedResult", "HEError", "VoidGame"]
