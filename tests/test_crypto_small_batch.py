"""The small-batch path of a memory-mapped key: integer products bit-identical to the float-limb ones."""

from __future__ import annotations

import numpy as np
import pytest

import wbstream.crypto.gsw as gsw_module
import wbstream.crypto.modular128 as m128
from wbstream.crypto.gsw import SMALL_BATCH_64, SMALL_BATCH_128, GswKey, GswParams, eval_cols
from wbstream.crypto.keycache import sample_key
from wbstream.crypto.modular import matmul_mod_2_64, matmul_mod_2_64_int, matmul_mod_2_64_reference
from wbstream.crypto.modular128 import (int_chunk, matmul_mod_2_128, matmul_mod_2_128_int,
                                        matmul_mod_2_128_reference, to_pairs)
from wbstream.engine.coins import Coins

MAX_PAIR = [2**64 - 1, 2**64 - 1]


def random_pairs(rng, shape):
    return rng.integers(0, 2**64, size=shape + (2,), dtype=np.uint64)


@pytest.mark.parametrize("digit_bits", [1, 8, 16])
@pytest.mark.parametrize("r, c, m", [(1, 1, 1), (7, 300, 1), (9, 300, 2), (5, 257, 17), (3, 40, 40)])
def test_int_product_matches_python_integers(digit_bits, r, c, m):
    rng = np.random.default_rng(r * 1000 + c + m + digit_bits)
    A = random_pairs(rng, (r, c))
    A[0, :] = MAX_PAIR  # the largest entries against the largest digits: the largest partial sums
    D = rng.integers(0, 2**digit_bits, size=(c, m)).astype(np.uint16)
    D[:, 0] = 2**digit_bits - 1
    want = matmul_mod_2_128_reference(A, D)
    assert np.array_equal(matmul_mod_2_128_int(A, D, digit_bits, row_block=2), want)
    assert np.array_equal(matmul_mod_2_128(A, D, digit_bits), want)


def test_int_product_at_the_sec64_row_width_and_past_one_chunk():
    rng = np.random.default_rng(64)
    width = 2301 * 8  # sec64: N = 2301, 8 digits of 16 bits per word
    A = random_pairs(rng, (3, width))
    A[1, :] = MAX_PAIR
    D = rng.integers(0, 2**16, size=(width, 2)).astype(np.uint16)
    D[:, 1] = 2**16 - 1
    want = matmul_mod_2_128_reference(A, D)
    assert np.array_equal(matmul_mod_2_128_int(A, D, 16), want)
    # an inner dimension longer than one exact chunk: the chunk sums are added with carries
    c = int_chunk(16) + 5
    A = np.broadcast_to(np.array(MAX_PAIR, np.uint64), (1, c, 2))
    D = np.full((c, 1), 2**16 - 1, np.uint16)
    assert np.array_equal(matmul_mod_2_128_int(A, D, 16), to_pairs([[(-(2**16 - 1) * c) % 2**128]]))


def test_forced_small_chunks_carry_exactly(monkeypatch):
    rng = np.random.default_rng(3)
    A = random_pairs(rng, (4, 50))
    D = rng.integers(0, 2**16, size=(50, 3)).astype(np.uint16)
    monkeypatch.setattr(m128, "int_chunk", lambda digit_bits: 7)
    assert np.array_equal(matmul_mod_2_128_int(A, D, 16), matmul_mod_2_128_reference(A, D))


@pytest.mark.parametrize("digit_bits", [1, 8, 16])
def test_wrapping_64_bit_product_matches_python_integers(digit_bits):
    rng = np.random.default_rng(digit_bits)
    A = rng.integers(0, 2**64, size=(6, 500), dtype=np.uint64)
    A[0] = 2**64 - 1
    D = rng.integers(0, 2**digit_bits, size=(500, 3)).astype(np.uint16)
    want = matmul_mod_2_64_reference(A, D)
    assert np.array_equal(matmul_mod_2_64_int(A, D, digit_bits), want)
    assert np.array_equal(matmul_mod_2_64(A, D, digit_bits), want)


def test_int_products_refuse_bad_input():
    with pytest.raises(ValueError, match="digits must lie"):
        matmul_mod_2_128_int(np.zeros((1, 2, 2), np.uint64), np.array([[256], [0]]), 8)
    with pytest.raises(ValueError, match="shape"):
        matmul_mod_2_128_int(np.zeros((1, 2, 2), np.uint64), np.zeros((3, 1), np.uint8), 8)
    with pytest.raises(ValueError, match="pairs"):
        matmul_mod_2_128_int(np.zeros((1, 2), np.uint64), np.zeros((2, 1), np.uint8), 8)
    with pytest.raises(ValueError, match="digits must lie"):
        matmul_mod_2_64_int(np.zeros((1, 2), np.uint64), np.array([[16], [0]]), 4)
    with pytest.raises(ValueError, match="2-D uint64"):
        matmul_mod_2_64_int(np.zeros((1, 2), np.int64), np.zeros((2, 1), np.uint8), 8)


def mapped_copy(key: GswKey) -> GswKey:
    C = key.C.copy()
    C.flags.writeable = False
    return GswKey(key.params, C, mapped=True)


@pytest.mark.parametrize("log_q, small", [(64, SMALL_BATCH_64), (128, SMALL_BATCH_128)])
def test_mapped_key_is_bit_identical_on_both_sides_of_the_crossover(monkeypatch, log_q, small):
    p = GswParams(n_lwe=5, base_bits=16, L=7, t_star=2, log_q=log_q)
    rng = np.random.default_rng(log_q)
    key = GswKey.sample(p, lambda s: rng.integers(0, 2**64, size=s, dtype=np.uint64))  # in RAM: limbs kept
    mapped = mapped_copy(key)
    monkeypatch.setattr(gsw_module, "ROW_BLOCK", 4)  # the limb path streams two row blocks of N = 6
    for m in sorted({1, 2, small, small + 1, 3 * small}):
        idx = rng.integers(0, 2**p.L, m)
        assert np.array_equal(eval_cols(mapped, idx), eval_cols(key, idx)), m
    assert all(lm is None for lm in mapped._limbs)


@pytest.mark.parametrize("log_q", [64, 128])
def test_apply_takes_the_integer_path_only_for_small_batches(monkeypatch, log_q):
    p = GswParams(n_lwe=3, base_bits=8, L=2, t_star=2, log_q=log_q)
    rng = np.random.default_rng(7)
    mapped = mapped_copy(GswKey.sample(p, lambda s: rng.integers(0, 2**64, size=s, dtype=np.uint64)))
    small = SMALL_BATCH_128 if p.wide else SMALL_BATCH_64
    int_name = "matmul_mod_2_128_int" if p.wide else "matmul_mod_2_64_int"
    calls = []
    real = getattr(gsw_module, int_name)
    monkeypatch.setattr(gsw_module, int_name, lambda *a, **k: calls.append(a[1].shape[1]) or real(*a, **k))
    for m in (1, small, small + 1):
        mapped.apply(1, rng.integers(0, 2**64, size=(p.N, m) + p.word_shape, dtype=np.uint64))
    assert calls == [1, small]


@pytest.mark.parametrize("log_q", [64, 128])
def test_a_small_mapped_key_through_the_key_cache_gives_the_in_ram_columns(tmp_path, log_q):
    p = GswParams(n_lwe=4, base_bits=16, L=5, t_star=3, log_q=log_q)
    mapped = sample_key(p, Coins.from_seed(9, "small-batch"), "k", min_bytes=1, directory=tmp_path)
    plain = sample_key(p, Coins.from_seed(9, "small-batch"), "k", min_bytes=10**12)
    assert mapped.mapped and not plain.mapped
    for idx in ([17], [3, 30], list(range(32))):
        assert np.array_equal(eval_cols(mapped, np.array(idx)), eval_cols(plain, np.array(idx)))


@pytest.mark.parametrize("log_q", ["64", "128"])
def test_the_bench_compares_both_paths_on_rows_of_the_real_width(tmp_path, log_q):
    from click.testing import CliRunner

    from wbstream.bench.sparse import fjw24_small_batch
    from wbstream.cli import main

    r = fjw24_small_batch((1, 3), big=0, rows=2, repeats=1, log_q=int(log_q), directory=tmp_path)
    assert (r["N"], r["rows"], r["width"]) == (2301, 2, 2301 * int(log_q) // 16)  # sec64: 16-bit digits
    assert [row["m"] for row in r["rows_of"]] == [1, 3] and all(row["new_s"] > 0 for row in r["rows_of"])
    assert list(tmp_path.iterdir()) == []  # the temporary level is gone
    result = CliRunner().invoke(main, ["bench", "small-batch", "--batches", "1", "--rows", "2", "--repeats", "1",
                                       "--log-q", log_q])
    assert result.exit_code == 0 and "bit-identical" in result.output


@pytest.mark.parametrize("batches", ["0", "1,x", ""])
def test_the_bench_refuses_bad_batches_in_one_line(batches):
    from click.testing import CliRunner

    from wbstream.cli import main

    result = CliRunner().invoke(main, ["bench", "small-batch", "--batches", batches])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and "--batches" in lines[0]
