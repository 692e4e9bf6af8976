"""BFV encrypted aggregation: exact sums without wrap, clear errors on bad input, the ring equality check."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tenseal as ts
from hypothesis import given, settings
from hypothesis import strategies as st

from wbstream.crypto.he import (
    COEFF_BITS,
    Aggregator,
    BfvKeyHolder,
    BfvParams,
    HEError,
    SlotPlan,
    batching_prime,
    encrypt_vector,
)
from wbstream.crypto.he_ring import encrypted_equality
from wbstream.distributed.encrypted import EncryptedAggregation
from wbstream.engine.coins import Coins
from wbstream.engine.registry import algorithms, problems

PARAMS = BfvParams(4096)


@pytest.fixture(scope="module")
def keys():
    return BfvKeyHolder.generate(PARAMS)


def test_the_default_plain_modulus_is_a_batching_prime():
    t = PARAMS.plain_modulus
    assert t == batching_prime(4096, 1 << 20) and t % 8192 == 1 and t > 1 << 20


@pytest.mark.parametrize("t, why", [(8193, "not prime"), (1000003, "not 1 mod 2N"), ((1 << 61) + 1, "60 bits")])
def test_bad_plain_moduli_are_refused(t, why):
    with pytest.raises(HEError, match=why):
        BfvParams(4096, t)


def test_a_plan_that_could_wrap_is_refused():
    with pytest.raises(HEError, match="slots could wrap"):
        SlotPlan(length=4, residue_range=2**40, servers=3, params=PARAMS, digit_bits=19)
    with pytest.raises(HEError, match="slots could wrap"):
        SlotPlan(length=4, residue_range=2**40, servers=PARAMS.plain_modulus, params=PARAMS)


def test_the_coefficient_modulus_table_is_tenseals():
    for N, bits in COEFF_BITS.items():
        ctx = BfvParams(N, batching_prime(N, 1 << 20)).context()
        assert ctx.data.seal_context().first_context_data().total_coeff_modulus_bit_count() == bits


def test_a_plan_whose_noise_could_overflow_is_refused_and_the_refused_sum_really_decrypts_wrong():
    """At N = 4096 a 55-bit t leaves room for 63 servers: their sum decrypts exactly; 2^16 would not."""
    params = BfvParams(4096, batching_prime(4096, (1 << 55) - (1 << 50)))
    keys = BfvKeyHolder.generate(params)
    plan = SlotPlan(length=4, residue_range=2**64, servers=63, params=params)
    with pytest.raises(HEError, match="noise could overflow"):
        SlotPlan(length=4, residue_range=2**64, servers=64, params=params)
    top = np.full(4, 2**64 - 1, np.uint64)  # every digit at its maximum
    agg = Aggregator(keys.public_bytes(), plan)
    for _ in range(63):
        agg.add(encrypt_vector(agg.context, keys.key_id, plan, top))
    assert keys.decrypt(agg.aggregate(), plan).tolist() == [63 * (2**64 - 1)] * 4
    (vec,) = agg._sum  # the noise of 63 * 2^10 servers: ten doublings of the 63-server sum
    for _ in range(10):
        vec = vec + vec
    t = params.plain_modulus
    want = [63 * 1024 * d % t for d in plan.encode(top)[0]]
    got = ts.bfv_vector_from(keys._context, vec.serialize()).decrypt()  # the raw digit slots
    assert (np.asarray(got, dtype=object) % t).tolist() != want


@settings(max_examples=8)
@given(servers=st.integers(1, 9), log2_range=st.integers(1, 64), seed=st.integers(0, 2**16))
def test_the_decrypted_sum_is_exact_at_the_worst_case_residues(keys, servers, log2_range, seed):
    R = 1 << log2_range
    plan = SlotPlan(length=5, residue_range=R, servers=servers, params=PARAMS)
    assert plan.max_slot_sum < PARAMS.plain_modulus
    rng = np.random.default_rng(seed)
    rows = [np.r_[R - 1, R - 1, 0, rng.integers(0, R, size=2, dtype=np.uint64)].astype(np.uint64)
            for _ in range(servers)]  # the largest residue from every server: the worst case for wrap
    agg = Aggregator(keys.public_bytes(), plan, tag="t")
    for r in rows:
        agg.add(encrypt_vector(agg.context, keys.key_id, plan, r, tag="t"))
    want = [sum(int(r[j]) for r in rows) for j in range(5)]
    assert keys.decrypt(agg.aggregate(), plan).tolist() == want


def _pair(keys, servers=2):
    plan = SlotPlan(length=3, residue_range=1000, servers=servers, params=PARAMS)
    agg = Aggregator(keys.public_bytes(), plan, tag="cs")
    agg.add(encrypt_vector(agg.context, keys.key_id, plan, np.array([1, 2, 3], np.uint64), tag="cs"))
    return plan, agg


def _check_unchanged(keys, plan, agg):
    assert agg.count == 1 and keys.decrypt(agg.aggregate(), plan).tolist() == [1, 2, 3]


def test_a_ciphertext_from_another_context_is_refused(keys):
    plan, agg = _pair(keys)
    other = BfvKeyHolder.generate(PARAMS)  # same parameters, other keys: TenSEAL itself would accept it
    foreign = encrypt_vector(Aggregator(other.public_bytes(), plan).context, other.key_id, plan,
                             np.array([5, 5, 5], np.uint64), tag="cs")
    with pytest.raises(HEError, match="another key"):
        agg.add(foreign)
    big = BfvKeyHolder.generate(BfvParams(8192))  # other N, even under the right key id: it does not parse
    wrong_n = encrypt_vector(Aggregator(big.public_bytes(), plan).context, keys.key_id, plan,
                             np.array([5, 5, 5], np.uint64), tag="cs")
    with pytest.raises(HEError, match="does not parse"):
        agg.add(wrong_n)
    _check_unchanged(keys, plan, agg)


@pytest.mark.parametrize("damage", ["truncate", "flip", "drop"])
def test_truncated_or_corrupt_ciphertexts_are_refused(keys, damage):
    plan, agg = _pair(keys)
    msg = encrypt_vector(agg.context, keys.key_id, plan, np.array([9, 9, 9], np.uint64), tag="cs")
    ct = msg.ciphertexts[0]
    if damage == "truncate":
        bad = dataclasses.replace(msg, ciphertexts=(ct[: len(ct) // 2],))
        with pytest.raises(HEError, match="corrupt or truncated"):
            agg.add(bad)
        resealed = dataclasses.replace(bad, digests=(__import__("hashlib").sha256(bad.ciphertexts[0]).hexdigest(),))
        with pytest.raises(HEError, match="does not parse"):
            agg.add(resealed)
    elif damage == "flip":
        flipped = bytearray(ct)
        flipped[len(ct) // 2] ^= 0xFF
        with pytest.raises(HEError, match="corrupt or truncated"):
            agg.add(dataclasses.replace(msg, ciphertexts=(bytes(flipped),)))
    else:
        with pytest.raises(HEError, match="expected 1 ciphertexts"):
            agg.add(dataclasses.replace(msg, ciphertexts=(), digests=()))
    _check_unchanged(keys, plan, agg)


def test_mismatched_parameters_and_too_many_servers_are_refused(keys):
    plan, agg = _pair(keys, servers=2)
    with pytest.raises(HEError, match="mismatched parameters or keys"):
        agg.add(encrypt_vector(agg.context, keys.key_id, plan, np.array([1, 1, 1], np.uint64), tag="other"))
    other_plan = SlotPlan(length=3, residue_range=2000, servers=2, params=PARAMS)
    with pytest.raises(HEError, match="mismatched slot plans"):
        agg.add(encrypt_vector(agg.context, keys.key_id, other_plan, np.array([1, 1, 1], np.uint64), tag="cs"))
    _check_unchanged(keys, plan, agg)
    agg.add(encrypt_vector(agg.context, keys.key_id, plan, np.array([1, 1, 1], np.uint64), tag="cs"))
    with pytest.raises(HEError, match="slots could wrap: the plan allows 2 servers"):
        agg.add(encrypt_vector(agg.context, keys.key_id, plan, np.array([1, 1, 1], np.uint64), tag="cs"))
    assert keys.decrypt(agg.aggregate(), plan).tolist() == [2, 3, 4]


def test_the_public_context_cannot_decrypt(keys):
    with pytest.raises(HEError, match="secret key"):
        BfvKeyHolder.from_secret_bytes(keys.public_bytes(), PARAMS)


# -- sketches through the pipeline ----------------------------------------------------------

SKETCHES = [("countsketch(rows=3, cols=16)", "sparse-recovery(n=512, k=2, M=1024)"),
            ("vandermonde", "sparse-recovery(n=512, k=2, M=1024)"),
            ("fjw24(preset='toy')", "sparse-recovery(n=512, k=2, M=1024)"),
            ("count-min(depth=3)", "heavy-hitters(n=512, M=1024, eps=0.1)")]


def build(spec, problem_spec, seed=0):
    pcls, popts = problems.resolve(problem_spec)
    acls, aopts = algorithms.resolve(spec)
    return acls(pcls(**popts).params, Coins.from_seed(seed, "algorithm"), **aopts)


@pytest.mark.parametrize("spec, problem_spec", SKETCHES, ids=[s for s, _ in SKETCHES])
def test_encrypted_aggregation_equals_the_plain_merge(keys, spec, problem_spec):
    servers = [build(spec, problem_spec) for _ in range(3)]
    rng = np.random.default_rng(1)
    for s in servers:
        s.update(rng.integers(0, 512, size=6), rng.integers(1, 1024, size=6))
    pipeline = EncryptedAggregation(servers[0], 3, keys)
    aggregate = pipeline.start()
    for s in servers:
        pipeline.add(aggregate, pipeline.encrypt(s))
    got = pipeline.decrypt_into(aggregate, build(spec, problem_spec))
    plain = build(spec, problem_spec)
    for s in servers:
        plain.merge(s)
    for name in plain.merge_moduli():
        assert np.array_equal(got.state()[name], plain.state()[name]), name


def test_a_server_with_other_keys_is_refused_and_the_aggregate_is_unchanged(keys):
    a, b = build(*SKETCHES[0]), build(*SKETCHES[0], seed=9)
    a.update(np.array([3]), np.array([4]))
    pipeline = EncryptedAggregation(a, 2, keys)
    aggregate = pipeline.start()
    pipeline.add(aggregate, pipeline.encrypt(a))
    with pytest.raises(HEError, match="mismatched parameters or keys"):
        pipeline.encrypt(b)
    bad = pipeline.encrypt(a)
    bad["table"] = dataclasses.replace(bad["table"], tag="forged")
    with pytest.raises(HEError, match="mismatched parameters or keys"):
        pipeline.add(aggregate, bad)
    out = pipeline.decrypt_into(aggregate, build(*SKETCHES[0]))
    assert aggregate["table"].count == 1 and np.array_equal(out.table, a.table)


def test_an_entry_beyond_the_plans_bound_is_refused(keys):
    a = build(*SKETCHES[0])
    a.table[0, 0] = 512 * 1024 + 1  # beyond n M: no honest stream produces it
    pipeline = EncryptedAggregation(build(*SKETCHES[0]), 2, keys)
    with pytest.raises(HEError, match="bound"):
        pipeline.encrypt(a)


# -- the ring proof-world check -------------------------------------------------------------

@pytest.mark.parametrize("n, v", [(8, 0), (8, 7), (256, 131), (1000, 999), (8192, 4097)])  # 8192: every slot, L = 13
def test_the_encrypted_equality_circuit_decrypts_to_the_indicator_of_v(n, v):
    got = encrypted_equality(v, n)
    want = np.zeros(n, dtype=np.int64)
    want[v] = 1
    assert np.array_equal(got, want)


def test_the_equality_check_refuses_bad_indices():
    with pytest.raises(HEError, match="hidden index"):
        encrypted_equality(8, 8)
