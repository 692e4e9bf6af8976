"""Deterministic relaxed rank-k recovery: Gabidulin (MRD) syndromes and rank-error decoding.

**The sketch.** Let ``m = max(rows, cols)`` and F = F_{p^m} = F_p[t]/(t^m - w)
(:mod:`.field`). Column j of the integer matrix X becomes the field element
``x_j = sum_r X[r, j] t^r``; the evaluation points are ``g_j = t^j`` (j < cols <= m,
linearly independent over F_p). The state is the 2k syndromes

    s_l = sum_j x_j g_j^[l]   (l = 0 .. 2k-1),   a^[l] = a^{p^l},

2k elements of F, i.e. ``2k m`` residues mod p. ``H = (g_j^[l])`` is the parity-check
matrix of a Gabidulin code of length cols, codimension 2k and minimum rank distance
2k + 1 (Gabidulin 1985). Hence two matrices of rank <= k with equal syndromes differ
by a matrix of rank <= 2k in the code, which is 0: **every** matrix of rank <= k
(over F_p, so every integer matrix of rank <= k over Q) is determined by its
syndromes. A rank-one ``u v^T`` in particular has syndromes ``U V^[l]`` with
``U = sum u_r t^r``, ``V = sum v_j t^j``, never 0: no rank-one matrix hides in this
sketch, unlike the two one-sided sketches of ``naive-rank``.

**Updates.** ``t^r g_j^[l]`` is a monomial ``c t^e`` (Frobenius maps monomials to
monomials here), so an entry update (r, j, delta) adds ``delta c`` to one
coordinate of each syndrome: O(k) per entry, one ``bincount`` per batch.

**Decoding** (Gabidulin's algorithm, solved as linear systems). Write an error of
rank r as ``x_j = sum_a E_a Y_{a j}`` with ``E_a`` independent over F_p, and put
``z_a = sum_j Y_{a j} g_j``. Then ``s_l = sum_a E_a z_a^[l]``. The linearized
polynomial ``Γ(z) = sum_{i<=r} γ_i z^[i]`` (γ_r = 1) whose roots are the F_p-span of
the z_a satisfies, after applying ``[-l]``,

    sum_i γ_i s_{l+i}^[-l] = 0      (l = 0 .. 2k-1-r),

a linear system over F. The k x k matrix ``(s_{l+i}^[-l])`` factors as a product of
two rank-r Moore matrices, so its rank is r. Solve for γ; the roots of Γ (an F_p
kernel) are exactly the span of the z_a, so a basis of them has coefficients ``P Y``
for an invertible P (g_j = t^j); a Moore system gives E (absorbing ``P^-1``);
``X = E^T (P Y)``. The candidate is re-encoded and kept only if its syndromes match,
its entries lift into [-M, M] (p > 2M) and rows beyond ``rows`` are zero.
"""

from __future__ import annotations

import numpy as np

from wbstream.linalg.fp import kernel_mod_p
from wbstream.engine.matrix_problems import check_matrix_shape

from .extension_linalg import ext_echelon, ext_solve
from .field import BinomialField, field_prime

#: Entries pushed through one bincount (keeps the float64 sums below 2^26 * 2^20 < 2^53: exact).
UPDATE_CHUNK = 1 << 20


class GabidulinSketch:
    """The 2k Gabidulin syndromes of an integer ``rows x cols`` matrix, and a decoder exact on rank <= k.

    >>> dec = GabidulinSketch(rows=5, cols=6, k=2, M=50)
    >>> X = np.outer([1, -2, 0, 3, 1], [2, 0, 1, 1, -1, 4]) + np.outer([0, 1, 1, 0, 0], [5, 5, 0, 0, 1, 0])
    >>> idx = np.flatnonzero(X); dec.update(idx, X.ravel()[idx])
    >>> bool((dec.decode() == X).all())
    True
    >>> dec.update(np.array([0, 7, 14]), np.array([1, 1, 1]))  # + a rank-3 diagonal block: rank 5 > k
    >>> dec.decode() is None or int(np.linalg.matrix_rank(dec.decode())) <= 2
    True
    """

    def __init__(self, rows: int, cols: int, k: int, M: int, p: int = 0):
        check_matrix_shape(rows, cols, k)
        self.rows, self.cols, self.k, self.M = int(rows), int(cols), int(k), int(M)
        self.m = max(self.rows, self.cols)
        p = int(p) or field_prime(self.m, 2 * self.M)
        if p <= 2 * self.M:
            raise ValueError(f"p = {p} must be > 2M = {2 * self.M} so entries in [-M, M] lift uniquely from F_p")
        self.field = BinomialField(p, self.m)
        self.p = p
        frob = [self.field.monomial_frobenius(l) for l in range(2 * k)]
        # g_j^[l] = fac[l, j] * t^pos[l, j]
        self.pos = np.array([f[0][: self.cols] for f in frob], dtype=np.int64)
        self.fac = np.array([f[1][: self.cols] for f in frob], dtype=np.int64)
        self.s = np.zeros((2 * k, self.m), dtype=np.int64)

    # -- the linear map ---------------------------------------------------------
    def _terms(self, indices: np.ndarray, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat syndrome coordinates ``l*m + e`` and values (mod p) of entry updates, shape (2k, b)."""
        r, j = np.divmod(np.asarray(indices, np.int64), self.cols)
        e = r[None, :] + self.pos[:, j]
        wrap = e >= self.m
        e -= self.m * wrap
        coef = self.fac[:, j] * np.where(wrap, self.field.w, 1) % self.p
        values = coef * (np.asarray(deltas, np.int64) % self.p)[None, :] % self.p
        flat = e + self.m * np.arange(2 * self.k, dtype=np.int64)[:, None]
        return flat, values

    def syndromes_of(self, indices: np.ndarray, deltas: np.ndarray) -> np.ndarray:
        """The syndromes (2k, m) of the updates ``(indices, deltas)`` from zero."""
        out = np.zeros(2 * self.k * self.m, dtype=np.int64)
        for start in range(0, len(indices), UPDATE_CHUNK):
            flat, values = self._terms(indices[start:start + UPDATE_CHUNK], deltas[start:start + UPDATE_CHUNK])
            out += np.bincount(flat.ravel(), weights=values.ravel(), minlength=out.size).astype(np.int64)
            out %= self.p
        return out.reshape(2 * self.k, self.m)

    def update(self, indices: np.ndarray, deltas: np.ndarray) -> None:
        self.s = (self.s + self.syndromes_of(indices, deltas)) % self.p

    def columns(self, indices: np.ndarray) -> np.ndarray:
        """The sketch matrix on entries ``indices`` (flattened r*cols + c): shape ``(2k m, len)``, mod p."""
        idx = np.asarray(indices, np.int64)
        flat, values = self._terms(idx, np.ones(len(idx), np.int64))
        out = np.zeros((2 * self.k * self.m, len(idx)), dtype=np.int64)
        out[flat, np.arange(len(idx))[None, :]] = values
        return out

    # -- decoding ---------------------------------------------------------------
    def decode(self) -> np.ndarray | None:
        """The unique matrix of rank <= k with these syndromes, or None (then rank(X) > k)."""
        F, s, k, m, p = self.field, self.s, self.k, self.m, self.p
        if not s.any():
            return np.zeros((self.rows, self.cols), dtype=np.int64)
        shifted = np.array([[F.frobenius(s[l + i], -l) for i in range(k + 1)] for l in range(k)])
        r = len(ext_echelon(F, shifted[:, :k])[1])
        if r == 0:
            return None
        gamma = ext_solve(F, shifted[:r, :r], (-shifted[:r, r]) % p)
        if gamma is None:
            return None
        gamma = np.vstack([gamma, np.eye(1, m, dtype=np.int64)])  # γ_r = 1
        # Γ's F_p matrix: column j is Γ(t^j) = sum_i fac_i(j) * γ_i t^{pos_i(j)}
        Gamma = np.zeros((m, m), dtype=np.int64)
        for i in range(r + 1):
            pos, fac = F.monomial_frobenius(i)
            Gamma = (Gamma + F.multiplication_matrix(gamma[i])[:, pos] * fac[None, :]) % p
        Z = kernel_mod_p(Gamma, p)
        if len(Z) != r or Z[:, self.cols:].any():
            return None
        moore = np.array([[F.frobenius(Z[b], l) for b in range(r)] for l in range(r)])
        E = ext_solve(F, moore, s[:r])
        if E is None:
            return None
        full = (E.T @ Z[:, : self.cols]) % p  # (m, cols): row i holds the t^i coefficients
        if full[self.rows:].any():
            return None
        X = full[: self.rows]
        X = np.where(X > p // 2, X - p, X)
        if np.abs(X).max() > self.M:
            return None
        idx = np.flatnonzero(X)
        if not np.array_equal(self.syndromes_of(idx, X.ravel()[idx]), s):
            return None
        return X

    def state_bits(self) -> int:
        return self.s.size * max(1, (self.p - 1).bit_length())
