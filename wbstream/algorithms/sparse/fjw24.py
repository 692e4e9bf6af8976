"""FJW'24: a relaxed recovery plus a GSW pseudorandom-ciphertext tester, no random oracle.

The relaxed recovery is the expander one by default (polylog update, independent of
k: docs/sparse-recovery.md), ``recovery="vandermonde"`` for FW'23's 2k syndromes.

The key is L = ceil(log2 n) uniformly random "ciphertexts" ``C_1..C_L`` in
``Z_q^{N x N ell}`` (q = 2^64 or 2^128, from the preset), drawn once from the coins
and stored in the state (a key of many GiB is cached on disk and memory-mapped,
:mod:`wbstream.crypto.keycache`):
nothing is secret and nothing is encrypted. Column j of the tester is
``EvalCol(j)``, column c* of the GSW evaluation of the equality-to-j circuit on
the key (docs/references.md#fjw24); the state keeps the running hash
``h = sum_j x_j EvalCol(j) mod q``. In the security proof the key is replaced by
encryptions of the bits of a hidden index v, and a collision decrypts to
``x_v - x̂_v`` **when both binding inequalities hold** at (n, M)
(:mod:`wbstream.crypto.binding`; ``self.gsw.binding`` says whether they do); then
equal hashes force ``x_v = x̂_v``. Presets that claim security (``sec64``,
``sec128``, ...) are refused where binding fails, unless ``allow_unproven=True``
(the estimate then says so). ``cache_levels = t`` stores the
chain vectors of the innermost t levels (2^t columns of N words), so each update
runs L - t levels instead of L.
"""

from __future__ import annotations

import numpy as np

from wbstream.algorithms.sparse.tested import TESTER_CHUNK, TestedSparseRecovery
from wbstream.crypto.gsw import MAX_BATCH, EvalCache, GswKey, GswParams, add_mod_q, eval_cols
from wbstream.crypto.keycache import sample_key
from wbstream.crypto.modular128 import from_pairs, mul128_int, sum128
from wbstream.crypto.params import FJW24_PRESETS, check_binding, gsw_bits
from wbstream.engine.algorithm import SecurityEstimate
from wbstream.engine.errors import at_least
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import WHITE_BOX


class GswTester:
    """The running hash ``h = sum_j x_j EvalCol(j) mod q``: ``uint64`` ``(N,)``, or (lo, hi) pairs ``(N, 2)`` at q = 2^128.

    The merge modulus is q; at q = 2^128 merging adds the pairs with carries
    (:func:`wbstream.engine.algorithm.add_mod`).
    """

    def __init__(self, gsw: GswParams, key: GswKey, cache_levels: int):
        self.gsw, self.key = gsw, key
        # a memory-mapped key is cut into limbs afresh for every product: larger chunks amortise the cut
        self.chunk = MAX_BATCH if key.mapped else TESTER_CHUNK
        self.modulus = 1 << gsw.log_q
        self.cache = EvalCache(key, cache_levels) if cache_levels else None
        self.state_bits = gsw.N * gsw.log_q
        cached = self.cache.vectors.size if self.cache is not None else 0
        self.key_bits = (int(key.C.size) + cached) * 64  # the cache is derived from the key

    @classmethod
    def sample(cls, gsw: GswParams, coins, label: str, cache_levels: int = 0) -> GswTester:
        """A tester whose key is drawn from ``coins`` under ``label`` (a large key through the key cache)."""
        return cls(gsw, sample_key(gsw, coins, label), cache_levels)

    def zero(self):
        return np.zeros((self.gsw.N,) + self.gsw.word_shape, dtype=np.uint64)

    def hash_of(self, indices, values):
        W = eval_cols(self.key, np.asarray(indices, np.int64), self.cache)
        if self.gsw.wide:
            return sum128(mul128_int(W, np.asarray(values, np.int64)), axis=1)
        return (W * np.asarray(values, np.int64).astype(np.uint64)).sum(axis=1, dtype=np.uint64)

    def add(self, h, indices, deltas):
        return add_mod_q(self.gsw, h, self.hash_of(indices, deltas))

    def state(self):
        g = self.gsw
        out = {"key": self.key.C, "n_lwe": g.n_lwe, "base_bits": g.base_bits, "L": g.L, "t_star": g.t_star}
        if g.wide:
            out["log_q"] = g.log_q
        if self.cache is not None:
            out["cache"] = self.cache.vectors
        return out


def gsw_params(name: str, n: int, M: int, preset: str = "toy", n_lwe: int = 0, base_bits: int = 0,
               L: int = 0, cache_levels: int = 0, log_q: int = 0) -> GswParams:
    """The GSW tester parameters for a universe of n indices: a named preset, overridden field by field.

    ``L`` defaults to ``ceil(log2 n)`` key ciphertexts (one per index bit). The
    modulus ``2^log_q`` and the proof-world error width come from the preset;
    t* comes from the binding check, whose outcome is ``.binding`` of the result.
    """
    if preset not in FJW24_PRESETS:
        raise ValueError(f"{name}: preset must be one of {', '.join(FJW24_PRESETS)}, got {preset!r}")
    chosen = FJW24_PRESETS[preset]
    at_least(name, n_lwe=(n_lwe, 0), base_bits=(base_bits, 0), L=(L, 0), cache_levels=(cache_levels, 0))
    if L and (1 << L) < n:
        raise ValueError(f"{name}: L = {L} levels index only 2^{L} = {1 << L} < n = {n} columns")
    log_q = log_q or chosen.log_q
    if log_q not in (64, 128):
        raise ValueError(f"{name}: log_q must be 64 or 128, got {log_q}")
    gsw = GswParams.for_universe(n, n_lwe or chosen.n_lwe, base_bits or chosen.base_bits, M, log_q=log_q,
                                 sigma=chosen.sigma, L=L)
    if not 0 <= cache_levels <= gsw.L:
        raise ValueError(f"{name}: cache_levels must be in [0, L = {gsw.L}], got {cache_levels}")
    return gsw


def gsw_tester_columns(state, columns) -> tuple[np.ndarray, int]:
    """The tester matrix on ``columns`` as a reader of the state rebuilds it, and its modulus q.

    At q = 2^64 the matrix is ``uint64`` ``(N, m)``. At q = 2^128 it is an ``(N, m)``
    object array of exact Python ints in ``[0, 2^128)``: a reader reducing mod q
    and reading entries with ``int()`` works unchanged at either modulus.
    """
    gsw = GswParams(int(state["n_lwe"]), int(state["base_bits"]), int(state["L"]), int(state["t_star"]),
                    int(state.get("log_q", 64)))
    C = state["key"]
    key = GswKey(gsw, C, mapped=not np.asarray(C).flags.writeable)
    cols = eval_cols(key, np.asarray(columns, np.int64))
    return (from_pairs(cols) if gsw.wide else cols), 1 << gsw.log_q


class GswPresetSecurity:
    """The security estimate of an algorithm whose tester is this GSW tester at a preset.

    Instances keep ``preset`` and the tester's ``GswParams`` as ``gsw``; the estimate
    depends on ``k``, ``M``, the preset and ``n_lwe`` (:func:`wbstream.crypto.params.gsw_bits`),
    and says "unproven" where a security-claiming preset does not bind at (n, M).
    """

    #: The preset an instance gets when none is given.
    default_preset = "toy"

    @classmethod
    def security_for(cls, params, *, preset: str = "", n_lwe: int = 0, base_bits: int = 0, L: int = 0, **_):
        preset = preset or cls.default_preset
        if preset not in FJW24_PRESETS:
            return None
        b = FJW24_PRESETS[preset].binding(params.n, params.M, n_lwe=n_lwe, base_bits=base_bits, L=L)
        return gsw_security(params, preset, n_lwe, b)

    def security(self):
        return gsw_security(self.params, self.preset, self.gsw.n_lwe, self.gsw.binding)


def gsw_security(params, preset: str, n_lwe: int, binding) -> SecurityEstimate:
    """The :class:`SecurityEstimate` of a GSW tester at (params.k, params.M) whose binding check is ``binding``."""
    unproven = "" if binding.holds or not FJW24_PRESETS[preset].claims_security else binding.failed + " fails"
    return SecurityEstimate(preset, gsw_bits(params.k, params.M, preset, n_lwe), unproven)


@algorithms.register
class FJW24(GswPresetSecurity, TestedSparseRecovery):
    """Feng–Jain–Woodruff 2024: relaxed recovery + GSW pseudorandom-ciphertext tester.

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.problems import SparseRecovery
    >>> p = SparseRecovery(n=256, k=2, M=100)
    >>> alg = FJW24(p.params, Coins.from_seed(0, "doc"), preset="toy")
    >>> alg.update(np.array([3, 200]), np.array([-4, 9]))
    >>> alg.query()
    SparseVector(indices=[3, 200], values=[-4, 9])
    >>> alg.update(np.arange(10, 20), np.ones(10, dtype=np.int64))
    >>> alg.query()
    NOT_SPARSE
    """

    name = "fjw24"
    #: The default relaxed recovery: D = 33 bucket sums an update whatever k is (``recovery="vandermonde"``: 2k syndromes).
    relaxed_recovery = "expander"

    computed_defaults = {"n_lwe": "the preset's", "base_bits": "the preset's", "L": "ceil(log2 n)", "p": "2^31 - 1",
                         "degree": "33, the expander's left degree"}
    guarantee = ("x exactly when nnz(x) <= k, else NOT_SPARSE, against PPT white-box adversaries (LWE, no random "
                 "oracle) at a preset that claims it: sec64 (λ ≈ 65 bits) or sec128 (λ ≈ 128 bits), core-SVP, "
                 "binding proven for n <= 2^16, M <= 2^10; the default toy is breakable by design")
    claims = WHITE_BOX

    def __init__(self, params, coins, *, preset: str = "toy", n_lwe: int = 0, base_bits: int = 0,
                 L: int = 0, cache_levels: int = 0, p: int = 0, recovery: str = "expander", degree: int = 0,
                 allow_unproven: bool = False):
        self.preset = preset
        self.gsw = gsw_params("fjw24", params.n, params.M, preset, n_lwe, base_bits, L, cache_levels)
        check_binding(self.name, preset, self.gsw.binding, allow_unproven=allow_unproven)
        self.cache_levels = cache_levels
        super().__init__(params, coins, p=p, recovery=recovery, degree=degree)

    def make_tester(self):
        return GswTester.sample(self.gsw, self.coins, "fjw24/key", self.cache_levels)

    @classmethod
    def tester_columns(cls, params, state, columns):
        return gsw_tester_columns(state, columns)
