"""Problems: the referee. Each holds the parameters, the exact truth, and a judge.

The truth is a dense int64 vector ``x`` over the universe ``[0, n)``. Every batch is
validated before anything changes (:meth:`Problem.validate`), and only a
validated batch is committed (:meth:`Problem.commit`). A refused batch leaves the
truth exactly as it was.

>>> p = SparseRecovery(n=16, k=2, M=5)
>>> p.apply(as_batch([3, 3, 9], [2, 1, -5]))
>>> p.judge(SparseVector([3, 9], [3, -5]))
Verdict(correct=True, kind=None, detail='exact recovery')
>>> p.apply(as_batch([15], [6]))
Traceback (most recent call last):
...
wbstream.engine.errors.StreamError: update 0: x[15] would become 6, breaking the promise |x_i| <= M = 5
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .answers import NOT_SPARSE, SparseVector
from .errors import SpecError, StreamError
from .registry import problems
from .stream import Batch, as_batch

__all__ = ["Params", "Verdict", "Problem", "SparseRecovery", "DistinctElements", "F2Estimation", "HeavyHitters"]


class Params(Mapping):
    """Read-only problem parameters with attribute access (``params.n``).

    >>> p = Params("f2", n=16, M=4)
    >>> p.n, p["M"], p.kind, dict(p)
    (16, 4, 'f2', {'n': 16, 'M': 4})
    """

    __slots__ = ("_values", "kind")

    def __init__(self, kind: str | None = None, **values):
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "kind", kind)

    def __getattr__(self, name):
        if name.startswith("_"):  # copy/pickle probe dunders before _values exists
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter {name!r}; have {sorted(self._values)}") from None

    def __setattr__(self, name, value):
        raise AttributeError("Params are read-only")

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self  # immutable

    def __reduce__(self):
        return (_rebuild_params, (self.kind, self._values))

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        return f"Params[{self.kind}](" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


def _rebuild_params(kind, values):
    return Params(kind, **values)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The referee's judgement of one answer. ``kind`` names the failure."""

    correct: bool
    kind: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class _Plan:
    """A validated batch, ready to commit: net change per distinct index."""

    indices: np.ndarray   # distinct indices touched
    old: np.ndarray       # their values before
    new: np.ndarray       # their values after



def _check_n_M(n: int, M: int) -> None:
    """Refuse a universe size or entry bound outside its range (every problem has both)."""
    if n < 1:
        raise SpecError(f"universe size n must be >= 1, got {n}")
    if M < 1:
        raise SpecError(f"entry bound M must be in [1, 2**62), got {M}")
    if M >= 2**62:
        raise SpecError(f"entry bound M must be in [1, 2**62) so sums stay exact in int64, got {M}")

class Problem:
    """Base referee for problems over an integer vector ``x`` in ``[-M, M]^n``.

    Subclasses set ``name``, define the keyword-only parameters of ``__init__``,
    and implement :meth:`judge`. Set ``insertion_only`` to require ``delta > 0``.
    """

    name: ClassVar[str]
    insertion_only: bool = False
    #: Keep ``sumsq`` = ||x||_2^2 exactly, updated on every commit (the F2 referee needs it).
    tracks_sumsq: ClassVar[bool] = False
    #: What the stream carries: ``"entries"`` (integer turnstile updates) or ``"rows"``
    #: (:class:`~wbstream.engine.stream.RowBatch`); a game refuses an adversary of the other kind.
    stream_kind: ClassVar[str] = "entries"

    def __init__(self, *, n: int, M: int, **extra: Any):
        _check_n_M(n, M)
        if n * M >= 2**63:  # ||x||_1 <= n M, and the heavy-hitters referee sums x
            raise SpecError(f"n * M = {n * M} does not fit in int64 (sums over x would wrap); lower n or M")
        self.params = Params(self.name, n=int(n), M=int(M), **extra)
        self.n, self.M = int(n), int(M)
        self.x = np.zeros(self.n, dtype=np.int64)
        self.xview = memoryview(self.x)  # Python-int access to x for the single-update path
        self.nnz = 0
        self.sumsq = 0

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["xview"]  # a view of x; rebuilt on copy
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.xview = memoryview(self.x)

    # -- validation and commit ----------------------------------------------
    def validate(self, batch: Batch) -> _Plan:
        """Check a batch against the universe and the promise; change nothing."""
        batch = as_batch(batch)
        idx, dlt = batch.indices, batch.deltas
        if dlt.dtype != np.int64:  # a RowBatch of real rows, sent to a problem over integer entries
            raise StreamError(f"{self.name} takes integer updates, not rows of real numbers")
        n, M = self.n, self.M
        if len(idx) == 1:
            i, d = idx.item(), dlt.item()
            old, new = self.validate_one(i, d)
            return _Plan(idx, np.array([old]), np.array([new]))
        if len(idx) == 0:
            empty = np.zeros(0, np.int64)
            return _Plan(empty, empty, empty)
        bad = (idx < 0) | (idx >= n)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise StreamError(f"update {j}: index {idx[j]} is outside the universe [0, {n})")
        if self.insertion_only and (dlt <= 0).any():
            j = int(np.flatnonzero(dlt <= 0)[0])
            raise StreamError(f"update {j}: delta {dlt[j]} is not positive, but {self.name} is insertion-only")
        too_big = (dlt > 2 * M) | (dlt < -2 * M)  # not np.abs: it overflows at -2**63
        if too_big.any():
            j = int(np.flatnonzero(too_big)[0])
            raise StreamError(f"update {j}: delta {dlt[j]} cannot keep |x_i| <= M = {M}")
        # The promise holds at all times, so check every prefix, per index.
        order = np.argsort(idx, kind="stable")
        sidx, sdlt = idx[order], dlt[order]
        starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]])
        csum = np.cumsum(sdlt)
        group_base = np.repeat(csum[starts] - sdlt[starts], np.diff(np.r_[starts, len(sidx)]))
        running = self.x[sidx] + (csum - group_base)
        broken = (running > M) | (running < -M)
        if broken.any():
            j = int(order[np.flatnonzero(broken)].min())
            pos = int(np.flatnonzero(order == j)[0])
            raise StreamError(f"update {j}: x[{idx[j]}] would become {running[pos]}, "
                              f"breaking the promise |x_i| <= M = {M}")
        ends = np.r_[starts[1:], len(sidx)] - 1
        uniq = sidx[starts]
        return _Plan(uniq, self.x[uniq], running[ends])

    def validate_one(self, i: int, d: int) -> tuple[int, int]:
        """The single-update path of :meth:`validate`, on Python ints: ``(old, new)`` value of x[i]."""
        if not 0 <= i < self.n:
            raise StreamError(f"update 0: index {i} is outside the universe [0, {self.n})")
        if self.insertion_only and d <= 0:
            raise StreamError(f"update 0: delta {d} is not positive, but {self.name} is insertion-only")
        old = self.xview[i]
        new = old + d
        if new > self.M or new < -self.M:
            raise StreamError(f"update 0: x[{i}] would become {new}, "
                              f"breaking the promise |x_i| <= M = {self.M}")
        return old, new

    def commit_one(self, i: int, old: int, new: int) -> None:
        """Apply a single update validated by :meth:`validate_one`."""
        self.xview[i] = new
        if (new == 0) != (old == 0):
            self.nnz += 1 if old == 0 else -1
        if self.tracks_sumsq:
            self.sumsq += new * new - old * old

    def commit(self, plan: _Plan) -> None:
        """Apply a plan returned by :meth:`validate`."""
        if len(plan.indices) == 1:
            self.commit_one(plan.indices.item(), plan.old.item(), plan.new.item())
            return
        self.x[plan.indices] = plan.new
        self.nnz += int(np.count_nonzero(plan.new)) - int(np.count_nonzero(plan.old))
        if self.tracks_sumsq:  # exact: n * M^2 < 2^63 is checked where sumsq is tracked
            self.sumsq += int(np.dot(plan.new, plan.new)) - int(np.dot(plan.old, plan.old))

    def apply(self, batch) -> None:
        """Validate and commit in one step (for use outside a game)."""
        self.commit(self.validate(batch))

    # -- judging ---------------------------------------------------------------
    def exact_answer(self, x: np.ndarray):
        """The correct answer for a vector ``x`` (what an exact algorithm returns)."""
        raise NotImplementedError

    def judge(self, answer) -> Verdict:
        raise NotImplementedError

    def guarantee(self) -> str:
        """The correctness criterion in words."""
        raise NotImplementedError


_EXACT = Verdict(True, None, "exact recovery")


@problems.register
class SparseRecovery(Problem):
    """k-sparse recovery with detection: x exactly if nnz(x) <= k, else NOT_SPARSE.

    >>> p = SparseRecovery(n=8, k=1, M=3)
    >>> p.apply(as_batch([1, 2], [1, 1]))
    >>> p.judge(SparseVector([1], [1]))
    Verdict(correct=False, kind='missed-not-sparse', detail='nnz(x) = 2 > k = 1 but a vector was returned')
    """

    name = "sparse-recovery"

    def __init__(self, *, n: int = 4096, k: int = 8, M: int = 1024):
        _check_n_M(n, M)  # before k, whose range depends on n
        if not 1 <= k <= n:
            raise SpecError(f"sparsity k must be in [1, n], got k={k}, n={n}")
        super().__init__(n=n, M=M, k=int(k))
        self.k = int(k)

    def exact_answer(self, x):
        x = np.asarray(x)
        return NOT_SPARSE if np.count_nonzero(x) > self.k else SparseVector.from_dense(x)

    def guarantee(self) -> str:
        return f"x exactly if nnz(x) <= k = {self.k}, else NOT_SPARSE"

    def judge(self, answer) -> Verdict:
        sparse = self.nnz <= self.k
        if answer is NOT_SPARSE:
            if sparse:
                return Verdict(False, "false-not-sparse", f"nnz(x) = {self.nnz} <= k = {self.k} but NOT_SPARSE")
            return Verdict(True, None, "correctly detected a non-sparse vector")
        if not isinstance(answer, SparseVector):
            return Verdict(False, "malformed", f"expected a SparseVector or NOT_SPARSE, got {answer!r}")
        if not sparse:
            return Verdict(False, "missed-not-sparse",
                           f"nnz(x) = {self.nnz} > k = {self.k} but a vector was returned")
        ok = len(answer) == self.nnz and bool(
            (answer.indices >= 0).all() and (answer.indices < self.n).all()
            and np.array_equal(self.x[answer.indices], answer.values))
        if ok:
            return _EXACT
        return Verdict(False, "wrong-vector", f"returned {len(answer)} entries, not the true {self.nnz}-sparse x")


def _factor_bounds(truth: float, eps: float | None, alpha: float | None) -> tuple[float, float]:
    if alpha is not None:
        return truth / alpha, truth * alpha
    return (1 - eps) * truth, (1 + eps) * truth


_WITHIN = Verdict(True, None, "estimate within the stated factor")


class _Estimation(Problem):
    """Shared judge for scalar estimates within a factor (1 ± eps, or alpha)."""

    quantity: ClassVar[str]

    def __init__(self, *, n: int, M: int, eps: float, alpha: float | None, **extra):
        if alpha is not None and alpha < 1:
            raise SpecError(f"approximation factor alpha must be >= 1, got {alpha}")
        if not 0 < eps < 1:
            raise SpecError(f"eps must be in (0, 1), got {eps}")
        super().__init__(n=n, M=M, eps=float(eps), alpha=alpha, **extra)
        self.eps, self.alpha = float(eps), (None if alpha is None else float(alpha))
        self._low, self._high = _factor_bounds(1.0, self.eps, self.alpha)

    def truth(self) -> float:
        raise NotImplementedError

    def guarantee(self) -> str:
        factor = f"a factor {self.alpha}" if self.alpha is not None else f"1 ± {self.eps}"
        return f"estimate of {self.quantity} within {factor}"

    def judge(self, answer) -> Verdict:
        if type(answer) is float:
            est = answer
        else:
            try:
                est = float(answer)
            except (TypeError, ValueError):
                return Verdict(False, "malformed", f"expected a number, got {answer!r}")
        truth = self.truth()
        lo, hi = self._low * truth, self._high * truth
        if lo <= est <= hi:  # NaN fails both comparisons
            return _WITHIN
        return Verdict(False, "out-of-factor",
                       f"{self.quantity} estimate {est:.6g} outside [{lo:.6g}, {hi:.6g}] (truth {truth:.6g})")


@problems.register
class DistinctElements(_Estimation):
    """Distinct elements: estimate nnz(x) (L0; F0 when insertion-only) within the factor.

    >>> p = DistinctElements(n=10, insertion_only=True)
    >>> p.apply(as_batch([1, 1, 4], [1, 2, 1]))
    >>> p.exact_answer(p.x), p.judge(2.1).correct
    (2, True)
    """

    name = "distinct-elements"
    quantity = "L0"

    def __init__(self, *, n: int = 4096, M: int = 1024, eps: float = 0.1, alpha: float | None = None,
                 insertion_only: bool = False):
        super().__init__(n=n, M=M, eps=eps, alpha=alpha, insertion_only=bool(insertion_only))
        self.insertion_only = bool(insertion_only)
        if self.insertion_only:
            self.quantity = "F0"

    def exact_answer(self, x):
        return int(np.count_nonzero(x))

    def truth(self) -> float:
        return float(self.nnz)


@problems.register
class F2Estimation(_Estimation):
    """F2 = ||x||_2^2 within 1 ± eps. The truth is kept exactly in int64.

    >>> p = F2Estimation(n=10, M=100, eps=0.1)
    >>> p.apply(as_batch([0, 1], [3, 4]))
    >>> p.sumsq, p.judge(26.0).correct, p.judge(20.0).kind
    (25, True, 'out-of-factor')
    """

    name = "f2"
    quantity = "F2"
    tracks_sumsq = True

    def __init__(self, *, n: int = 4096, M: int = 1024, eps: float = 0.5, alpha: float | None = None,
                 insertion_only: bool = False):
        _check_n_M(n, M)
        if n * M * M >= 2**63:
            raise SpecError(f"n * M^2 = {n * M * M} does not fit in int64; lower n or M")
        super().__init__(n=n, M=M, eps=eps, alpha=alpha, insertion_only=bool(insertion_only))
        self.insertion_only = bool(insertion_only)

    def exact_answer(self, x):
        x = np.asarray(x, dtype=np.int64)
        return float(np.dot(x, x))

    def truth(self) -> float:
        return float(self.sumsq)


_HEAVY_OK = Verdict(True, None, "every heavy hitter reported and no light one")


@problems.register
class HeavyHitters(Problem):
    """L1 heavy hitters (insertion-only): report every i with f_i >= eps*m and none with f_i <= eps*m/2.

    ``m`` is the stream length counted with multiplicity, ``m = sum_i f_i = ||x||_1``.
    Indices with ``eps*m/2 < f_i < eps*m`` may or may not be reported. When
    ``m = 0`` nothing is heavy and nothing may be reported. The answer is the set of
    reported indices: a 1-d integer array (sorted int64 by convention) or a list;
    order and repeats do not matter, but a non-integer or an index outside
    ``[0, n)`` is ``malformed``.

    The stream is insertion-only (every delta > 0). Turnstile heavy hitters are out
    of scope here. The referee keeps no running ``m``: the round loop inlines single
    updates and would skip a per-update hook. :meth:`judge` computes
    ``m = int(x.sum())`` instead, O(n) per query, which is acceptable next to the
    O(n) scan for heavy indices it does anyway.

    >>> p = HeavyHitters(n=10, M=100, eps=0.25)
    >>> p.apply(as_batch([1, 1, 2, 3, 4], [5, 3, 2, 1, 1]))
    >>> p.exact_answer(p.x)
    array([1])
    >>> p.judge(np.array([1, 2]))
    Verdict(correct=True, kind=None, detail='every heavy hitter reported and no light one')
    >>> p.judge([2]).kind, p.judge([1, 4]).kind
    ('missed-heavy', 'false-heavy')
    """

    name = "heavy-hitters"
    insertion_only = True

    def __init__(self, *, n: int = 4096, M: int = 1 << 20, eps: float = 0.05):
        if not 0 < eps < 1:
            raise SpecError(f"eps must be in (0, 1), got {eps}")
        super().__init__(n=n, M=M, eps=float(eps))
        self.eps = float(eps)
        self.insertion_only = True

    def exact_answer(self, x):
        x = np.asarray(x, dtype=np.int64)
        m = int(x.sum())
        if m <= 0:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(x >= self.eps * m).astype(np.int64)

    def guarantee(self) -> str:
        return (f"every i with f_i >= eps*m reported and none with f_i <= eps*m/2 "
                f"(eps = {self.eps}, m = total count; insertion-only)")

    def judge(self, answer) -> Verdict:
        reported = _index_set(answer, self.n)
        if isinstance(reported, str):
            return Verdict(False, "malformed", reported)
        x = self.x
        m = int(x.sum())  # O(n): no per-update hook runs on the inlined single-update path
        if m > 0:
            heavy = np.flatnonzero(x >= self.eps * m)
            missed = np.setdiff1d(heavy, reported, assume_unique=True)
            if len(missed):
                i = int(missed[0])
                return Verdict(False, "missed-heavy",
                               f"index {i} has count {int(x[i])} >= eps*m = {self.eps * m:.6g} but was not reported"
                               + (f" ({len(missed)} heavy hitters missed)" if len(missed) > 1 else ""))
        if len(reported):
            half = self.eps * m / 2
            light = reported[x[reported] <= half]
            if len(light):
                i = int(light[0])
                return Verdict(False, "false-heavy",
                               f"index {i} has count {int(x[i])} <= eps*m/2 = {half:.6g} but was reported"
                               + (f" ({len(light)} light indices reported)" if len(light) > 1 else ""))
        return _HEAVY_OK


def _index_set(answer, n: int) -> np.ndarray | str:
    """The distinct indices of an answer as a sorted int64 array, or why the answer is malformed."""
    if isinstance(answer, (list, tuple)):
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in answer):
            return f"expected integer indices, got {answer!r}"
        arr = np.array(answer, dtype=np.int64) if answer else np.zeros(0, np.int64)
    elif isinstance(answer, np.ndarray):
        if answer.ndim != 1 or (answer.size and answer.dtype.kind not in "iu"):
            return f"expected a 1-d integer array of indices, got dtype {answer.dtype} and shape {answer.shape}"
        if answer.dtype.kind == "u" and answer.size and answer.max() >= n:
            return f"index {int(answer.max())} is outside the universe [0, {n})"
        arr = answer.astype(np.int64)
    else:
        return f"expected an array or list of indices, got {answer!r}"
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        return f"index {int(arr[np.flatnonzero(bad)[0]])} is outside the universe [0, {n})"
    return np.unique(arr)
