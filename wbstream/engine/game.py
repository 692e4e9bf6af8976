"""The game: an adversary streams batches at an algorithm while the referee judges.

Each round: observe -> act -> validate -> update (timed) -> commit truth -> if a
query is due: query (timed) -> judge -> record. The same seed replays the same
game; a recorded transcript replays it exactly (:mod:`wbstream.engine.replay`).

Every coin follows from a secret, not from the seed (:mod:`wbstream.engine.keys`):
a Game draws a fresh 256-bit secret unless given one, derives each game's key
from it, the matchup and the seed, and writes that key into the record
(``game_key``) when the game ends. The same secret and seed play the same game;
the seed alone predicts nothing.

>>> from wbstream.engine.game import Game
>>> r = Game("f2(n=64, M=8, eps=0.5)", "exact", "dense(rounds=5)", "oblivious", seed=3).play()
>>> r.failed, r.rounds, r.queries, len(r.game_key)
(False, 5, 5, 64)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .adversary import Adversary
from .answers import answer_digest
from .chunking import unchunked
from .coins import Coins
from . import keys
from .keys import SECRET_BYTES, adversary_rng, game_key
from .errors import AdversaryError, BudgetError, NotApplicableError, SpecError, ThreatModelError, WbstreamError
from .loop import select_play_rounds
from .observation import AlgorithmInfo, Observation
from .plugins import is_plugin
from .registry import Spec, adversaries, algorithms, parse_spec, problems
from .result import GameResult, Transcript
from .sandbox import MODES, IsolatedAdversary, TimeBudgetReached
from .sandbox_wire import check_notes
from .threat import ThreatModel

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


def build(what: str, spec: str, make):
    """``make()``, with a constructor's ValueError or TypeError turned into a one-line SpecError naming the spec.

    >>> build("algorithm", "countsketch(rows=0)", lambda: int("x"))
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.SpecError: algorithm 'countsketch(rows=0)': invalid literal for int() with base 10: 'x'
    """
    try:
        return make()
    except (ValueError, TypeError) as exc:
        if isinstance(exc, WbstreamError) and not isinstance(exc, SpecError):
            raise  # e.g. NotApplicableError: already says what is wrong, in its own class
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise SpecError(f"{what} {spec!r}: {message}") from None


class Game:
    """One game between an algorithm and an adversary under a threat model.

    Specs may be registry strings (``"countsketch(rows=5)"``) or classes. ``play()``
    may be called again (set ``seed`` between calls to play other trials).

    ``secret`` (32 bytes) keys every game this object plays; without one a fresh
    secret is drawn from the OS, so two Game objects with the same seed play
    different coins. ``game_key`` (32 bytes, from a record) replays one recorded
    game exactly, whatever its seed.

    >>> g = Game("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)",
    ...          "kernel-injection", "white-box", seed=0)
    >>> r = g.play()
    >>> r.failed, r.failure_kind, r.rounds
    (True, 'missed-not-sparse', 1)
    """

    def __init__(self, problem, algorithm, adversary, threat: str | ThreatModel = "white-box", *,
                 budget: Budget | None = None, query_every: int = 1, seed: int = 0,
                 stop_on_failure: bool = True, record_transcript: bool = False,
                 algorithm_options: dict | None = None, adversary_options: dict | None = None,
                 secret: bytes | None = None, game_key: bytes | None = None, isolation: str = "none"):
        self.threat = ThreatModel.parse(threat)
        for what, value in (("secret", secret), ("game_key", game_key)):
            if value is not None and (not isinstance(value, bytes) or len(value) != SECRET_BYTES):
                raise SpecError(f"{what} must be {SECRET_BYTES} bytes")
        self._secret = secret if secret is not None else keys.new_secret()
        self._game_key = game_key
        if isolation not in MODES:
            raise SpecError(f"isolation must be one of {', '.join(MODES)}, got {isolation!r}")
        self.isolation = isolation
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
        # refuses bad parameters (e.g. int64 overflow) now, not in play()
        build("problem", self.problem_spec, lambda: self.problem_cls(**self.problem_opts))
        self.alg_cls, self.alg_opts, self.alg_spec = _spec_name(algorithms, algorithm, algorithm_options)
        self.adv_cls, self.adv_opts, self.adv_spec = _spec_name(adversaries, adversary, adversary_options)
        if is_plugin(self.adv_cls) and isolation == "none":  # imports the plugin here: no protection from it
            self.adv_cls = self.adv_cls.in_process()
        if not self.alg_cls.supports(self.problem_cls):
            raise SpecError(f"algorithm {self.alg_cls.name!r} answers {self.alg_cls.problem.name!r}, "
                            f"not {self.problem_cls.name!r}")
        needs = self.adv_cls.needs
        if not self.threat.includes(needs):
            missing = ", ".join(sorted(needs.capabilities - self.threat.capabilities))
            refused = ThreatModelError(
                f"adversary {self.adv_cls.name!r} needs the {needs.name} threat model (it reads {missing}); "
                f"this game is {self.threat.name}")
            refused.bad_input = True  # the matchup is wrong, not a player
            raise refused
        kind, wants = getattr(self.adv_cls, "stream_kind", "entries"), self.problem_cls.stream_kind
        if kind is not None and kind != wants:
            raise NotApplicableError(f"adversary {self.adv_cls.name!r} streams {kind}, but problem "
                                     f"{self.problem_cls.name!r} takes {wants}")
        ok, why = build("adversary", self.adv_spec, lambda: self.adv_cls(**self.adv_opts)).applies_to(self.alg_cls, self.problem_cls)
        if not ok:
            raise NotApplicableError(f"adversary {self.adv_cls.name!r} cannot attack {self.alg_cls.name!r}: {why}")

    @property
    def matchup(self) -> str:
        """What the game key binds besides the seed: the canonical specs and the threat model."""
        return "|".join((self.problem_spec, self.alg_spec, self.adv_spec, self.threat.name))

    def key_for(self, seed: int) -> bytes:
        """The key of the game this object plays at ``seed`` (never shown to a player during play)."""
        return self._game_key if self._game_key is not None else game_key(self._secret, self.matchup, seed)

    def build_algorithm(self, params, coins: Coins):
        """The algorithm on these coins; options its constructor refuses raise a SpecError naming the spec.

        Options are checked here, at the start of play, and not when the Game is made: building
        some algorithms costs seconds (``fjw24(preset='sec64')`` derives a key of gigabytes).
        """
        return build("algorithm", self.alg_spec, lambda: self.alg_cls(params, coins, **self.alg_opts))

    def play(self) -> GameResult:
        """Play the game to its end and return the record."""
        wall0 = time.perf_counter()
        problem = self.problem_cls(**self.problem_opts)
        key = self.key_for(self.seed)
        coins = Coins.for_game(key)
        alg = self.build_algorithm(problem.params, coins)
        info = AlgorithmInfo(self.alg_cls.name, self.alg_spec, self.alg_cls)
        if self.isolation == "process":  # the adversary plays from its own process, through this proxy
            adversary = IsolatedAdversary(self.adv_cls, self.adv_opts, self.threat, info, alg,
                                          max_rounds=self.budget.rounds if self.budget.rounds is not None else _UNLIMITED,
                                          max_updates=self.budget.updates if self.budget.updates is not None else _UNLIMITED,
                                          seconds=self.budget.seconds, query_every=self.query_every)
        else:
            adversary: Adversary = self.adv_cls(**self.adv_opts)
        build("adversary", self.adv_spec, lambda: adversary.reset(problem.params, adversary_rng(key)))
        obs = Observation(self.threat, problem.params, info, alg)
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

        act, out_of_time = adversary.act, []
        if self.isolation == "process":
            def act(obs, _act=adversary.act):
                try:
                    return _act(obs)
                except TimeBudgetReached:  # the child was killed mid-round: that round sent nothing
                    out_of_time.append(True)
                    return None

        try:
            (r, updates, queries, last_query_round, timed_rounds, adv_ns, stop, update_ns, query_ns) = play_rounds(
                obs, act, alg.update, unchunked(alg), problem, query, judge_and_record, transcript,
                min(_UNLIMITED, self.query_every),
                min(_UNLIMITED, self.budget.rounds if self.budget.rounds is not None else _UNLIMITED),
                min(_UNLIMITED, self.budget.updates if self.budget.updates is not None else _UNLIMITED),
                min(_UNLIMITED, self.budget.max_batch if self.budget.max_batch is not None else _UNLIMITED),
                deadline, self.stop_on_failure)
            if out_of_time:
                stop = "time-budget"
            now = time.perf_counter_ns
            if r > last_query_round:  # the final answer is always judged
                obs.round = r
                t0 = now()
                answer = query()
                query_ns.append(now() - t0)
                queries += 1
                judge_and_record(r, answer)
            # an isolated adversary's notes come back over the wire, as a bounded string
            if self.isolation == "process":
                notes = adversary.notes(obs)
            else:
                notes = getattr(adversary, "notes", lambda: None)()
                try:
                    check_notes(notes)  # the bound an isolated adversary's notes have on the wire
                except TypeError as exc:
                    raise AdversaryError(f"adversary {self.adv_cls.name!r}: {exc}") from None
        finally:
            if self.isolation == "process":
                adversary.close()  # no child outlives its game
        res.rounds, res.updates, res.queries, res.timed_rounds = r, updates, queries, timed_rounds
        res.stop_reason = stop
        res.adversary_notes = notes
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
        res.game_key = key.hex()  # revealed only now that the game is over
        res.wall_seconds = time.perf_counter() - wall0
        return res


def _record_failure(res: GameResult, r: int, verdict) -> None:
    res.failed_queries += 1
    if not res.failed:
        res.failed = True
        res.first_failure_round = r
        res.failure_kind, res.failure_detail = verdict.kind, verdict.detail
