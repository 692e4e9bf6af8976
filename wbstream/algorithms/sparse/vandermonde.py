"""Deterministic relaxed k-sparse recovery: Vandermonde / Reed–Solomon syndrome decoding.

FJW'24's suggested relaxed recovery (docs/references.md#vandermonde). The state is the 2k syndromes

    s_t = sum_i x_i * alpha_i^t  (mod p),   t = 0 .. 2k-1,   alpha_i = i + 1,

for a public prime ``p > max(n, 2M)``. Any 2k columns of this Vandermonde matrix
are independent, so a k-sparse x is the only k-sparse vector with its syndromes,
and Berlekamp–Massey + root finding over F_p (python-flint) + a Vandermonde solve
recover it exactly, in time polynomial in k and log p: report never scans the n indices.
There are no coins: the sketch is the same for everyone, which is what makes it
*relaxed*. When x is not k-sparse the decoder may fail (``None``) or return some
k-sparse vector with the same syndromes; it cannot tell. The finite-difference
attack (``finite-difference``, docs/references.md#finite-difference) produces the second case on
purpose. FW'23 and FJW'24 put a tester in front of this component to catch it.

Integer widths: every residue is ``< p < 2^31``, so the product of two residues
is ``< 2^62`` and fits in int64 exactly; sums of up to 2^32 residues also fit. That
is why ``p < 2^31`` is required, and why every intermediate here is reduced mod p
before the next product.
"""

from __future__ import annotations

import operator

import numpy as np
from flint import nmod_poly

from wbstream.crypto.modular import is_prime, mod_inv
from wbstream.engine.algorithm import LinearSketch, Space, bits_for_range, nbytes_of
from wbstream.engine.answers import NOT_SPARSE, SparseVector
from wbstream.engine.problems import SparseRecovery
from wbstream.engine.registry import algorithms

__all__ = ["SyndromeDecoder", "VandermondeRecovery", "vandermonde_columns", "P31"]

#: The default modulus, the Mersenne prime 2^31 - 1: the largest prime with products < 2^62.
P31 = (1 << 31) - 1
#: Moduli must be below this so a product of two residues fits in int64 exactly.
P_LIMIT = 1 << 31
#: Updates processed at once by ``update`` (bounds memory and keeps column sums < 2^63).
_UPDATE_CHUNK = 1 << 20



def vandermonde_columns(indices, rows: int, p: int) -> np.ndarray:
    """``alpha_i^t mod p`` for ``alpha_i = i + 1``: an int64 ``rows x len(indices)`` matrix.

    >>> vandermonde_columns([0, 1, 4], rows=3, p=7)
    array([[1, 1, 1],
           [1, 2, 5],
           [1, 4, 4]])
    """
    alpha = np.mod(np.asarray(indices, dtype=np.int64) + 1, p)
    out = np.empty((rows, len(alpha)), dtype=np.int64)
    if rows == 0:
        return out
    out[0] = 1 % p
    for t in range(1, rows):
        np.multiply(out[t - 1], alpha, out=out[t])  # < p^2 < 2^62
        np.remainder(out[t], p, out=out[t])
    return out


def _berlekamp_massey(s: list[int], p: int) -> tuple[list[int], int]:
    """Shortest LFSR over F_p: ``(C, L)`` with ``C = [1, c_1, ..., c_L]`` and
    ``s_j + c_1 s_{j-1} + ... + c_L s_{j-L} = 0 (mod p)`` for ``L <= j < len(s)``."""
    C, B = [1], [1]
    L, m, b = 0, 1, 1
    for i in range(len(s)):
        d = s[i]
        for j in range(1, L + 1):
            d += C[j] * s[i - j]
        d %= p
        if d == 0:
            m += 1
            continue
        coef = d * mod_inv(b, p) % p
        T = C[:]
        if len(C) < len(B) + m:
            C += [0] * (len(B) + m - len(C))
        for j, bj in enumerate(B):
            C[j + m] = (C[j + m] - coef * bj) % p
        if 2 * L <= i:
            L, B, b, m = i + 1 - L, T, d, 1
        else:
            m += 1
    C += [0] * (L + 1 - len(C))
    return C[:L + 1], L


class SyndromeDecoder:
    """The 2k Vandermonde syndromes of x mod p, and a decoder exact on k-sparse x.

    Deterministic and keyless: the relaxed k-sparse recovery component (StreamAlg0)
    of FW'23 and FJW'24 (docs/references.md#vandermonde). Requirements on ``p``, each checked:
    prime; ``p > n`` (the points ``alpha_i = i + 1`` are distinct and non-zero);
    ``p > 2M`` (a value in ``[-M, M]`` has a unique centred lift, which blocks the
    wrap-around attack of §5.2(b)); ``p < 2^31`` (products of residues fit in int64).

    >>> dec = SyndromeDecoder(n=1000, k=3, M=100, p=1009)
    >>> dec.update(np.array([5, 999, 5]), np.array([40, -7, 2]))
    >>> dec.decode()
    SparseVector(indices=[5, 999], values=[42, -7])

    Not k-sparse: adding the finite difference ``(-1)^j C(6, j)`` leaves the
    syndromes unchanged, so the decoder returns the old vector for a 9-sparse x.

    >>> dec.update(np.arange(100, 107), np.array([1, -6, 15, -20, 15, -6, 1]))
    >>> dec.decode()
    SparseVector(indices=[5, 999], values=[42, -7])
    >>> SyndromeDecoder(n=1000, k=3, M=100, p=199)
    Traceback (most recent call last):
    ...
    ValueError: p = 199 must be > n = 1000 so the evaluation points alpha_i = i + 1 are distinct and non-zero mod p
    """

    def __init__(self, n: int, k: int, M: int, p: int):
        n, k, M = operator.index(n), operator.index(k), operator.index(M)
        try:
            p = operator.index(p)
        except TypeError:
            raise ValueError(f"p must be an integer prime, got {p!r}") from None
        if n < 1:
            raise ValueError(f"universe size n must be >= 1, got {n}")
        if k < 1:
            raise ValueError(f"sparsity k must be >= 1, got {k}")
        if M < 1:
            raise ValueError(f"entry bound M must be >= 1, got {M}")
        if p >= P_LIMIT:
            raise ValueError(f"p = {p} must be < 2^31 so a product of two residues fits in int64 exactly")
        if not is_prime(p):
            raise ValueError(f"p = {p} is not prime: the syndromes must live in the field F_p")
        if p <= n:
            raise ValueError(f"p = {p} must be > n = {n} so the evaluation points alpha_i = i + 1 "
                             f"are distinct and non-zero mod p")
        if p <= 2 * M:
            raise ValueError(f"p = {p} must be > 2M = {2 * M} so a value in [-M, M] has a unique centred "
                             f"lift mod p (else x + p*e_i has the syndromes of x: the wrap-around attack)")
        self.n, self.k, self.M, self.p = n, k, M, p
        self.rows = 2 * k
        self.s = np.zeros(self.rows, dtype=np.int64)

    def copy(self) -> SyndromeDecoder:
        """An independent decoder with the same parameters and syndromes."""
        twin = object.__new__(SyndromeDecoder)
        twin.__dict__.update(self.__dict__)
        twin.s = self.s.copy()
        return twin

    def columns(self, indices) -> np.ndarray:
        """The sketch matrix on ``indices``: ``alpha_i^t mod p``, int64, ``2k x len(indices)``."""
        return vandermonde_columns(indices, self.rows, self.p)

    def _accumulate(self, out: np.ndarray, indices, deltas) -> None:
        """``out += V[:, indices] @ deltas (mod p)``, exactly, in int64."""
        indices = np.asarray(indices, dtype=np.int64)
        deltas = np.asarray(deltas, dtype=np.int64)
        p = self.p
        if len(indices) == 1:  # the common single update: Python ints beat 2k tiny numpy calls
            a, cur = (indices.item() + 1) % p, deltas.item() % p
            col = [0] * self.rows
            for t in range(self.rows):
                col[t] = cur
                cur = cur * a % p
            out += np.array(col, dtype=np.int64)
            np.remainder(out, p, out=out)
            return
        for start in range(0, len(indices), _UPDATE_CHUNK):
            alpha = np.mod(indices[start:start + _UPDATE_CHUNK] + 1, p)
            cur = np.mod(deltas[start:start + _UPDATE_CHUNK], p)  # in [0, p)
            for t in range(self.rows):
                # a chunk sums < 2^20 residues < 2^31: < 2^51, exact
                out[t] = (int(out[t]) + int(cur.sum())) % p
                if t + 1 < self.rows:
                    np.multiply(cur, alpha, out=cur)  # < p^2 < 2^62
                    np.remainder(cur, p, out=cur)

    def update(self, indices, deltas) -> None:
        """Add a batch of updates ``x[indices] += deltas`` to the syndromes."""
        self._accumulate(self.s, indices, deltas)

    def syndromes_of(self, indices, values) -> np.ndarray:
        """The syndromes of the vector with ``values`` at ``indices`` (repeats add up)."""
        out = np.zeros(self.rows, dtype=np.int64)
        self._accumulate(out, indices, values)
        return out

    def _roots(self, C: list[int], L: int) -> np.ndarray:
        """Every ``a`` in ``1..n`` with ``a^L + c_1 a^{L-1} + ... + c_L = 0 (mod p)``, ascending.

        The reciprocal of the connection polynomial C(z) = prod_j (1 - a_j z) is
        prod_j (x - a_j), so its roots are the evaluation points of the support.
        FLINT finds its roots over F_p (randomised splitting; the roots found do not depend on
        the randomness), in expected time polynomial in L and log p: no scan of 1..n.
        """
        poly = nmod_poly([int(c) for c in reversed(C)], self.p)  # coefficients from x^0 up
        found = sorted(int(a) for a, _ in poly.roots() if 1 <= int(a) <= self.n)
        return np.array(found, dtype=np.int64)

    def _solve_values(self, C: list[int], roots: list[int], s: list[int]) -> list[int]:
        """Solve ``sum_j v_j a_j^t = s_t`` (t < L) mod p by the Vandermonde inverse formula.

        With P(x) = prod_j (x - a_j) and P_j = P / (x - a_j) = sum_m b_{j,m} x^m,
        sum_t b_{j,t} s_t = v_j P_j(a_j) = v_j P'(a_j).
        """
        p, L = self.p, len(roots)
        values = []
        for a in roots:
            q = [1] * L  # quotient P / (x - a), highest coefficient first
            for i in range(1, L):
                q[i] = (C[i] + a * q[i - 1]) % p
            num = sum(q[L - 1 - m] * s[m] for m in range(L)) % p
            den = 0
            for coef in q:
                den = (den * a + coef) % p
            values.append(num * mod_inv(den, p) % p)
        return values

    def decode(self) -> SparseVector | None:
        """x if it is k-sparse; otherwise ``None`` or some k-sparse vector with the same syndromes."""
        p, M = self.p, self.M
        s = [int(v) for v in self.s]
        if not any(s):
            return SparseVector([], [])
        C, L = _berlekamp_massey(s, p)
        if L > self.k or L == 0:
            return None
        roots = self._roots(C, L)
        if len(roots) != L:
            return None
        residues = self._solve_values(C, roots.tolist(), s)
        half = p // 2
        values = [v - p if v > half else v for v in residues]  # centred lift to (-p/2, p/2]
        if any(v == 0 or abs(v) > M for v in values):
            return None
        indices = roots - 1
        vals = np.array(values, dtype=np.int64)
        if not np.array_equal(self.syndromes_of(indices, vals), self.s):
            return None
        return SparseVector(indices, vals)


@algorithms.register
class VandermondeRecovery(LinearSketch):
    """Relaxed k-sparse recovery by Vandermonde syndromes mod p: exact on k-sparse x, blind otherwise.

    Deterministic, no key, 2k words of ``ceil(log2 p)`` bits (docs/references.md#vandermonde). With
    ``p=0`` the modulus is 2^31 - 1. It has no tester, so on a vector that is not
    k-sparse it may return a wrong k-sparse vector instead of ``NOT_SPARSE``: the
    ``finite-difference`` attack does exactly that.

    >>> from wbstream.engine.coins import Coins
    >>> prob = SparseRecovery(n=10**5, k=4, M=1000)
    >>> alg = VandermondeRecovery(prob.params, Coins.from_seed(0, "doc"))
    >>> alg.update(np.array([0, 99999, 512, 0]), np.array([-1000, 7, 3, 1]))
    >>> alg.query(), alg.space().state_bits
    (SparseVector(indices=[0, 512, 99999], values=[-999, 3, 7]), 248)
    >>> alg.update(np.arange(10, 20), np.ones(10, dtype=np.int64))  # 13 non-zeros
    >>> alg.query()
    NOT_SPARSE
    """

    name = "vandermonde"

    computed_defaults = {"p": "2^31 - 1"}
    arena_problem = "sparse-recovery(n=1024, k=2, M=1048576)"
    problem = SparseRecovery
    guarantee = "x exactly whenever nnz(x) <= k (deterministic); arbitrary otherwise — no detection"
    #: The finite-difference attack recognises its targets by this attribute.
    relaxed_recovery = "vandermonde"

    def __init__(self, params, coins, *, p: int = 0):
        super().__init__(params, coins)
        n, M = params.n, params.M
        if p == 0:
            if P31 <= max(n, 2 * M):
                raise ValueError(f"vandermonde: n = {n} or 2M = {2 * M} is too large for a 31-bit prime; "
                                 f"p = 2^31 - 1 must exceed max(n, 2M) so residue products fit in int64")
            p = P31
        elif p < 0:
            raise ValueError(f"vandermonde: p must be 0 (automatic: 2^31 - 1) or a prime, got {p}")
        self.decoder = SyndromeDecoder(n, params.k, M, p)
        self.p = self.decoder.p
        self._p_word = np.int64(self.p)

    def update(self, indices, deltas):
        self.decoder.update(indices, deltas)

    def query(self):
        answer = self.decoder.decode()
        return NOT_SPARSE if answer is None else answer

    def state(self):
        return {"syndromes": self.decoder.s, "p": self._p_word}

    def space(self):
        return Space(self.decoder.rows * bits_for_range(0, self.p - 1), 0, nbytes_of(self.state()))

    def merge_moduli(self):
        return {"syndromes": self.p}

    def sketch(self):
        return self.decoder.s.copy()

    @classmethod
    def sketch_modulus(cls, params, state):
        return int(state["p"])

    @classmethod
    def sketch_columns(cls, params, state, columns):
        return vandermonde_columns(columns, len(state["syndromes"]), int(state["p"]))
