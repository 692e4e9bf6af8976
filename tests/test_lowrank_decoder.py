"""The Gabidulin sketch, checked against its own proof: the field, the code's rank distance, the decoder.

Each claim of docs/low-rank.md is tested independently of the code that relies on it:
irreducibility by Rabin's test on products (not on the Frobenius formula), minimum rank
distance 2k + 1 by enumerating the kernel of the syndrome map, and exact decoding on
every rank-one matrix over small fields, on subfield-structured matrices, at ``k = min - 1``
in both orientations, and for matrices that share their syndromes with a rank-one matrix.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from wbstream.adversaries.reduction import fpylll_available, short_kernel_vectors
from wbstream.algorithms.lowrank.field import BinomialField, field_prime, prime_factors
from wbstream.algorithms.lowrank.gabidulin import GabidulinSketch
from wbstream.algorithms.lowrank.robust import RobustRank
from wbstream.engine.answers import NOT_LOW_RANK
from wbstream.engine.coins import Coins
from wbstream.linalg.fp import integer_rank, kernel_mod_p, rank_mod_p
from wbstream.engine.matrix_problems import RankRecovery
from wbstream.engine.stream import as_batch


def _entries(X):
    idx = np.flatnonzero(X)
    return idx, X.ravel()[idx]


def _decoded(R, C, k, M, X):
    dec = GabidulinSketch(R, C, k, M)
    dec.update(*_entries(X))
    return dec.decode()


# -- the field -------------------------------------------------------------------------------------

@pytest.mark.parametrize("m", [2, 3, 4, 5, 6, 7, 8, 9, 12, 16])
def test_the_binomial_passes_rabins_irreducibility_test(m):
    """f = t^m - w is irreducible iff t^{p^m} = t mod f and t^{p^{m/q}} - t is a unit mod f for every prime q | m.

    Powers come from repeated multiplication (``F.power``), not from the Frobenius formula they
    are then compared with; "a unit" is a full-rank multiplication matrix over F_p.
    """
    p = field_prime(m, 50)
    F = BinomialField(p, m)
    t = np.eye(1, m, 1, dtype=np.int64)[0]
    powers = [t]                                   # t^{p^j}, j = 0 .. m
    for _ in range(m):
        powers.append(F.power(powers[-1], p))
    assert np.array_equal(powers[m], t)
    for q in prime_factors(m):
        g = (powers[m // q] - t) % p
        assert rank_mod_p(F.multiplication_matrix(g), p) == m, f"t^(p^{m // q}) - t is a zero divisor"
    rng = np.random.default_rng(m)
    a = rng.integers(0, p, m)
    for j in (1, 2, m - 1):
        assert np.array_equal(F.frobenius(a, j), F.power(F.frobenius(a, j - 1), p))


def test_a_reducible_binomial_is_refused():
    with pytest.raises(ValueError, match="reducible"):
        BinomialField(7, 4)      # 4 | m but 7 = 3 (mod 4)
    with pytest.raises(ValueError, match="reducible"):
        BinomialField(11, 3)     # 3 does not divide 10


# -- the code: minimum rank distance 2k + 1 -----------------------------------------------------------

@pytest.mark.parametrize("R, C, k, M, sample", [
    (3, 3, 1, 3, None), (3, 4, 1, 2, None), (4, 3, 1, 2, None), (2, 3, 1, 3, None),
    (5, 5, 2, 5, 600), (6, 4, 1, 3, 600), (4, 6, 1, 3, 600), (6, 6, 2, 3, 600),
])
def test_every_nonzero_matrix_with_zero_syndromes_has_rank_above_2k(R, C, k, M, sample):
    """The kernel of the syndrome map (over F_p) is a code of minimum rank distance 2k + 1:
    enumerated in full where it is small, sampled otherwise."""
    dec = GabidulinSketch(R, C, k, M)
    p = dec.p
    K = kernel_mod_p(dec.columns(np.arange(R * C)), p)
    if not len(K):   # a code of length C and distance 2k + 1 > min(R, C) has no non-zero word
        assert min(R, C) < 2 * k + 1
        return
    if sample is None:
        coeffs = np.array(list(itertools.product(range(p), repeat=len(K))), dtype=np.int64)
    else:
        coeffs = np.random.default_rng(R * C + k).integers(0, p, (sample, len(K)))
    words = [w for w in coeffs @ K % p if w.any()]
    assert words
    assert all(rank_mod_p(w.reshape(R, C), p) >= 2 * k + 1 for w in words)


# -- the decoder --------------------------------------------------------------------------------------

@pytest.mark.parametrize("R, C", [(2, 3), (3, 2)])
def test_the_decoder_recovers_every_rank_one_matrix_over_f7(R, C):
    """M = 3 makes p = 7 = 2M + 1, so every F_7 matrix lifts into [-M, M]: all 2,736 of rank one."""
    dec = GabidulinSketch(R, C, 1, 3)
    p = dec.p
    assert p == 7
    us = [np.array(u) for u in itertools.product(range(p), repeat=R) if any(u) and u[np.flatnonzero(u)[0]] == 1]
    vs = [np.array(v) for v in itertools.product(range(p), repeat=C) if any(v)]
    failures = 0
    for u, v in itertools.product(us, vs):
        X = np.outer(u, v) % p
        X = np.where(X > p // 2, X - p, X)
        dec.s = dec.syndromes_of(*_entries(X))
        got = dec.decode()
        failures += got is None or not np.array_equal(got, X)
    assert len(us) * len(vs) == (p**R - 1) // (p - 1) * (p**C - 1) and failures == 0


def _subfield_matrix(R, C, d, rank, M, seed):
    """Rank ``rank``, on the rows and columns that are multiples of d. With m = max(R, C) and d | m,
    ``(t^d)^(m/d) = w``, so span{1, t^d, t^2d, ...} is the subfield F_{p^(m/d)}: every column of X
    lies in it, and so do the evaluation points g_j = t^j of the non-zero columns."""
    rng = np.random.default_rng(seed)
    rs, cs = np.arange(0, R, d), np.arange(0, C, d)
    while True:
        X = np.zeros((R, C), np.int64)
        X[np.ix_(rs, cs)] = rng.integers(-2, 3, (len(rs), rank)) @ rng.integers(-2, 3, (rank, len(cs)))
        X = np.clip(X, -M, M)
        if integer_rank(X) == rank:
            return X


@pytest.mark.parametrize("R, C, d, k", [(6, 6, 3, 2), (6, 6, 2, 2), (6, 4, 2, 2), (4, 6, 2, 2), (6, 6, 2, 3),
                                        (8, 8, 2, 4), (8, 5, 4, 2), (9, 9, 3, 3)])
def test_matrices_in_subfield_structured_subspaces_are_recovered(R, C, d, k):
    M = 2**20
    rank = min(k, len(range(0, R, d)), len(range(0, C, d)))
    X = _subfield_matrix(R, C, d, rank, M, seed=R * C * d + k)
    assert np.array_equal(_decoded(R, C, k, M, X), X)


@pytest.mark.parametrize("R, C", [(2, 9), (9, 2), (3, 17), (17, 3), (5, 8), (8, 5), (7, 7)])
def test_rank_exactly_k_equal_to_min_minus_one_at_plus_minus_m_near_the_field_limit(R, C):
    """k = min(R, C) - 1 and M = 2^24, so p is just below 2^26 and products brush int64's range."""
    k, M = min(R, C) - 1, 2**24
    rng = np.random.default_rng(R * 31 + C)
    while True:
        X = M * np.sign(rng.integers(-1, 2, (R, k)) @ rng.integers(-1, 2, (k, C)))
        if integer_rank(X) == k:
            break
    assert np.abs(X).max() == M and GabidulinSketch(R, C, k, M).p > 2**25
    assert np.array_equal(_decoded(R, C, k, M, X), X)


@pytest.mark.skipif(not fpylll_available(), reason="needs fpylll")
@pytest.mark.parametrize("R, C, k", [(6, 6, 2), (5, 7, 2), (7, 4, 1), (4, 7, 1)])
def test_a_matrix_sharing_its_syndromes_with_a_rank_one_matrix_is_detected(R, C, k):
    """X = X1 + D with rank(X1) = 1 and D a short integer vector of the syndrome map's kernel (LLL):
    the decoder must return X1 (the unique rank-<= k matrix with these syndromes), D has rank
    >= 2k + 1, and robust-rank's tester turns X1 into NOT_LOW_RANK."""
    M = 2**20
    dec = GabidulinSketch(R, C, k, M)
    short = [z for z in short_kernel_vectors(dec.columns(np.arange(R * C)), modulus=dec.p) if z.any()]
    D = min(short, key=lambda z: np.abs(z).max()).reshape(R, C)
    assert np.abs(D).max() < M // 2 and rank_mod_p(D, dec.p) >= 2 * k + 1
    rng = np.random.default_rng(R * C)
    X1 = rng.integers(1, 4, (R, 1)) @ rng.integers(1, 4, (1, C))
    X = X1 + D
    assert np.array_equal(_decoded(R, C, k, M, X), X1)
    referee = RankRecovery(rows=R, cols=C, k=k, M=M)
    alg = RobustRank(referee.params, Coins.from_seed(R, "algorithm"))
    referee.apply(as_batch(*_entries(X)))
    alg.update(*_entries(X))
    answer = alg.query()
    assert answer is NOT_LOW_RANK and referee.judge(answer).correct


def test_arbitrary_syndromes_give_none_or_a_rank_k_matrix_with_those_syndromes():
    """Syndromes of full-rank matrices and of no matrix at all: the decoder never raises, and whatever
    it returns has rank <= k over F_p, entries in [-M, M] and exactly these syndromes."""
    rng = np.random.default_rng(5)
    for trial in range(120):
        R, C = map(int, rng.integers(2, 10, 2))
        k, M = int(rng.integers(1, min(R, C))), int(rng.choice([1, 3, 100, 2**20]))
        dec = GabidulinSketch(R, C, k, M)
        if trial % 2:
            dec.s = rng.integers(0, dec.p, dec.s.shape)
        else:
            dec.update(*_entries(rng.integers(-M, M + 1, (R, C))))
        got = dec.decode()
        if got is not None:
            assert rank_mod_p(got, dec.p) <= k and np.abs(got).max() <= M
            assert np.array_equal(dec.syndromes_of(*_entries(got)), dec.s)


@pytest.mark.parametrize("R, C, L", [(6, 6, 6), (5, 7, 6), (3, 3, 4), (2, 3, 3), (4, 8, 5), (16, 16, 8)])
def test_the_tester_keeps_ceil_log2_rows_cols_key_ciphertexts(R, C, L):
    alg = RobustRank(RankRecovery(rows=R, cols=C, k=1).params, Coins.from_seed(0, "algorithm"))
    assert alg.tester.gsw.L == L == int(np.ceil(np.log2(R * C)))
