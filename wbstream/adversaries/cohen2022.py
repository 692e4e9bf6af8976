"""The adaptive attack of Cohen, Lyu, Nelson, Sarlós, Shechner and Stemmer (ICML 2022) on CountSketch.

Edith Cohen, Xin Lyu, Jelani Nelson, Tamás Sarlós, Moshe Shechner, Uri Stemmer.
*On the Robustness of CountSketch to Adaptive Inputs.* ICML 2022, PMLR 162:4112–4140.

Each query is a fixed part ``v`` (two borderline keys ``a`` and ``b`` of equal
weight) plus a fresh random tail ``z`` (``tail`` keys of value ``±tail_value``).
The answer says which of ``a`` and ``b`` the median estimator put above its
report threshold. When only ``a`` is reported, ``z`` pushed ``a``'s buckets up
more than ``b``'s, so ``z`` joins an accumulator; when only ``b`` is, ``-z`` does.
Summed over O(depth) queries, the accumulator's estimate for ``a`` (whose true
value in it is 0) grows linearly while its noise grows as a square root: its
bias-to-noise ratio passes any constant, and ``a`` (and ``b``, biased the other
way) is reported as an ℓ2 heavy hitter of a vector where it is zero.

In a game, a query is two rounds: insert ``v``'s change and ``z``, read the
answer, delete ``z``. The paper's queries report the top 10 of 11 keys; here
the problem reports keys above ``eps ||x||_2`` instead, so the borderline weight
is tracked: raised when neither key is reported, lowered when both are. Every
``check_every`` collected tails the accumulator is streamed in place of ``v``
(two more rounds), and the referee judges the answer. :mod:`wbstream.reproduce_cohen`
replays the paper's simulations (bias-to-noise ratio against rounds; rounds
against depth).
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.errors import at_least
from wbstream.engine.adversary import Adversary
from wbstream.engine.l2_problems import L2HeavyHitters
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch
from wbstream.engine.threat import ADAPTIVE


def collect_sign(a_reported: bool, b_reported: bool) -> int:
    """+1 to add the tail to the accumulator, -1 to subtract it, 0 to drop it.

    >>> collect_sign(True, False), collect_sign(False, True), collect_sign(True, True)
    (1, -1, 0)
    """
    return int(a_reported) - int(b_reported)


@adversaries.register
class Cohen2022(Adversary):
    """Bias CountSketch's median estimator from its answers alone (ℓ2 heavy hitters, turnstile).

    ``tail``: keys in each random tail (0: ``min(n - 2, 512)``); ``tail_value``: their magnitude;
    ``check_every``: collected tails between two tests of the accumulator; ``queries``: the most
    queries to make (0: until the budget ends). ``queries_made`` and ``collected`` record the cost.

    >>> from wbstream.engine.game import Game
    >>> r = Game("l2-heavy-hitters(n=256, M=1048576, eps=0.5)", "countsketch-l2(depth=5, width=32)",
    ...          "cohen-2022(tail=200, check_every=10)", "adaptive", seed=1).play()
    >>> r.failed, r.failure_kind
    (True, 'false-heavy')
    """

    name = "cohen-2022"

    computed_defaults = {"tail": "min(n - 2, 512)"}
    needs = ADAPTIVE

    def __init__(self, *, tail: int = 0, tail_value: int = 8, check_every: int = 25, queries: int = 0):
        at_least("cohen-2022", tail=(tail, 0), tail_value=(tail_value, 1), check_every=(check_every, 1),
                 queries=(queries, 0))
        self.tail, self.tail_value, self.check_every, self.max_queries = tail, tail_value, check_every, queries

    def applies_to(self, algorithm_cls, problem_cls):
        if not (isinstance(problem_cls, type) and issubclass(problem_cls, L2HeavyHitters)):
            return False, ("it needs a turnstile l2-heavy-hitters problem: each query is inserted and deleted, "
                           "and an L1 threshold eps m dwarfs the bias it builds")
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        n = params.n
        if n < 4:
            raise ValueError("cohen-2022 needs n >= 4")
        self.size = min(n - 2, self.tail or 512)
        self.a, self.b = (int(k) for k in rng.choice(n, size=2, replace=False))
        self.others = np.setdiff1d(np.arange(n, dtype=np.int64), [self.a, self.b])
        e = 0.75 * params.eps  # the report threshold of CountSketch: 3/4 eps ||x||_2
        tail_norm = self.tail_value * math.sqrt(self.size)
        self.target_w = max(1, round(e * tail_norm / math.sqrt(max(1e-9, 1 - 2 * e * e))))
        self.w = 0                 # the borderline weight currently streamed on a and b
        self.acc = np.zeros(n, dtype=np.int64)
        self.z: np.ndarray | None = None
        self.z_keys: np.ndarray | None = None
        self.phase, self.probe_round = "probe", -1
        self.queries_made = self.collected = self.tests = 0
        self.since_test = 0

    def _answer(self, obs, r: int):
        answers = obs.answers
        return answers[-1][1] if answers and answers[-1][0] == r else None

    def _v_to(self, w: int) -> tuple[np.ndarray, np.ndarray]:
        d = w - self.w
        self.w = w
        if d == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.array([self.a, self.b], np.int64), np.array([d, d], np.int64)

    def act(self, obs):
        M = self.params.M
        if self.phase == "probe":
            if self.max_queries and self.queries_made >= self.max_queries:
                return None
            vi, vd = self._v_to(self.target_w)
            keys = self.rng.choice(self.others, size=self.size, replace=False)
            z = self.rng.choice(np.array([-1, 1]), size=self.size) * self.tail_value
            self.z_keys, self.z = keys, z
            self.phase, self.probe_round = "retract", obs.round
            self.queries_made += 1
            return Batch(np.r_[vi, keys].astype(np.int64), np.r_[vd, z].astype(np.int64))
        if self.phase == "retract":
            answer = self._answer(obs, self.probe_round)
            batch = Batch(self.z_keys.copy(), -self.z)
            if answer is not None:
                reported = set(np.asarray(answer, dtype=np.int64).tolist())
                ra, rb = self.a in reported, self.b in reported
                sign = collect_sign(ra, rb)
                if sign and np.abs(self.acc[self.z_keys] + sign * self.z).max() <= M:
                    self.acc[self.z_keys] += sign * self.z
                    self.collected += 1
                    self.since_test += 1
                elif ra and rb:
                    self.target_w = max(1, self.target_w - 1)
                elif not (ra or rb):
                    self.target_w = min(M, self.target_w + 1)
            self.phase = "test" if self.since_test >= self.check_every else "probe"
            return batch
        if self.phase == "test":  # stream the accumulator in place of v: the referee judges it
            self.since_test = 0
            self.tests += 1
            vi, vd = self._v_to(0)
            nz = np.flatnonzero(self.acc)
            self.phase = "untest"
            return Batch(np.r_[vi, nz].astype(np.int64), np.r_[vd, self.acc[nz]].astype(np.int64))
        nz = np.flatnonzero(self.acc)  # untest: take the accumulator out again
        self.phase = "probe"
        return Batch(nz.astype(np.int64), -self.acc[nz])
