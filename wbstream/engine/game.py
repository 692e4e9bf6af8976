"""The game: an adversary streams batches at an algorithm while the referee judges.

Each round: observe -> act -> validate -> update (timed) -> commit truth -> if a
query is due: query (timed) -> judge -> record. The same seed replays the same
game; a recorded transcript replays it exactly (:mod:`wbstream.engine.replay`).

>>> from wbstream.engine.game import Game
>>> r = Game("f2(n=64, M=8, eps=0.5)", "exact", "dense(rounds=5)", "oblivious", seed=3).play()
>>> r.failed, r.rounds, r.queries
(False, 5, 5)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .adversary import Adversary
from .answers import answer_digest
from .coins import Coins
from .errors import BudgetError, NotApplicableError, SpecError, ThreatModelError
from .loop import select_play_rounds
from .observation import AlgorithmInfo, Observation
from .registry import Spec, adversaries, algorithms, parse_spec, problems
from .result import GameResult, Transcript
from .threat import ThreatModel

_ADVERSARY_STREAM = 0xAD7E  # keeps the adversary's generator apart from the algorithm's coins

_UNLIMITED = 1 << 62
play_rounds = select_play_rounds()


#: The longest time budget a game may have (about 116 days); a longer one is refused.
MAX_SECONDS = 10**7


@dataclass(frozen=True)
class Budget:
    """Limits on a game: total updates, rounds, wall-clock seconds, and updates per batch (None: no limit).

    A batch of more than ``max_batch`` updates is refused whole with a
    :class:`~wbstream.engine.errors.StreamError`: nothing changes, and the game ends there.

    >>> Budget(rounds=10).rounds, Budget().max_batch
    (10, 1000000)
    >>> Budget(updates=-1)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.BudgetError: budget updates must be a non-negative integer or None, got -1
    >>> Budget(seconds=1e300)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.BudgetError: budget seconds must be a number in [0, 10000000] or None, got 1e+300
    """

    updates: int | None = 10_000_000
    rounds: int | None = 100_000
    seconds: float | None = None
    max_batch: int | None = 1_000_000

    def __post_init__(self):
        for name in ("updates", "rounds"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise BudgetError(f"budget {name} must be a non-negative integer or None, got {value!r}")
        b = self.max_batch
        if b is not None and (not isinstance(b, int) or isinstance(b, bool) or b < 1):
            raise BudgetError(f"budget max_batch must be a positive integer or None, got {b!r}")
        s = self.seconds
        if s is not None and (isinstance(s, bool) or not isinstance(s, (int, float)) or not 0 <= s <= MAX_SECONDS):
            raise BudgetError(f"budget seconds must be a number in [0, {MAX_SECONDS}] or None, got {s!r}")


def _spec_name(registry, spec, extra: dict | None) -> tuple[type, dict[str, Any], str]:
    """Class, checked options and the canonical spec to record, with ``extra`` options merged in."""
    if isinstance(spec, type):
        return spec, dict(extra or {}), getattr(spec, "name", spec.__name__)
    parsed = parse_spec(spec)
    if extra:
        parsed = Spec(parsed.name, {**parsed.options, **extra})
    cls, options = registry.resolve(parsed)
    return cls, options, registry.canonical(parsed)


class Game:
    """One game between an algorithm and an adversary under a threat model.

    Specs may be registry strings (``"countsketch(rows=5)"``) or classes. ``play()``
    may be called again (set ``seed`` between calls to play other trials).

    >>> g = Game("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)",
    ...          "kernel-injection", "white-box", seed=0)
    >>> r = g.play()
    >>> r.failed, r.failure_kind, r.rounds
    (True, 'missed-not-sparse', 1)
    """

    def __init__(self, problem, algorithm, adversary, threat: str | ThreatModel = "white-box", *,
                 budget: Budget | None = None, query_every: int = 1, seed: int = 0,
                 stop_on_failure: bool = True, record_transcript: bool = False,
                 algorithm_options: dict | None = None, adversary_options: dict | None = None):
        self.threat = ThreatModel.parse(threat)
        self.budget = budget if budget is not None else Budget()
        if not isinstance(self.budget, Budget):
            raise BudgetError(f"budget must be a Budget, got {type(budget).__name__}")
        if not isinstance(query_every, int) or query_every < 1:
            raise BudgetError(f"query_every must be a positive integer, got {query_every!r}")
        if not isinstance(seed, int) or seed < 0:
            raise SpecError(f"seed must be a non-negative integer, got {seed!r}")
        self.query_every, self.seed = query_every, seed
        self.stop_on_failure, self.record_transcript = stop_on_failure, record_transcript
        self.problem_cls, self.problem_opts, self.problem_spec = _spec_name(problems, problem, None)
        self.problem_cls(**self.problem_opts)  # refuses bad parameters (e.g. int64 overflow) now, not in play()
        self.alg_cls, self.alg_opts, self.alg_spec = _spec_name(algorithms, algorithm, algorithm_options)
        self.adv_cls, self.adv_opts, self.adv_spec = _spec_name(adversaries, adversary, adversary_options)
        if not self.alg_cls.supports(self.problem_cls):
            raise SpecError(f"algorithm {self.alg_cls.name!r} answers {self.alg_cls.problem.name!r}, "
                            f"not {self.problem_cls.name!r}")
        needs = self.adv_cls.needs
        if not self.threat.includes(needs):
            missing = ", ".join(sorted(needs.capabilities - self.threat.capabilities))
            raise ThreatModelError(
                f"adversary {self.adv_cls.name!r} needs the {needs.name} threat model (it reads {missing}); "
                f"this game is {self.threat.name}")
        kind, wants = getattr(self.adv_cls, "stream_kind", "entries"), self.problem_cls.stream_kind
        if kind is not None and kind != wants:
            raise NotApplicableError(f"adversary {self.adv_cls.name!r} streams {kind}, but problem "
                                     f"{self.problem_cls.name!r} takes {wants}")
        ok, why = self.adv_cls(**self.adv_opts).applies_to(self.alg_cls, self.problem_cls)
        if not ok:
            raise NotApplicableError(f"adversary {self.adv_cls.name!r} cannot attack {self.alg_cls.name!r}: {why}")

    def play(self) -> GameResult:
        """Play the game to its end and return the record."""
        wall0 = time.perf_counter()
        problem = self.problem_cls(**self.problem_opts)
        coins = Coins.from_seed(self.seed, "algorithm")
        alg = self.alg_cls(problem.params, coins, **self.alg_opts)
        adversary: Adversary = self.adv_cls(**self.adv_opts)
        adversary.reset(problem.params, np.random.default_rng([self.seed, _ADVERSARY_STREAM]))
        obs = Observation(self.threat, problem.params,
                          AlgorithmInfo(self.alg_cls.name, self.alg_spec, self.alg_cls), alg)
        coins.clock = obs  # coins drawn during round r are logged with round r
        res = GameResult(problem=self.problem_spec, algorithm=self.alg_spec, adversary=self.adv_spec,
                         threat=self.threat.name, seed=self.seed, query_every=self.query_every,
                         budget_rounds=self.budget.rounds, budget_updates=self.budget.updates,
                         budget_seconds=self.budget.seconds, budget_max_batch=self.budget.max_batch)
        transcript = Transcript() if self.record_transcript else None
        deadline = (time.perf_counter_ns() + int(self.budget.seconds * 1e9)) if self.budget.seconds is not None else None
        answers = obs._answers
        query, judge = alg.query, problem.judge

        def judge_and_record(r: int, answer) -> bool:
            """Judge an answer, show it to the adversary, log it; True if it was correct."""
            verdict = judge(answer)
            res.final_detail = verdict.detail
            answers.append((r, answer))
            if transcript is not None:
                transcript.answers.append((r, answer_digest(answer), verdict.correct))
            if not verdict.correct:
                _record_failure(res, r, verdict)
            return verdict.correct

        (r, updates, queries, last_query_round, timed_rounds, adv_ns, stop, update_ns, query_ns) = play_rounds(
            obs, adversary.act, alg.update, problem, query, judge_and_record, transcript,
            min(_UNLIMITED, self.query_every),
            min(_UNLIMITED, self.budget.rounds if self.budget.rounds is not None else _UNLIMITED),
            min(_UNLIMITED, self.budget.updates if self.budget.updates is not None else _UNLIMITED),
            min(_UNLIMITED, self.budget.max_batch if self.budget.max_batch is not None else _UNLIMITED),
            deadline, self.stop_on_failure)
        now = time.perf_counter_ns
        if r > last_query_round:  # the final answer is always judged
            obs.round = r
            t0 = now()
            answer = query()
            query_ns.append(now() - t0)
            queries += 1
            judge_and_record(r, answer)
        res.rounds, res.updates, res.queries, res.timed_rounds = r, updates, queries, timed_rounds
        res.stop_reason = stop
        space = alg.space()
        res.space_state_bits, res.space_key_bits, res.space_nbytes = space.state_bits, space.key_bits, space.nbytes
        if update_ns:
            res.update_ns_median, res.update_ns_p99 = map(float, np.percentile(
                np.fromiter(update_ns, dtype=np.float64, count=len(update_ns)), [50, 99]))
        if query_ns:
            res.query_ns_median = float(np.median(query_ns))
        # Scaled up from the timed rounds when timing was sampled.
        res.adversary_seconds = adv_ns / 1e9 * (r / timed_rounds if timed_rounds else 0.0)
        res.transcript = transcript
        res.wall_seconds = time.perf_counter() - wall0
        return res


def _record_failure(res: GameResult, r: int, verdict) -> None:
    res.failed_queries += 1
    if not res.failed:
        res.failed = True
        res.first_failure_round = r
        res.failure_kind, res.failure_detail = verdict.kind, verdict.detail
