"""Vandermonde syndrome decoding: exact on every k-sparse x, blind otherwise, and fooled by a finite difference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbstream.adversaries.finite_difference import FiniteDifference, finite_difference_vector
from wbstream.algorithms.sparse import vandermonde as vmod
from wbstream.algorithms.sparse.countsketch import CountSketchRecovery
from wbstream.algorithms.sparse.vandermonde import (P31, SyndromeDecoder, VandermondeRecovery,
                                                    vandermonde_columns)
from wbstream.crypto.modular import is_prime
from wbstream.engine.adversary import Adversary
from wbstream.engine.answers import NOT_SPARSE, SparseVector
from wbstream.engine.coins import Coins
from wbstream.engine.errors import NotApplicableError, StreamError
from wbstream.engine.game import Game
from wbstream.engine.problems import F2Estimation, SparseRecovery
from wbstream.engine.stream import Batch, as_batch

from streams import make_stream


def next_prime(m: int) -> int:
    """The smallest prime > m."""
    m += 1
    while not is_prime(m):
        m += 1
    return m


def reference_syndromes(x: np.ndarray, rows: int, p: int) -> list[int]:
    """The syndromes by Python big-integer arithmetic."""
    nz = np.flatnonzero(x).tolist()
    return [sum(int(x[i]) * pow(i + 1, t, p) for i in nz) % p for t in range(rows)]


# -- completeness: every k-sparse turnstile stream is recovered exactly --------------------------------

@st.composite
def sparse_cases(draw):
    n = draw(st.sampled_from([1, 2, 11, 64, 4999, 5000]) | st.integers(1, 5000))
    k = draw(st.sampled_from([1, 2, 5, 10]))
    M = draw(st.sampled_from([1, 2, 1000, 2**20]) | st.integers(1, 2**20))
    size = draw(st.just(k) | st.integers(0, k))
    shape = draw(st.sampled_from(["spread", "cluster", "ends"]))
    tight = draw(st.booleans())  # the smallest admissible prime, or 2^31 - 1
    seed = draw(st.integers(0, 2**32 - 1))
    return max(n, k), k, M, size, shape, tight, seed


def run_sparse_case(n, k, M, size, shape, tight, seed) -> int:
    """Feed the stream to a decoder and to the registered algorithm; count wrong answers on k-sparse prefixes."""
    x, batches = make_stream(n, k, M, size, shape, seed)
    p = next_prime(max(n, 2 * M)) if tight else P31
    referee = SparseRecovery(n=n, k=k, M=M)
    dec = SyndromeDecoder(n, k, M, p)
    alg = VandermondeRecovery(referee.params, Coins.from_seed(seed, "algorithm"), p=p)
    errors = 0
    for idx, dlt in batches:
        referee.apply(as_batch(idx, dlt))  # the referee accepts it: the promise holds throughout
        dec.update(idx, dlt)
        alg.update(idx, dlt)
        if referee.nnz <= k:
            want = SparseVector.from_dense(referee.x)
            errors += dec.decode() != want
            errors += not referee.judge(alg.query()).correct
    np.testing.assert_array_equal(referee.x, x)
    assert referee.nnz == np.count_nonzero(x) <= k
    np.testing.assert_array_equal(dec.s, reference_syndromes(x, 2 * k, p))
    return errors


@settings(max_examples=150)
@given(sparse_cases())
def test_every_k_sparse_turnstile_stream_is_recovered_exactly(case):
    assert run_sparse_case(*case) == 0


def test_error_count_is_exactly_zero_over_a_sweep():
    rng = np.random.default_rng(2024)
    errors = 0
    for trial in range(300):
        k = int(rng.choice([1, 2, 5, 10]))
        n = int(rng.integers(k, 5001))
        M = int(rng.choice([1, 1000, 2**20, rng.integers(1, 2**20 + 1)]))
        errors += run_sparse_case(n, k, M, k if trial % 2 else int(rng.integers(0, k + 1)),
                                  ["spread", "cluster", "ends"][trial % 3], bool(trial % 4 == 0), trial)
    assert errors == 0


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_values_at_plus_minus_M_with_the_tightest_prime(k):
    n, M = 5000, 2**20
    p = next_prime(2 * M)  # ±M sit next to ±p/2: the centred lift must get them right
    dec = SyndromeDecoder(n, k, M, p)
    idx = np.r_[0, n - 1, np.arange(100, 100 + k - 2)][:k]
    val = np.array([M if j % 2 else -M for j in range(k)], dtype=np.int64)
    dec.update(idx, val)
    assert dec.decode() == SparseVector(idx, val)
    dec.update(idx, -val)
    assert dec.decode() == SparseVector([], []) and not dec.s.any()


# -- exact integer arithmetic --------------------------------------------------------------------

@settings(max_examples=25)
@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 5, 10]), st.booleans())
def test_updates_match_big_integer_arithmetic_in_any_split(seed, k, small_chunks):
    rng = np.random.default_rng(seed)
    n, M = 5000, 2**20
    p = int(rng.choice([P31, next_prime(max(n, 2 * M)), 2147483629]))
    length = int(rng.integers(1, 400))
    idx = rng.integers(0, n, size=length).astype(np.int64)
    idx[:2] = [0, n - 1]
    dlt = rng.choice(np.array([2 * M, -2 * M, 1, -1, 0, M, -M]), size=length).astype(np.int64)
    x = np.zeros(n, dtype=object)
    np.add.at(x, idx, dlt.astype(object))
    want = [sum(int(x[i]) * pow(i + 1, t, p) for i in np.flatnonzero(x).tolist()) % p for t in range(2 * k)]
    one_by_one, batched, split = (SyndromeDecoder(n, k, M, p) for _ in range(3))
    for i, d in zip(idx, dlt):
        one_by_one.update(np.array([i]), np.array([d]))
    old = vmod._UPDATE_CHUNK
    vmod._UPDATE_CHUNK = 7 if small_chunks else old
    try:
        batched.update(idx, dlt)
        for part in np.array_split(np.arange(length), 4):
            split.update(idx[part], dlt[part])
    finally:
        vmod._UPDATE_CHUNK = old
    for dec in (one_by_one, batched, split):
        assert dec.s.dtype == np.int64 and dec.s.tolist() == want
    np.testing.assert_array_equal(one_by_one.syndromes_of(idx, dlt), want)


def test_copy_is_independent():
    dec = SyndromeDecoder(100, 2, 10, 101)
    dec.update(np.array([3]), np.array([4]))
    twin = dec.copy()
    twin.update(np.array([5]), np.array([1]))
    assert dec.decode() == SparseVector([3], [4]) and twin.decode() == SparseVector([3, 5], [4, 1])
    assert (twin.n, twin.k, twin.M, twin.p) == (dec.n, dec.k, dec.M, dec.p)


# -- vectors that are not k-sparse -----------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_dense_vectors_are_never_recovered_and_mostly_rejected(k):
    rng = np.random.default_rng(k)
    n, M = 3000, 2**20
    rejected = 0
    for trial in range(40):
        dec = SyndromeDecoder(n, k, M, P31)
        nnz = int([k + 1, k + 2, 2 * k, 2 * k + 1, rng.integers(k + 1, n + 1)][trial % 5])
        idx = rng.choice(n, size=nnz, replace=False)
        dec.update(idx, rng.integers(1, M + 1, size=nnz) * rng.choice([-1, 1], size=nnz))
        out = dec.decode()
        if out is None:
            rejected += 1
            continue
        # a returned vector is a k-sparse collision: same syndromes, never x itself
        assert len(out) <= k < nnz
        np.testing.assert_array_equal(dec.syndromes_of(out.indices, out.values), dec.s)
    assert rejected >= 38


def test_the_algorithm_answers_not_sparse_when_decoding_fails():
    prob = SparseRecovery(n=1000, k=2, M=100)
    alg = VandermondeRecovery(prob.params, Coins.from_seed(0, "a"))
    alg.update(np.arange(10), np.full(10, 3, dtype=np.int64))
    assert alg.query() is NOT_SPARSE
    assert alg.coins.log == ()  # deterministic: it draws no coins


# -- the finite-difference attack -------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 10])
def test_the_finite_difference_is_in_the_kernel_everywhere(k):
    z = finite_difference_vector(k)
    assert len(z) == 2 * k + 1 and np.abs(z).max() == math.comb(2 * k, k) and z.sum() == 0
    n = 10**6
    for p in (P31, next_prime(max(n, 2 * math.comb(2 * k, k)))):
        dec = SyndromeDecoder(n, k, math.comb(2 * k, k), p)
        for i0 in (0, 1, 12345, n // 2, n - 2 * k - 2, n - 2 * k - 1):
            window = np.arange(i0, i0 + 2 * k + 1)
            assert not dec.syndromes_of(window, z).any(), (k, p, i0)
            # over the integers, with alpha = i + 1: zero for every t < 2k, and (2k)! at t = 2k
            powers = [sum(int(zj) * (i0 + 1 + j) ** t for j, zj in enumerate(z)) for t in range(2 * k + 1)]
            assert powers[:2 * k] == [0] * (2 * k) and powers[2 * k] == math.factorial(2 * k)


LIVE: list = []


def tracked(base):
    class Tracked(base):
        def __init__(self, *args, **options):
            super().__init__(*args, **options)
            LIVE.append(self)

    Tracked.__name__ = Tracked.__qualname__ = f"Tracked{base.__name__}"
    return Tracked


ATTACK_PROBLEM = "sparse-recovery(n=4096, k=4, M=1024)"  # C(8, 4) = 70 <= M


def test_the_attack_fools_vandermonde_on_every_one_of_40_trials():
    for seed in range(40):
        threat = "oblivious" if seed % 2 else "white-box"
        r = Game(ATTACK_PROBLEM, "vandermonde", "finite-difference", threat, seed=seed).play()
        assert r.failed and r.failure_kind == "missed-not-sparse", (seed, r.failure_detail)
        assert (r.rounds, r.first_failure_round, r.updates) == (1, 1, 3 * 4 + 1)
        assert r.space_key_bits == 0 and r.space_state_bits == 8 * 31


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rounds", [1, 3])
def test_what_the_attack_streams(seed, rounds):
    LIVE.clear()
    Game(ATTACK_PROBLEM, tracked(VandermondeRecovery), tracked(FiniteDifference), "oblivious", seed=seed,
         stop_on_failure=False, adversary_options={"rounds": rounds}).play()
    alg = next(o for o in LIVE if isinstance(o, VandermondeRecovery))
    adv = [o for o in LIVE if isinstance(o, FiniteDifference)][-1]  # the one the game played with
    n, k, M = 4096, 4, 1024
    support, values = adv.target
    assert len(support) == k and 0 < np.abs(values).max() <= M // 2
    assert 0 <= adv.i0 and adv.i0 + 2 * k < n and not np.isin(support, adv.window).any()
    x = np.zeros(n, dtype=np.int64)
    for b in adv._parts:
        np.add.at(x, b.indices, b.deltas)
    assert np.count_nonzero(x) == 3 * k + 1 and np.abs(x).max() <= M
    np.testing.assert_array_equal(x[adv.window], finite_difference_vector(k))
    assert alg.query() == SparseVector(support, values)  # the old target, for a (3k + 1)-sparse x


def test_the_attack_refuses_other_algorithms_and_problems():
    with pytest.raises(NotApplicableError, match="cannot attack 'countsketch'.*relaxed_recovery"):
        Game(ATTACK_PROBLEM, "countsketch", "finite-difference", "oblivious")
    ok, why = FiniteDifference().applies_to(CountSketchRecovery, SparseRecovery)
    assert not ok and "Vandermonde" in why
    ok, why = FiniteDifference().applies_to(VandermondeRecovery, F2Estimation)
    assert not ok and "'f2'" in why
    assert FiniteDifference().applies_to(VandermondeRecovery, SparseRecovery) == (True, "")
    with pytest.raises(ValueError, match="rounds >= 1"):
        FiniteDifference(rounds=0)


def test_the_attack_needs_M_at_least_the_central_binomial():
    with pytest.raises(NotApplicableError, match=r"C\(16, 8\) = 12870 > M = 1024.*LLL"):
        Game("sparse-recovery(n=4096, k=8, M=1024)", "vandermonde", "finite-difference", "oblivious").play()
    with pytest.raises(NotApplicableError, match="n >= 3k \\+ 1 = 13"):
        Game("sparse-recovery(n=12, k=4, M=1024)", "vandermonde", "finite-difference", "oblivious").play()
    r = Game("sparse-recovery(n=13, k=4, M=70)", "vandermonde", "finite-difference", "oblivious").play()
    assert r.failed and r.failure_kind == "missed-not-sparse"  # the smallest n and M it works with


# -- parameters ---------------------------------------------------------------------------------------

def test_p_at_most_2M_is_refused_because_it_allows_wrap_around():
    n, k, M = 100, 2, 1000
    p = 1999  # prime, > n, but <= 2M
    with pytest.raises(ValueError, match=r"p = 1999 must be > 2M = 2000 .*wrap-around"):
        SyndromeDecoder(n, k, M, p)
    # with such a p, x = -M e_7 and x + p e_7 = (p - M) e_7 both keep the promise and share all syndromes
    x, y = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    x[7], y[7] = -M, -M + p
    assert abs(y[7]) <= M and x[7] != y[7]
    V = vandermonde_columns(np.arange(n), 2 * k, p)
    np.testing.assert_array_equal((V @ x) % p, (V @ y) % p)
    # the smallest admissible prime tells them apart
    q = next_prime(2 * M)
    V = vandermonde_columns(np.arange(n), 2 * k, q)
    assert ((V @ x) % q != (V @ y) % q).any()
    SyndromeDecoder(n, k, M, q)


@pytest.mark.parametrize("n, k, M, p, match", [
    (1000, 2, 10, 997, r"p = 997 must be > n = 1000 .*distinct and non-zero"),
    (1000, 2, 10, 1000, r"p = 1000 is not prime"),
    (1000, 2, 10, 1003 * 1009, r"is not prime"),
    (10, 1, 1, 561, r"p = 561 is not prime"),  # a Carmichael number
    (1000, 2, 10, 2**31 + 11, r"must be < 2\^31 .*int64"),
    (1000, 2, 10, 2**61 - 1, r"must be < 2\^31"),
    (1000, 0, 10, P31, r"sparsity k must be >= 1"),
    (1000, 2, 10, 4.5, r"must be an integer prime"),
])
def test_bad_parameters_are_refused_naming_the_rule(n, k, M, p, match):
    with pytest.raises(ValueError, match=match):
        SyndromeDecoder(n, k, M, p)


def test_the_registered_algorithm_chooses_or_checks_p():
    prob = SparseRecovery(n=4096, k=3, M=1024)
    coins = Coins.from_seed(0, "a")
    assert VandermondeRecovery(prob.params, coins).p == P31
    assert VandermondeRecovery(prob.params, coins, p=4099).p == 4099  # smallest prime > n
    with pytest.raises(ValueError, match="must be > n = 4096"):
        VandermondeRecovery(prob.params, coins, p=2053)
    with pytest.raises(ValueError, match="must be > 2M = 2048"):
        VandermondeRecovery(SparseRecovery(n=1000, k=3, M=1024).params, coins, p=2039)
    with pytest.raises(ValueError, match="0 \\(automatic"):
        VandermondeRecovery(prob.params, coins, p=-7)
    big = SparseRecovery(n=10, k=1, M=2**30)
    with pytest.raises(ValueError, match=r"2M = 2147483648 is too large for a 31-bit prime"):
        VandermondeRecovery(big.params, coins)
    r = Game("sparse-recovery(n=500, k=3, M=9)", "vandermonde(p=503)", "random-sparse(rounds=10)",
             "oblivious", seed=1).play()
    assert not r.failed and r.queries == 10 and r.space_state_bits == 6 * 9


def test_primality_helper_matches_a_sieve_and_known_pseudoprimes():
    sieve = np.ones(20000, dtype=bool)
    sieve[:2] = False
    for i in range(2, 142):
        if sieve[i]:
            sieve[i * i::i] = False
    assert [m for m in range(20000) if is_prime(m)] == np.flatnonzero(sieve).tolist()
    assert is_prime(P31) and is_prime(2**61 - 1) and not is_prime(2**31 + 1)
    # strong pseudoprimes to several small bases
    for m in (2047, 1373653, 25326001, 3215031751, 2152302898747, 3474749660383, 341550071728321):
        assert not is_prime(m)


# -- bad input leaves the algorithm untouched -------------------------------------------------------------

class BadOnRoundTwo(Adversary):
    """Sends a good batch, then one with an index outside the universe."""

    name = "bad-on-round-two"

    def act(self, obs):
        if obs.round == 1:
            return Batch(np.array([3, 40], dtype=np.int64), np.array([5, -2], dtype=np.int64))
        if obs.round == 2:
            return (np.array([4, 64], dtype=np.int64), np.array([1, 1], dtype=np.int64))
        return None


def test_a_refused_batch_never_reaches_the_syndromes():
    LIVE.clear()
    game = Game("sparse-recovery(n=64, k=2, M=8)", tracked(VandermondeRecovery), BadOnRoundTwo, "oblivious")
    LIVE.clear()
    with pytest.raises(StreamError, match="^update 1: index 64 is outside the universe"):
        game.play()
    (alg,) = [o for o in LIVE if isinstance(o, VandermondeRecovery)]
    want = SyndromeDecoder(64, 2, 8, P31).syndromes_of([3, 40], [5, -2])
    np.testing.assert_array_equal(alg.state()["syndromes"], want)
    assert alg.query() == SparseVector([3, 40], [5, -2])

    # the same rule outside a game: validate first, update only what was accepted
    prob = SparseRecovery(n=64, k=2, M=8)
    alg = VandermondeRecovery(prob.params, Coins.from_seed(0, "a"))
    prob.apply(as_batch([3], [8]))
    alg.update(np.array([3]), np.array([8]))
    before = alg.sketch()
    for idx, dlt in [([5, 3], [1, 1]), ([5, -1], [1, 1]), ([3, 3], [-16, -1])]:
        with pytest.raises(StreamError):
            prob.validate(as_batch(idx, dlt))
        np.testing.assert_array_equal(alg.sketch(), before)


# -- linearity and space ---------------------------------------------------------------------------------

@settings(max_examples=20)
@given(seed=st.integers(0, 10**6), length=st.integers(0, 200), k=st.sampled_from([1, 2, 5, 10]))
def test_sketch_equals_its_matrix_times_x_mod_p(seed, length, k):
    rng = np.random.default_rng(seed)
    n, M = 300, 2**20
    prob = SparseRecovery(n=n, k=k, M=M)
    p = int(rng.choice([P31, next_prime(2 * M)]))
    alg = VandermondeRecovery(prob.params, Coins.from_seed(seed, "algorithm"), p=p)
    idx = rng.integers(0, n, size=length).astype(np.int64)
    dlt = rng.integers(-M // 4, M // 4 + 1, size=length).astype(np.int64)
    x = np.zeros(n, dtype=np.int64)
    np.add.at(x, idx, dlt)
    for part in np.array_split(np.arange(length), 3):
        alg.update(idx[part], dlt[part])
    copied = {key: np.array(v, copy=True) for key, v in alg.state().items()}
    S = VandermondeRecovery.sketch_columns(prob.params, copied, np.arange(n))
    assert S.dtype == np.int64 and S.shape == (2 * k, n) and 0 <= S.min() and S.max() < p
    assert VandermondeRecovery.sketch_modulus(prob.params, copied) == p
    want = (S.astype(object) @ x.astype(object)) % p
    np.testing.assert_array_equal(alg.sketch(), want.astype(np.int64))
    cols = rng.choice(n, size=17, replace=False)
    np.testing.assert_array_equal(VandermondeRecovery.sketch_columns(prob.params, copied, cols), S[:, cols])
    y = alg.sketch()
    y += 1  # a copy, not the live state
    np.testing.assert_array_equal(alg.sketch(), want.astype(np.int64))


def test_space_is_2k_words_of_log_p_bits_and_no_key():
    prob = SparseRecovery(n=10**6, k=100, M=2**20)
    alg = VandermondeRecovery(prob.params, Coins.from_seed(0, "a"))
    s = alg.space()
    assert (s.state_bits, s.key_bits, s.nbytes) == (6200, 0, 200 * 8 + 8)  # docs/references.md#vandermonde
    assert alg.state()["syndromes"].shape == (200,) and int(alg.state()["p"]) == P31
    small = VandermondeRecovery(SparseRecovery(n=500, k=3, M=9).params, Coins.from_seed(0, "a"), p=503)
    assert small.space().state_bits == 6 * 9


@settings(max_examples=40, deadline=None)
@given(L=st.integers(1, 8), planted=st.integers(0, 8), repeat=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_flint_root_finding_matches_a_scan_of_every_index(L, planted, repeat, seed):
    """Roots over F_p without scanning 1..n: the same roots, in range, as the old Horner scan."""
    n, p = 3000, 3001
    rng = np.random.default_rng(seed)
    roots = [int(r) for r in rng.integers(1, p, size=min(planted, L))]  # some beyond n
    if repeat and roots:
        roots[-1] = roots[0]
    poly = [1]  # prod (x - r) times random factors, highest coefficient first
    for r in roots:
        poly = [a - r * b for a, b in zip(poly + [0], [0] + poly)]
    while len(poly) < L + 1:
        c = int(rng.integers(0, p))
        poly = [a + c * b for a, b in zip(poly + [0], [0] + poly)]
    C = [c % p for c in poly]
    a = np.arange(1, n + 1, dtype=np.int64)
    acc = np.ones_like(a)
    for c in C[1:]:
        acc = (acc * a + c) % p
    dec = SyndromeDecoder(n, 8, 10, p)
    np.testing.assert_array_equal(dec._roots(C, len(C) - 1), a[acc == 0])
