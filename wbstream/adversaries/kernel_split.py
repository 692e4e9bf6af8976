"""The kernel split: kernel injection for insertion-only streams (docs/references.md#kernel-injection).

An insertion-only stream cannot carry ``target + z`` with negative entries.
Split a short kernel vector instead: ``z = z+ - z-`` with ``z+, z- >= 0`` on
disjoint supports and ``S z+ = S z-``. The two non-negative streams ``z+`` and
``z-`` give the sketch the same state, so the algorithm gives them the same
answer, while their truths differ. The white-box adversary simulates the
algorithm on both halves (a private copy: it knows the code and the state),
checks that the states agree, judges the common answer against both truths
with its own referee, and streams the half on which the answer is wrong.

Sketches that also count the stream length m (Count-Min, CountSketch) need
``sum z = 0`` as well: the attack tries the plain kernel first and, if the
simulated states differ, adds that row of ones.

For heavy hitters a split with ``|z+|_1 <= 1/eps`` always works: every item
of the streamed half is heavy there and absent from the other half, so no common
answer is right for both. The limit is the lattice: its dimension is about
1.25 x the number of sketch rows, so the attack gives up on sketches with more
than ``max_rows`` rows (Count-Min at its default width and depth has over a
thousand); the cover-set attack (``markelon-2023``) handles those.
"""

from __future__ import annotations

import inspect

import numpy as np

from wbstream.adversaries.injection import lattice_ready
from wbstream.adversaries.reduction import short_kernel_vectors
from wbstream.engine.errors import at_least
from wbstream.engine.adversary import Adversary
from wbstream.engine.algorithm import LinearSketch
from wbstream.engine.registry import adversaries, problems
from wbstream.engine.stream import Batch
from wbstream.engine.threat import WHITE_BOX


def split(z: np.ndarray, columns: np.ndarray) -> tuple[Batch, Batch]:
    """The positive and negative halves of ``z`` (on ``columns``) as two insertion-only batches.

    >>> plus, minus = split(np.array([2, 0, -1, -1]), np.array([10, 11, 12, 13]))
    >>> plus.indices.tolist(), plus.deltas.tolist(), minus.indices.tolist(), minus.deltas.tolist()
    ([10], [2], [12, 13], [1, 1])
    """
    z = np.asarray(z, dtype=np.int64)
    pos, neg = np.flatnonzero(z > 0), np.flatnonzero(z < 0)
    return Batch(columns[pos].astype(np.int64), z[pos]), Batch(columns[neg].astype(np.int64), -z[neg])


def _same_state(a, b) -> bool:
    sa, sb = a.state(), b.state()
    return sa.keys() == sb.keys() and all(np.array_equal(np.asarray(sa[k]), np.asarray(sb[k])) for k in sa)


@adversaries.register
class KernelSplit(Adversary):
    """Stream the half of a split kernel vector on which the algorithm's (shared) answer is wrong.

    ``columns`` (0: 1.25 x sketch rows + 8) coordinates enter the lattice; ``max_rows`` caps
    the sketch size it tries (larger sketches: the attack gives up at once, saying why).

    >>> from wbstream.engine.game import Game
    >>> r = Game("heavy-hitters(n=5000, M=1000, eps=0.05)", "count-min(depth=3, width=16)",
    ...          "kernel-split", "white-box", seed=0).play()
    >>> r.failed, r.failure_kind in ("false-heavy", "missed-heavy")
    (True, True)
    """

    name = "kernel-split"

    computed_defaults = {"columns": "1.25 x sketch rows + 8"}
    needs = WHITE_BOX

    def __init__(self, *, columns: int = 0, max_rows: int = 200, vectors: int = 8):
        at_least("kernel-split", columns=(columns, 0), max_rows=(max_rows, 1), vectors=(vectors, 1))
        self.columns, self.max_rows, self.vectors = columns, max_rows, vectors

    def applies_to(self, algorithm_cls, problem_cls):
        if not issubclass(algorithm_cls, LinearSketch):
            return False, "it is not a LinearSketch, so its matrix cannot be rebuilt from its state"
        if not (getattr(problem_cls, "insertion_only", False)
                or "insertion_only" in inspect.signature(problem_cls.__init__).parameters):
            return False, (f"{getattr(problem_cls, 'name', problem_cls)!r} streams are turnstile only: "
                           f"inject the kernel vector whole (kernel-injection) instead of splitting it")
        return lattice_ready()

    def reset(self, params, rng):
        super().reset(params, rng)
        self.done = False
        self.outcome = "not run"
        self.kernel_vector: np.ndarray | None = None

    def act(self, obs):
        if self.done:
            return None
        self.done = True
        cls, state, params = obs.algorithm.cls, obs.state(), obs.params
        rows = cls.sketch_columns(params, state, np.zeros(1, dtype=np.int64)).shape[0]
        if rows > self.max_rows:
            self.outcome = f"gave up: {rows} sketch rows > max_rows = {self.max_rows} (lattice too large)"
            return None
        d = min(params.n, self.columns or int(1.25 * rows) + 8)
        cols = np.sort(self.rng.choice(params.n, size=d, replace=False)).astype(np.int64)
        A = cls.sketch_columns(params, state, cols)
        A = A[np.any(A != 0, axis=1)]
        modulus = cls.sketch_modulus(params, state)
        for with_length in (False, True):
            matrix = np.vstack([A, np.ones((1, d), dtype=np.int64)]) if with_length else A
            for z in short_kernel_vectors(matrix, modulus=modulus)[:self.vectors]:
                if np.abs(z).max() > params.M:
                    continue
                chosen = self._wrong_half(obs, *split(z, cols))
                if chosen is not None:
                    self.kernel_vector = z
                    self.outcome = f"split found (d = {d}, |z|_1 = {int(np.abs(z).sum())})"
                    return chosen
        self.outcome = f"no split with differing truths among the shortest kernel vectors (d = {d})"
        return None

    def _wrong_half(self, obs, plus: Batch, minus: Batch) -> Batch | None:
        """The half whose truth the shared answer gets wrong, if the halves share a state."""
        copies = [obs.simulate(self.rng), obs.simulate(self.rng)]
        for copy, half in zip(copies, (plus, minus)):
            copy.update(half.indices, half.deltas)
        if not _same_state(*copies):
            return None
        answer = copies[0].query()
        for half in (plus, minus):
            referee = problems.get(self.params.kind)(**dict(self.params))
            referee.apply(half)
            if not referee.judge(answer).correct:
                return half
        return None
