"""The cover-set attack on Count-Min (and CountSketch) with a visible hash (Markelon, Filić, Shrimpton, CCS'23; docs/references.md#markelon-2023).

The adversary reads the bucket coefficients from the state, picks a target ``t``
it will never insert, and finds a *cover set*: for each row ``r`` one other item
``y_r`` with ``h_r(y_r) = h_r(t)``. It then inserts only cover items. Every row's
bucket for ``t`` holds a cover item's whole count, so ``est_t = min_r`` of those
counts ``~ insertions/depth`` while ``f_t = 0``: Count-Min reports ``t`` as a heavy
hitter (``false-heavy``).

Departures from the paper:

* The paper attacks real libraries' hash functions (it searches for colliding
  strings under their concrete hashes). Here the hash is the project's pairwise
  polynomial over p = 2^31 - 1 and items are indices in ``[0, n)``; the search
  is a vectorised scan of a random permutation of the universe. The
  ``hash_evaluations`` attribute counts hash evaluations the way the paper's
  search loop spends them (depth per candidate scanned), for comparison with its
  figures (16.9k for 2048 x 4, 88.5k for 4096 x 8).
* The paper inserts cover items one at a time (2^20 unit insertions, 100
  trials) and reports the error on ``t`` (about 2^20/depth). Here the insertions
  arrive as ``rounds`` batches of unit updates, round-robin over the cover set; the
  game stops at the first wrong answer unless told otherwise.
* The paper takes one cover item per row. So do we, always distinct items; an item
  colliding with ``t`` in several rows is not reused to shrink the cover.
* Each cover item's count is capped at ``M`` (the promise ``|x_i| <= M``); when
  ``insertions/depth > M`` the attack inserts fewer items than asked.
* Against Apache DataSketches' ``count_min_sketch`` (``ds-count-min``), whose row
  hashes the package keeps internal, the adversary learns each candidate's cells by
  running the package itself on it (see ``DsCountMin.row_cells``).
* Extension beyond the paper: against CountSketch (``countsketch-hh``), whose
  estimate is a median of *signed* counts, a cover item must share the target's
  bucket and its sign, and only a majority of rows (the first ``depth//2 + 1``)
  needs covering, so the target's estimate is about insertions/(depth//2 + 1).
"""

from __future__ import annotations

import numpy as np

from wbstream.engine.errors import at_least
from wbstream.engine.adversary import Adversary
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch
from wbstream.engine.threat import WHITE_BOX


def find_cover(rng: np.random.Generator, cells, n: int, target: int, rows: int) -> tuple[np.ndarray | None, int]:
    """One distinct item per row sharing ``target``'s cell in that row, and the hash evaluations spent.

    ``cells(keys)`` gives the counter each key updates in each row (for CountSketch the
    sign is part of the cell); the first ``rows`` rows are covered. Candidates are scanned
    in a random order, each hashed in every row (as in the paper's search loop); the
    evaluations counted are ``depth`` times the number of candidates scanned until the
    last row was covered. Returns ``(None, evaluations)`` if the universe has no such cover.
    """
    want = cells(np.array([target], dtype=np.int64))[:, 0]
    depth = len(want)
    want = want[:rows]
    cover = np.full(rows, -1, dtype=np.int64)
    candidates = rng.permutation(n).astype(np.int64)
    candidates = candidates[candidates != target]
    chunk = 4096
    last = -1  # position in the scan of the item that completed the cover
    for start in range(0, len(candidates), chunk):
        keys = candidates[start:start + chunk]
        hits = cells(keys)[:rows] == want[:, None]
        for r in np.flatnonzero(cover < 0):
            for j in np.flatnonzero(hits[r]):
                if keys[j] not in cover:
                    cover[r] = keys[j]
                    last = max(last, start + int(j))
                    break
        if (cover >= 0).all():
            return cover, (last + 1) * depth
    return None, len(candidates) * depth


@adversaries.register
class MarkelonCoverSet(Adversary):
    """Insert a cover set of a never-inserted target until Count-Min (or CountSketch) calls it heavy.

    ``insertions`` unit insertions in total, spread over ``rounds`` batches.

    The target's estimate is about insertions/depth while m = insertions, so the cover set
    makes it heavy only while depth <= 1/eps (count-min's default depth ln(n/0.05) is 12
    here, and 1/eps = 20); deeper sketches need items colliding in several rows at once.

    >>> from wbstream.engine.game import Game
    >>> r = Game("heavy-hitters(n=5000, M=4096, eps=0.05)", "count-min", "markelon-2023(insertions=4096)",
    ...          "white-box", seed=1).play()
    >>> r.failed, r.failure_kind, r.first_failure_round
    (True, 'false-heavy', 1)
    """

    name = "markelon-2023"
    needs = WHITE_BOX

    def __init__(self, *, insertions: int = 1 << 20, rounds: int = 16):
        at_least("markelon-2023", insertions=(insertions, 1), rounds=(rounds, 1))
        self.insertions, self.rounds = int(insertions), int(rounds)

    def applies_to(self, algorithm_cls, problem_cls):
        if not all(callable(getattr(algorithm_cls, m, None)) for m in ("row_cells", "rows_to_cover")):
            return False, ("it is not a Count-Min or CountSketch heavy-hitters sketch: the cover-set attack needs "
                           "the per-row cells of any item (row_cells) and a min or median over rows")
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        self.target: int | None = None
        self.cover: np.ndarray | None = None
        self.hash_evaluations = 0
        self._plan: list[Batch] = []

    def _prepare(self, obs) -> bool:
        state, params, n, M = obs.state(), obs.params, self.params.n, self.params.M
        cls = obs.algorithm.cls
        cells = lambda keys: cls.row_cells(params, state, keys)  # noqa: E731
        self.target = int(self.rng.integers(0, n))
        rows = cls.rows_to_cover(len(cells(np.array([self.target]))))
        self.cover, self.hash_evaluations = find_cover(self.rng, cells, n, self.target, rows)
        if self.cover is None:
            return False
        d = len(self.cover)
        per_item = min(self.insertions // d, M)
        extra = min(self.insertions - per_item * d, d) if per_item < M else 0  # the remainder, one each
        counts = np.full(d, per_item, dtype=np.int64)
        counts[:extra] += 1
        stream = np.concatenate([np.full(c, y, dtype=np.int64) for y, c in zip(self.cover, counts)])
        # Round-robin order, as the paper's loop inserts the cover items in turn.
        order = np.argsort(np.concatenate([np.arange(c) for c in counts]), kind="stable")
        stream = stream[order]
        self._plan = [Batch(part, np.ones(len(part), dtype=np.int64))
                      for part in np.array_split(stream, min(self.rounds, max(1, len(stream)))) if len(part)]
        return True

    def act(self, obs):
        if self.target is None and not self._prepare(obs):
            return None
        if obs.round > len(self._plan):
            return None
        return self._plan[obs.round - 1]
