"""Matrix problems: rank-k recovery with detection, rank estimation, low-rank approximation.

Two stream shapes:

* **entry updates** ``(r, c, delta)`` on an integer ``rows x cols`` matrix X with
  ``|X_rc| <= M``, flattened to the index ``r * cols + c``: the ordinary turnstile
  contract, validated by :class:`~wbstream.engine.problems.Problem` itself
  (:class:`RankRecovery`, :class:`MatrixRank`);
* **row insertions** of real rows (:class:`~wbstream.engine.stream.RowBatch`):
  :class:`LowRankApproximation` owns its validation. A batch whose rows are not
  finite, have the wrong width or an entry above M is refused whole, and the truth
  (the Gram matrix ``A^T A``) is unchanged.

Ranks are exact (:mod:`wbstream.linalg.fp`): no floating point decides
whether rank(X) <= k.

>>> p = RankRecovery(rows=4, cols=5, k=1, M=9)
>>> p.apply(as_batch([0 * 5 + 1, 2 * 5 + 1], [3, 6]))      # X[0,1] = 3, X[2,1] = 6
>>> p.judge(p.matrix().copy()).correct, p.judge(NOT_LOW_RANK).kind
(True, 'false-not-low-rank')
>>> p.apply(as_batch([3 * 5 + 4], [1]))                    # a second independent column
>>> p.judge(NOT_LOW_RANK).correct
True
"""

from __future__ import annotations

import numpy as np

from .answers import NOT_LOW_RANK
from .errors import SpecError, StreamError
from wbstream.linalg.fp import integer_rank, rank_exceeds
from .problems import Problem, Verdict, _Estimation, _Plan
from .registry import problems
from .stream import RowBatch, as_batch

__all__ = ["RankRecovery", "MatrixRank", "LowRankApproximation", "CovarianceSketch", "RowProjection",
           "check_matrix_shape"]


def check_matrix_shape(rows: int, cols: int, k: int | None = None) -> None:
    """Refuse matrices below 2 x 2 and, when given, ranks k outside ``[1, min(rows, cols))``.

    >>> check_matrix_shape(4, 6, k=4)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.SpecError: rank bound k = 4 must satisfy 1 <= k < min(rows, cols) = 4
    """
    if rows < 2 or cols < 2:
        raise SpecError(f"a matrix needs rows >= 2 and cols >= 2, got {rows} x {cols}")
    if k is not None and not 1 <= k < min(rows, cols):
        raise SpecError(f"rank bound k = {k} must satisfy 1 <= k < min(rows, cols) = {min(rows, cols)}")


class _IntegerMatrix(Problem):
    """An integer ``rows x cols`` matrix under entry updates, flattened ``r * cols + c``."""

    def __init__(self, *, rows: int, cols: int, M: int, **extra):
        super().__init__(n=rows * cols, M=M, rows=int(rows), cols=int(cols), **extra)
        self.rows, self.cols = int(rows), int(cols)

    def matrix(self) -> np.ndarray:
        """X as a ``rows x cols`` view of the truth (read it, do not write it)."""
        return self.x.reshape(self.rows, self.cols)


@problems.register
class RankRecovery(_IntegerMatrix):
    """Rank-k recovery with detection: X exactly if rank(X) <= k, else ``NOT_LOW_RANK``.

    The answer is X as a ``rows x cols`` integer array. Both errors count:
    ``NOT_LOW_RANK`` on a matrix of rank <= k (``false-not-low-rank``, a completeness
    failure) and a matrix returned when rank(X) > k or a wrong one.

    >>> p = RankRecovery(rows=3, cols=3, k=1, M=4)
    >>> p.apply(as_batch([0, 4, 8], [1, 1, 1]))             # the identity: rank 3
    >>> p.judge(np.zeros((3, 3), dtype=np.int64)).kind
    'missed-not-low-rank'
    """

    name = "rank-recovery"

    def __init__(self, *, rows: int = 16, cols: int = 16, k: int = 2, M: int = 1024):
        check_matrix_shape(rows, cols, k)
        super().__init__(rows=rows, cols=cols, M=M, k=int(k))
        self.k = int(k)

    def exact_answer(self, x):
        X = np.asarray(x, dtype=np.int64).reshape(self.rows, self.cols)
        return NOT_LOW_RANK if rank_exceeds(X, self.k) else X.copy()

    def guarantee(self) -> str:
        return f"X exactly if rank(X) <= k = {self.k}, else NOT_LOW_RANK"

    def judge(self, answer) -> Verdict:
        X = self.matrix()
        if answer is NOT_LOW_RANK:
            if rank_exceeds(X, self.k):
                return Verdict(True, None, "correctly detected a matrix of rank > k")
            return Verdict(False, "false-not-low-rank",
                           f"rank(X) = {integer_rank(X)} <= k = {self.k} but NOT_LOW_RANK")
        if not (isinstance(answer, np.ndarray) and answer.dtype.kind in "iu" and answer.shape == X.shape):
            return Verdict(False, "malformed",
                           f"expected a {self.rows} x {self.cols} integer array or NOT_LOW_RANK, got {answer!r}")
        if rank_exceeds(X, self.k):
            return Verdict(False, "missed-not-low-rank", f"rank(X) > k = {self.k} but a matrix was returned")
        if np.array_equal(answer, X):
            return Verdict(True, None, "exact recovery")
        wrong = int(np.count_nonzero(answer != X))
        return Verdict(False, "wrong-matrix", f"{wrong} entries differ from the true rank-<=k matrix")


@problems.register
class MatrixRank(_IntegerMatrix, _Estimation):
    """The rank of an integer matrix under entry updates, within a factor alpha (or 1 ± eps).

    >>> p = MatrixRank(rows=4, cols=4, M=3, alpha=2.0)
    >>> p.apply(as_batch([0, 5, 10], [1, 2, 3]))
    >>> p.truth(), p.judge(2.0).correct, p.judge(1.0).kind
    (3.0, True, 'out-of-factor')
    """

    name = "matrix-rank"
    quantity = "rank"

    def __init__(self, *, rows: int = 16, cols: int = 16, M: int = 1024, alpha: float | None = 2.0,
                 eps: float = 0.5):
        check_matrix_shape(rows, cols)
        super().__init__(rows=rows, cols=cols, M=M, eps=eps, alpha=alpha)

    def exact_answer(self, x):
        return integer_rank(np.asarray(x, dtype=np.int64).reshape(self.rows, self.cols))

    def truth(self) -> float:
        return float(integer_rank(self.matrix()))


class CovarianceSketch:
    """A matrix B whose ``B^T B`` approximates ``A^T A`` (the answer of Frequent Directions).

    >>> CovarianceSketch([[1.0, 0.0]]).to_json()
    {'covariance_sketch': [[1.0, 0.0]]}
    """

    __slots__ = ("B",)

    def __init__(self, B):
        self.B = np.array(B, dtype=np.float64, ndmin=2)

    def to_json(self):
        return {"covariance_sketch": self.B.tolist()}

    def __repr__(self):
        return f"CovarianceSketch({self.B.shape[0]} x {self.B.shape[1]})"


class RowProjection:
    """An orthonormal basis V (``cols x j``, j <= k) of a row subspace: the answer of projection sketches.

    >>> RowProjection(np.eye(3)[:, :1]).to_json()
    {'row_projection': [[1.0], [0.0], [0.0]]}
    """

    __slots__ = ("V",)

    def __init__(self, V):
        self.V = np.array(V, dtype=np.float64, ndmin=2)

    def to_json(self):
        return {"row_projection": self.V.tolist()}

    def __repr__(self):
        return f"RowProjection({self.V.shape[0]} x {self.V.shape[1]})"


#: Relative slack of the low-rank-approximation judge, in units of ||A||_F^2 (float64 round-off).
JUDGE_SLACK = 1e-9


@problems.register
class LowRankApproximation(Problem):
    """Low-rank approximation of a row-insertion stream of real rows ``a_r`` (width ``cols``).

    The referee keeps ``G = A^T A`` and judges by the answer's stated error measure:

    * :class:`CovarianceSketch` B (Frequent Directions) of at most ``2 ell`` rows:
      ``||A^T A - B^T B||_2 <= ||A - A_k||_F^2 / (ell - k)``;
    * :class:`RowProjection` V (projection sketches): the projection cost
      ``||A - A V V^T||_F^2 <= (1 + eps) ||A - A_k||_F^2``.

    Both get ``1e-9 ||A||_F^2`` of slack for float64 round-off. Rows arrive as
    :class:`~wbstream.engine.stream.RowBatch`; each entry must be finite with
    ``|a_rc| <= M``.

    >>> p = LowRankApproximation(cols=3, k=1, ell=2, M=10)
    >>> p.apply(RowBatch([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    >>> p.judge(RowProjection([[1.0], [0.0], [0.0]])).correct, p.judge(RowProjection([[0.0], [1.0], [0.0]])).kind
    (True, 'projection-cost')
    >>> p.apply(RowBatch([[1.0, float("nan"), 0.0]]))
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.StreamError: row 0, column 1: nan is not a finite number
    """

    name = "low-rank-approx"
    stream_kind = "rows"

    def __init__(self, *, cols: int = 16, k: int = 2, ell: int = 8, eps: float = 0.5, M: int = 10**6):
        if cols < 2:
            raise SpecError(f"rows need at least 2 columns, got cols = {cols}")
        if not 1 <= k < cols:
            raise SpecError(f"rank k = {k} must satisfy 1 <= k < cols = {cols}")
        if ell <= k:
            raise SpecError(f"sketch size ell = {ell} must exceed k = {k} (the bound divides by ell - k)")
        if not 0 < eps:
            raise SpecError(f"eps must be > 0, got {eps}")
        super().__init__(n=cols, M=M, cols=int(cols), k=int(k), ell=int(ell), eps=float(eps))
        self.cols, self.k, self.ell, self.eps = int(cols), int(k), int(ell), float(eps)
        self.n = 0  # no integer entries: the round loop's single-update path always asks validate_one
        self.G = np.zeros((self.cols, self.cols), dtype=np.float64)
        self.row_count = 0

    # -- validation: whole rows, finite, the right width, within M ------------
    def validate(self, batch) -> _Plan:
        batch = as_batch(batch)
        if not len(batch):
            empty = np.zeros((0, self.cols))
            return _Plan(empty, empty, empty)
        if not isinstance(batch, RowBatch):
            raise StreamError(f"{self.name} takes whole rows (a RowBatch), not integer entry updates")
        rows = batch.rows
        if rows.shape[1] != self.cols:
            raise StreamError(f"rows have width {rows.shape[1]}, but this matrix has cols = {self.cols}")
        bad = ~np.isfinite(rows)
        if bad.any():
            r, c = map(int, np.argwhere(bad)[0])
            raise StreamError(f"row {r}, column {c}: {rows[r, c]} is not a finite number")
        big = np.abs(rows) > self.M
        if big.any():
            r, c = map(int, np.argwhere(big)[0])
            raise StreamError(f"row {r}, column {c}: |{rows[r, c]}| exceeds the entry bound M = {self.M}")
        return _Plan(rows, rows, rows)

    def validate_one(self, i, d):
        raise StreamError(f"{self.name} takes whole rows (a RowBatch), not integer entry updates")

    def commit(self, plan: _Plan) -> None:
        rows = plan.indices
        if len(rows):
            self.G += rows.T @ rows
            self.row_count += len(rows)

    # -- judging ----------------------------------------------------------------
    def tail(self) -> float:
        """``||A - A_k||_F^2``: the sum of all but the k largest eigenvalues of ``A^T A``."""
        ev = np.linalg.eigvalsh(self.G)
        return float(max(0.0, ev[: self.cols - self.k].sum()))

    def exact_answer(self, x):
        raise TypeError(f"{self.name} is a row stream; its truth is A^T A, not a vector x")

    def guarantee(self) -> str:
        return (f"covariance error ||A^T A - B^T B||_2 <= ||A - A_k||_F^2 / (ell - k) (ell = {self.ell}) "
                f"or projection cost ||A - A V V^T||_F^2 <= (1 + {self.eps}) ||A - A_k||_F^2, k = {self.k}")

    def judge(self, answer) -> Verdict:
        slack = JUDGE_SLACK * max(float(np.trace(self.G)), 1e-300)
        if isinstance(answer, CovarianceSketch):
            B = answer.B
            if B.ndim != 2 or B.shape[1] != self.cols or not np.isfinite(B).all():
                return Verdict(False, "malformed", f"expected a finite sketch with {self.cols} columns")
            if B.shape[0] > 2 * self.ell:  # a sketch of O(ell) rows (FD's buffer has 2 ell); more could hold A itself
                return Verdict(False, "malformed",
                               f"a sketch of {B.shape[0]} rows; the problem allows 2 ell = {2 * self.ell}")
            err = float(np.abs(np.linalg.eigvalsh(self.G - B.T @ B)).max())
            bound = self.tail() / (self.ell - self.k)
            if err <= bound + slack:
                return Verdict(True, None, "covariance error within ||A - A_k||_F^2 / (ell - k)")
            return Verdict(False, "covariance-error",
                           f"||A^T A - B^T B||_2 = {err:.6g} > ||A - A_k||_F^2 / (ell - k) = {bound:.6g}")
        if isinstance(answer, RowProjection):
            V = answer.V
            if (V.ndim != 2 or V.shape[0] != self.cols or V.shape[1] > self.k or not np.isfinite(V).all()
                    or not np.allclose(V.T @ V, np.eye(V.shape[1]), atol=1e-6)):
                return Verdict(False, "malformed",
                               f"expected an orthonormal {self.cols} x j basis with j <= k = {self.k}")
            cost = float(np.trace(self.G) - np.trace(V.T @ self.G @ V))
            bound = (1 + self.eps) * self.tail()
            if cost <= bound + slack:
                return Verdict(True, None, "projection cost within (1 + eps) ||A - A_k||_F^2")
            return Verdict(False, "projection-cost",
                           f"||A - A V V^T||_F^2 = {cost:.6g} > (1 + eps) ||A - A_k||_F^2 = {bound:.6g}")
        return Verdict(False, "malformed", f"expected a CovarianceSketch or a RowProjection, got {answer!r}")

