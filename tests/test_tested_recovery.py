"""FW'23 and FJW'24: complete on every k-sparse stream, sound against the attacks their parameters resist."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import make_stream
from wbstream.adversaries.lattice import LatticeCollision
from wbstream.adversaries.reduction import fpylll_available
from wbstream.adversaries.wraparound import WrapAround
from wbstream.algorithms.sparse.fjw24 import FJW24
from wbstream.algorithms.sparse.fw23 import FW23
from wbstream.engine.answers import NOT_SPARSE, SparseVector
from wbstream.engine.coins import Coins
from wbstream.engine.errors import StreamError
from wbstream.engine.game import Game
from wbstream.engine.problems import SparseRecovery
from wbstream.engine.stream import as_batch

TESTED = [pytest.param("fw23", id="fw23"), pytest.param("fjw24", id="fjw24"),
          pytest.param("fjw24-vandermonde", id="fjw24-vandermonde")]
CLASSES = {"fw23": (FW23, {}), "fjw24": (FJW24, {}), "fjw24-vandermonde": (FJW24, {"recovery": "vandermonde"})}
#: Game specs, and the options after the preset (the recovery is not what the lattice attack breaks)
SPECS = {"fw23": ("fw23", ""), "fjw24": ("fjw24", ""), "fjw24-vandermonde": ("fjw24", ", recovery='vandermonde'")}


def build(name, n, k, M, seed=0, **options):
    problem = SparseRecovery(n=n, k=k, M=M)
    cls, fixed = CLASSES[name]
    return cls(problem.params, Coins.from_seed(seed, "algorithm"), **fixed, **options), problem


def spec(name, preset):
    base, extra = SPECS[name]
    return f"{base}(preset='{preset}'{extra})"


# -- completeness ---------------------------------------------------------------------------------

@settings(max_examples=15)
@given(name=st.sampled_from(["fw23", "fjw24", "fjw24-vandermonde"]), n=st.integers(8, 3000), k=st.sampled_from([1, 2, 5]),
       M=st.sampled_from([1, 1000, 2**20]), shape=st.sampled_from(["spread", "cluster", "ends"]),
       exact_k=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_every_k_sparse_stream_is_recovered_exactly(name, n, k, M, shape, exact_k, seed):
    x, batches = make_stream(n, k, M, k if exact_k else max(0, k - 1), shape, seed)
    alg, referee = build(name, n, k, M, seed)
    errors = 0
    for idx, dlt in batches:
        referee.apply(as_batch(idx, dlt))
        alg.update(idx, dlt)
        if referee.nnz <= k:
            errors += not referee.judge(alg.query()).correct
    assert errors == 0
    assert alg.query() == SparseVector.from_dense(x)


@pytest.mark.parametrize("name", TESTED)
def test_non_sparse_vectors_are_detected(name):
    alg, _ = build(name, 512, 3, 100)
    alg.update(np.arange(0, 40, 3), np.arange(1, 15))
    assert alg.query() is NOT_SPARSE


def test_the_tester_catches_the_finite_difference_attack_on_every_trial():
    results = [Game("sparse-recovery(n=1024, k=3, M=1024)", "fw23", "finite-difference", "white-box",
                    seed=s).play() for s in range(20)]
    assert not any(r.failed for r in results), [r.failure_detail for r in results if r.failed]
    assert all(r.updates > 0 for r in results)  # the attack did stream its vector


def test_the_gsw_tester_catches_the_finite_difference_under_vandermonde():
    """The attack's class check sees fjw24's default (expander), so this plays its vector by hand."""
    from wbstream.adversaries.finite_difference import finite_difference_vector
    alg, _ = build("fjw24-vandermonde", 1024, 3, 1024)
    alg.update(np.array([5, 900, 1000]), np.array([7, -3, 9]))
    assert alg.decoder.copy().decode() == SparseVector([5, 900, 1000], [7, -3, 9])
    alg.update(np.arange(100, 107), finite_difference_vector(3))
    assert alg.decoder.decode() == SparseVector([5, 900, 1000], [7, -3, 9])  # the recovery is fooled
    assert alg.query() is NOT_SPARSE  # the tester is not


def test_the_finite_difference_does_not_fool_the_expander_recovery():
    """fjw24's default recovery: the attack streams its vector, and the recovery itself says "not sparse"."""
    results = [Game("sparse-recovery(n=1024, k=3, M=1024)", "fjw24", "finite-difference", "white-box",
                    seed=s).play() for s in range(3)]
    assert all(r.updates > 0 and not r.failed for r in results)
    alg, _ = build("fjw24", 4096, 3, 1024)
    from wbstream.adversaries.finite_difference import finite_difference_vector
    alg.update(np.array([5, 900, 1000]), np.array([7, -3, 9]))
    alg.update(np.arange(100, 107), finite_difference_vector(3))
    assert alg.decoder.decode() is None


# -- the lattice attack -----------------------------------------------------------------------------

needs_fpylll = pytest.mark.skipif(not fpylll_available(), reason="needs fpylll (wbstream[attacks])")


class Remember(LatticeCollision):
    """The lattice attack, keeping its last instance so a test can read its outcome."""

    name = "lattice-remembered"
    last = None

    def reset(self, params, rng):
        super().reset(params, rng)
        Remember.last = self


@needs_fpylll
@pytest.mark.parametrize("name", ["fw23", "fjw24-vandermonde"])
def test_the_lattice_attack_breaks_the_toy_presets(name):
    for seed in range(2):
        r = Game("sparse-recovery(n=1024, k=2, M=1048576)", spec(name, "toy"), Remember, "white-box",
                 seed=seed, adversary_options={"seconds": 60.0}).play()
        assert r.failed, Remember.last.outcome
        assert r.failure_kind in ("missed-not-sparse", "wrong-vector")
        assert Remember.last.outcome.startswith("collision found")


@needs_fpylll
def test_the_lattice_attack_gives_up_on_the_expander_recovery_before_building_its_lattice():
    """At n = 1024 the expander is the identity (2n = 2048 rows mod p): V z = 0 has no short z at all."""
    r = Game("sparse-recovery(n=1024, k=2, M=1048576)", "fjw24(preset='toy')", Remember, "white-box",
             seed=0, adversary_options={"seconds": 5.0}).play()
    assert not r.failed and r.updates == 0
    assert Remember.last.outcome.startswith("not run: the lattice would have"), Remember.last.outcome


@needs_fpylll
@pytest.mark.parametrize("name", TESTED)
def test_the_lattice_attack_fails_within_its_budget_against_moderate(name):
    r = Game("sparse-recovery(n=1024, k=2, M=1024)", spec(name, "moderate"), Remember, "white-box",
             seed=0, adversary_options={"seconds": 5.0}).play()
    assert not r.failed
    assert Remember.last.outcome.startswith("not run: the lattice would have"), Remember.last.outcome


def slow_machine(monkeypatch, extra_seconds: float):
    """Every lattice reduction takes ``extra_seconds`` longer, as on a loaded machine (its clock jumps)."""
    import time

    from wbstream.adversaries import lattice
    from wbstream.engine.isolation import ForkTimeout

    real = lattice.run_forked

    def run_forked(fn, *args, seconds):
        t0 = time.monotonic()
        out = real(fn, *args, seconds=seconds)
        if time.monotonic() - t0 + extra_seconds > seconds:
            raise ForkTimeout(f"no result within {seconds:g} s")
        return out

    monkeypatch.setattr(lattice, "run_forked", run_forked)


@needs_fpylll
def test_the_lattice_attack_plays_the_same_on_a_slow_machine(monkeypatch):
    def play():
        r = Game("sparse-recovery(n=1024, k=2, M=1048576)", "fjw24(preset='toy', recovery='vandermonde')", "lattice",
                 "white-box", seed=3).play()
        return r.failed, r.failure_kind, r.rounds, r.updates

    fast = play()
    slow_machine(monkeypatch, extra_seconds=100.0)  # the work bound decides, not the clock
    assert play() == fast and fast[0]


@needs_fpylll
def test_the_lattice_safety_net_voids_the_game_and_says_so(monkeypatch):
    from wbstream.adversaries.lattice import AttackTimeout

    slow_machine(monkeypatch, extra_seconds=100.0)
    with pytest.raises(AttackTimeout, match="ran past its 5 s safety net"):
        Game("sparse-recovery(n=1024, k=2, M=1048576)", "fjw24(preset='toy', recovery='vandermonde')",
             "lattice(seconds=5.0)",
             "white-box", seed=3).play()


# -- parameter validation and the wrap-around attack ----------------------------------------------

@pytest.mark.parametrize("options, match", [
    ({"p": 1999}, "2M"),           # p <= 2M: x + p e_i would decode like x
    ({"p": 509}, "n"),             # p <= n
    ({"p": 2**20}, "prime"),       # not prime
])
@pytest.mark.parametrize("name", TESTED)
def test_bad_primes_are_refused(name, options, match):
    with pytest.raises(ValueError, match=match):
        build(name, 512, 2, 1000, **options)


def test_fw23_refuses_q_at_most_2M():
    with pytest.raises(ValueError, match="wrap-around"):
        build("fw23", 512, 2, 2**20, log2_q=21)


def test_fjw24_refuses_an_L_too_small_for_n():
    with pytest.raises(ValueError, match="L = 9"):
        build("fjw24", 1000, 2, 100, L=9)
    assert build("fjw24", 1000, 2, 100, L=10)[0].gsw.L == 10


@pytest.mark.parametrize("name", TESTED)
def test_the_wrap_around_attack_is_impossible_with_valid_parameters(name):
    r = Game("sparse-recovery(n=512, k=2, M=1024)", spec(name, "toy"), WrapAround, "white-box", seed=1).play()
    assert not r.failed and r.updates == 0 and r.stop_reason == "adversary-stopped"


# -- bad input and bookkeeping ----------------------------------------------------------------------

@pytest.mark.parametrize("name", TESTED)
def test_a_refused_batch_changes_nothing(name):
    alg, referee = build(name, 256, 2, 10)
    alg.update(np.array([1]), np.array([4]))
    referee.apply(as_batch([1], [4]))
    before = {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in alg.state().items()}
    for bad in ([(256,), (1,)], [(1,), (7,)], [(3, -1), (1, 1)]):
        with pytest.raises(StreamError):
            referee.validate(as_batch(*bad))  # the game validates before the algorithm sees a batch
    for key, value in alg.state().items():
        np.testing.assert_array_equal(value, before[key])
    assert alg.query() == SparseVector([1], [4])


@pytest.mark.parametrize("name", TESTED)
def test_space_splits_state_and_key(name):
    alg, _ = build(name, 1024, 4, 1000)
    space = alg.space()
    assert space.state_bits >= 2 * 4 * 31 and space.key_bits > 0
    recovery_bits = 2 * 4 * 31 if name != "fjw24" else 2 * 1024 * 31  # the expander is the identity at n = 1024
    if name.startswith("fjw24"):
        g = alg.gsw
        assert space.key_bits == g.L * g.N * g.width * 64
        assert space.state_bits == recovery_bits + g.N * 64
    else:
        assert space.key_bits == 256 and space.state_bits == 2 * 4 * 31 + alg.rows * alg.log2_q


def test_fw23_rows_grow_with_k_and_fjw24_does_not():
    fw = [build("fw23", 1024, k, 1000)[0].rows for k in (1, 10, 100)]
    assert fw[0] < fw[1] < fw[2] and fw[2] >= 100 * 10
    fj = {build("fjw24", 1024, k, 1000)[0].gsw.N for k in (1, 10, 100)}
    assert len(fj) == 1


def test_fjw24_cache_changes_speed_not_answers():
    plain, _ = build("fjw24", 1024, 3, 100, seed=5)
    cached, _ = build("fjw24", 1024, 3, 100, seed=5, cache_levels=4)
    idx, dlt = np.array([3, 700, 1023, 3]), np.array([5, -6, 7, -5])
    plain.update(idx, dlt)
    cached.update(idx, dlt)
    np.testing.assert_array_equal(plain.h, cached.h)
    assert plain.query() == cached.query() == SparseVector([700, 1023], [-6, 7])
    assert cached.space().key_bits > plain.space().key_bits


def test_fw23_refuses_fewer_rows_than_k_log_n():
    with pytest.raises(ValueError, match="k log2 n = 20"):
        build("fw23", 1024, 2, 100, rows=19)
    assert build("fw23", 1024, 2, 100, rows=20)[0].rows == 20
