"""``alignment-injection``: the white-box attack on BucketCountSketch's sign-alignment estimator.

The estimator reports key ``t`` when most of ``t``'s buckets ``j`` have ``s_tj C_j`` past the
margin ``tau = 3/4 eps ||x||_2``. A reader of the state rebuilds the layout (which keys share
which buckets with ``t``, with which signs) from its key and streams, with ``x_t = 0``,

    ``x_k`` proportional to ``c_k = sum over shared buckets j of s_tj s_kj``,

(more exactly: the least-norm vector putting one value on a random 55% of ``t``'s buckets),
the vector that maximises ``sum_j s_tj (S x)_j = <c, x>`` for its norm (Cauchy–Schwarz). Each of
``t``'s buckets then holds about ``n/b`` aligned contributions against ``tau`` of about
``eps sqrt(n ℓ / b)``: once ``n`` exceeds roughly ``0.3 eps^2 ℓ b`` (a third of the counters at
eps = 0.5), most of ``t``'s buckets pass ``tau`` and ``t``, which is 0, is reported: a
``false-heavy`` answer in one round. The attack spends no queries, so the estimator's query
budget (its robustness) does not enter. Below that universe size the sketch has more
counters than the vector has room to hide in, and the attack does not succeed (nor does any
ℓ2-bounded vector with ``x_t = 0`` whose least-norm solution is of this form).
"""

from __future__ import annotations

import numpy as np

from wbstream.engine.adversary import Adversary
from wbstream.engine.errors import at_least
from wbstream.engine.l2_problems import L2HeavyHitters
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch
from wbstream.engine.threat import WHITE_BOX


def alignment_vector(indptr: np.ndarray, bucket: np.ndarray, sign: np.ndarray, target: int, M: int,
                     share: float = 0.55, rng: np.random.Generator | None = None) -> np.ndarray:
    """Integer ``x`` (``|x_k| <= M``, ``x_target = 0``) whose buckets ``J`` (a ``share`` of ``target``'s,
    at random) all hold ``s_tj (S x)_j = c`` for one ``c``: the least-norm such ``x``,
    ``S_J^T (S_J S_J^T)^+ s_J``, scaled so its largest entry is ``M``.

    >>> from wbstream.algorithms.heavy.bucket_countsketch import layout
    >>> lay = layout(bytes(32), 200, 10, 4)
    >>> x = alignment_vector(*lay, target=3, M=100); int(x[3]), int(np.abs(x).max())
    (0, 100)
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    n = len(indptr) - 1
    mine = np.arange(indptr[target], indptr[target + 1])
    if not len(mine):
        return np.zeros(n, dtype=np.int64)
    chosen = rng.choice(mine, size=max(1, int(np.ceil(share * len(mine)))), replace=False)
    row_of = np.full(int(bucket.max()) + 1, -1, dtype=np.int64)
    row_of[bucket[chosen]] = np.arange(len(chosen))
    r = row_of[bucket]
    entries = np.flatnonzero(r >= 0)
    owner = np.searchsorted(indptr, entries, side="right") - 1
    keep = owner != target
    entries, owner = entries[keep], owner[keep]
    keys, column = np.unique(owner, return_inverse=True)  # only the keys that touch J
    S = np.zeros((len(chosen), len(keys)))
    S[r[entries], column] = sign[entries]
    y = np.linalg.lstsq(S @ S.T, sign[chosen].astype(np.float64), rcond=None)[0]
    x = np.zeros(n)
    x[keys] = S.T @ y
    top = np.abs(x).max()
    if top == 0:
        return np.zeros(n, dtype=np.int64)
    return np.rint(x * (M / top)).astype(np.int64)


@adversaries.register
class AlignmentInjection(Adversary):
    """Read the bucket layout from the state; stream a vector, zero on a key, that its buckets align with.

    ``tries``: target keys whose vectors are built and judged offline (the estimator's margin,
    without its noise); the one whose buckets lead most is streamed.

    >>> from wbstream.engine.game import Game
    >>> r = Game("l2-heavy-hitters(n=4096, M=1024, eps=0.5)",
    ...          "bucket-countsketch(queries=1, rows=20, width=64, allow_outside_guarantee=True)",
    ...          "alignment-injection", "white-box", seed=0).play()
    >>> r.failed, r.failure_kind, r.rounds
    (True, 'false-heavy', 1)
    """

    name = "alignment-injection"
    needs = WHITE_BOX

    def applies_to(self, algorithm_cls, problem_cls):
        if not hasattr(algorithm_cls, "layout_of"):
            return False, "it reads a bucket layout from the state (layout_of): BucketCountSketch"
        if not (isinstance(problem_cls, type) and issubclass(problem_cls, L2HeavyHitters)):
            return False, "it needs the turnstile l2-heavy-hitters problem (the vector has mixed signs)"
        return True, ""

    def __init__(self, *, tries: int = 8):
        at_least("alignment-injection", tries=(tries, 1))
        self.tries = tries

    def reset(self, params, rng):
        super().reset(params, rng)
        self.done = False

    def act(self, obs):
        if self.done:
            return None
        self.done = True
        state, params = obs.state(), obs.params
        indptr, bucket, sign = obs.algorithm.cls.layout_of(params, state)
        rows, width = (int(v) for v in state["shape"])
        owner = np.repeat(np.arange(params.n, dtype=np.int64), np.diff(indptr))
        best = None
        for target in self.rng.choice(params.n, size=min(self.tries, params.n), replace=False):
            x = alignment_vector(indptr, bucket, sign, int(target), params.M, rng=self.rng)
            # the estimator, offline: the target's aligned buckets beyond half of them, at its margin tau
            table = np.bincount(bucket, weights=sign * x[owner], minlength=rows * width)
            tau = 0.75 * params.eps * np.sqrt(np.median((table.reshape(rows, width) ** 2).sum(axis=1)))
            mine = slice(indptr[target], indptr[target + 1])
            v = sign[mine] * table[bucket[mine]]
            lead = max(np.sum(v >= tau), np.sum(v <= -tau)) - len(v) / 2
            if best is None or lead > best[0]:
                best = (lead, x)
        x = best[1]
        nz = np.flatnonzero(x)
        return Batch(nz.astype(np.int64), x[nz])
