"""White-box robust L0: an alpha-approximation of nnz(x) from k-sparse recovery (docs/references.md#fjw24).

Run ``fjw24`` with ``k = ceil(n / alpha^2)``. If it returns a vector, the count of
its non-zeros is exact. If it reports ``NOT_SPARSE``, the truth lies in ``(k, n]``
and ``sqrt(k n)`` (about ``n / alpha``) is within a factor alpha of every value
there: ``sqrt(kn)/L0 <= sqrt(n/k) <= alpha`` and ``sqrt(kn)/L0 >= sqrt(k/n) >= 1/alpha``.
The estimate is wrong only if the recovery is, so it inherits fjw24's guarantee
against PPT white-box adversaries, in turnstile streams, with no secret, at a preset
that claims it. The default is ``sec64`` (about 65 bits, core-SVP; binding proven for
n <= 2^16, M <= 2^10; a key of up to 10 GiB); ``toy`` is breakable by design and is
what the built-in arena suites play.
"""

from __future__ import annotations

import math

from wbstream.algorithms.sparse.fjw24 import FJW24
from wbstream.engine.answers import NOT_SPARSE
from wbstream.engine.problems import DistinctElements, Params
from wbstream.engine.registry import algorithms


def recovery_k(n: int, alpha: float) -> int:
    """The sparsity ``ceil(n / alpha^2)`` the L0 estimator recovers exactly.

    >>> recovery_k(10**6, 100), recovery_k(4096, 16), recovery_k(10, 1.5)
    (100, 16, 5)
    """
    return max(1, math.ceil(n / alpha ** 2))


@algorithms.register
class RobustL0(FJW24):
    """An alpha-approximation of L0 on fjw24 with k = ceil(n / alpha^2); options are fjw24's.

    >>> import numpy as np
    >>> from wbstream.engine.coins import Coins
    >>> p = DistinctElements(n=4096, M=100, alpha=16)
    >>> l0 = RobustL0(p.params, Coins.from_seed(0, "doc"), preset="toy")
    >>> l0.k, l0.query()
    (16, 0.0)
    >>> l0.update(np.array([3, 9, 9]), np.array([5, -2, 1]))
    >>> l0.query()
    2.0
    >>> l0.update(np.arange(100, 1100), np.ones(1000, dtype=np.int64))  # far from 16-sparse
    >>> l0.query()  # sqrt(16 * 4096): within 16x of any count in (16, 4096]
    256.0
    >>> RobustL0(DistinctElements(n=4096).params, Coins.from_seed(0, "doc"), preset="toy")
    Traceback (most recent call last):
    ...
    ValueError: robust-l0 is an alpha-approximation: give the problem a factor alpha, e.g. distinct-elements(n=4096, alpha=16)
    """

    name = "robust-l0"

    computed_defaults = {"n_lwe": "the preset's", "base_bits": "the preset's", "L": "ceil(log2 n)", "p": "2^31 - 1",
                         "degree": "33, the expander's left degree"}
    problem = DistinctElements
    guarantee = ("L0 within the problem's factor alpha in turnstile streams, against PPT white-box "
                 "adversaries (fjw24 with k = ceil(n/alpha^2)) at its default preset sec64 (λ ≈ 65 bits, "
                 "core-SVP; binding proven for n <= 2^16, M <= 2^10)")
    #: k = 1: the toy preset falls to the lattice attack with recovery='vandermonde'; on the expander default
    #: (the identity at n = 1024, 2n rows) the attack gives up, as against fjw24
    arena_problem = "distinct-elements(n=1024, M=1048576, alpha=32)"
    arena_options = "preset='toy'"
    default_preset = "sec64"

    def __init__(self, params, coins, *, preset: str = "sec64", n_lwe: int = 0, base_bits: int = 0,
                 L: int = 0, cache_levels: int = 0, p: int = 0, recovery: str = "expander", degree: int = 0,
                 allow_unproven: bool = False):
        self.l0_params = params
        super().__init__(self.recovery_params(params), coins, preset=preset, n_lwe=n_lwe, base_bits=base_bits,
                         L=L, cache_levels=cache_levels, p=p, recovery=recovery, degree=degree,
                         allow_unproven=allow_unproven)
        self.k = self.params.k

    @classmethod
    def security_for(cls, params, **options):
        try:
            return super().security_for(cls.recovery_params(params), **options)
        except ValueError:  # no factor alpha: nothing would be built
            return None

    @staticmethod
    def recovery_params(params: Params) -> Params:
        """The k-sparse recovery problem's parameters behind an L0 problem with factor alpha."""
        alpha = params.get("alpha")
        if alpha is None:
            raise ValueError(f"robust-l0 is an alpha-approximation: give the problem a factor alpha, "
                             f"e.g. distinct-elements(n={params.n}, alpha=16)")
        return Params("sparse-recovery", n=params.n, k=recovery_k(params.n, alpha), M=params.M)

    def query(self) -> float:
        recovered = super().query()
        if recovered is NOT_SPARSE:
            return math.sqrt(self.k * self.params.n)
        return float(len(recovered))

    @classmethod
    def recovery_columns(cls, params, state, columns):
        return super().recovery_columns(cls.recovery_params(params), state, columns)
