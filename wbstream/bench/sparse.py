"""Sparse-recovery measurements (FW'23, FJW'24): preset space and security, update and query costs, BLAS share."""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.game import Game

from .common import best_time, make_algorithm, random_batch


def preset_table(n: int, k: int, M: int) -> list[dict]:
    """Space and security estimates of every fw23 and fjw24 preset at (n, k, M), without building keys.

    fw23 keeps 2k Vandermonde syndromes; fjw24 its default expander recovery.
    """
    from wbstream.crypto.params import FJW24_PRESETS, FW23_PRESETS

    from .presets import expander_state_bits

    L = max(1, math.ceil(math.log2(n)))
    vandermonde_bits = 2 * k * 31
    rows = []
    for name, pre in FW23_PRESETS.items():
        sis_rows = pre.sis_rows(n, k, M)
        rows.append({"algorithm": "fw23", "preset": name, "parameters": f"rows={sis_rows}, q=2^{pre.log2_q}",
                     "state_bits": vandermonde_bits + sis_rows * pre.log2_q, "key_bits": 256,
                     "collision_bits": pre.estimates(M=M, k=k, n=n)["collision_bits"], "lwe_bits": None,
                     "label": pre.note})
    for name, pre in FJW24_PRESETS.items():
        est = pre.estimates(M=M, k=k)
        rows.append({"algorithm": "fjw24", "preset": name,
                     "parameters": f"n_lwe={pre.n_lwe}, B_g=2^{pre.base_bits}, q=2^{pre.log_q}, L={L}",
                     "state_bits": expander_state_bits(n, k) + pre.state_bits(), "key_bits": pre.key_bits(n),
                     "collision_bits": est["collision_bits"], "lwe_bits": est["lwe_bits"], "label": pre.note})
    return rows



def sparse_update_vs_k(ks=(1, 10, 100), n: int = 1 << 20, M: int = 1 << 20, batch: int = 256,
                       repeats: int = 3) -> list[dict]:
    """ns per update of fw23 and fjw24 (toy presets) in batches, for each k; tester and total."""
    rows = []
    for k in ks:
        problem = f"sparse-recovery(n={n}, k={k}, M={M})"
        b = random_batch(n, batch, 1, seed=k)
        for spec in ("fw23(preset='toy')", "fjw24(preset='toy')"):
            alg, _ = make_algorithm(spec, problem)
            total = best_time(lambda: alg.update(b.indices, b.deltas), repeats)
            tester = best_time(lambda: alg.tester.add(alg.h, b.indices, b.deltas), repeats)
            rows.append({"algorithm": alg.name, "k": k, "update_ns": total / batch * 1e9,
                         "tester_ns": tester / batch * 1e9})
    return rows


def fjw24_blas_share(n: int = 1 << 20, k: int = 10, batch: int = 256, repeats: int = 3) -> dict:
    """fjw24's batched tester update at the moderate preset vs float64 matmul on the same shapes.

    Each of the L - 1 levels multiplies the (N x N ell) key matrix by a (N ell x batch)
    digit matrix mod 2^64. ``same_shape_ratio`` compares that with (L - 1) float64
    matmuls of the same shapes (mod-2^64 products per second / float64 products per
    second; two 32-bit limbs make 50% the ceiling). ``blas_share`` counts the two limb
    products each level really performs (the share of time spent in BLAS at full speed:
    an inference from the two timings, not a profiler split; see :func:`fjw24_wide_blas_split`).
    """
    alg, _ = make_algorithm("fjw24(preset='moderate')", f"sparse-recovery(n={n}, k={k}, M=1024)")
    g = alg.gsw
    b = random_batch(n, batch, 1)
    alg.tester.add(alg.h, b.indices, b.deltas)  # warm-up: the key's float64 limbs are made on first use
    rng = np.random.default_rng(0)
    A = rng.random((g.N, g.width))
    D = rng.random((g.width, batch))
    update = matmul = math.inf
    for _ in range(repeats):  # alternate, keeping the best of each, so both see the same machine load
        update = min(update, best_time(lambda: alg.tester.add(alg.h, b.indices, b.deltas), 1))
        matmul = min(matmul, best_time(lambda: A @ D, 3))
    levels = g.L - 1
    return {"N": g.N, "width": g.width, "batch": batch, "levels": levels, "update_s": update,
            "matmul_s": matmul, "same_shape_ratio": levels * matmul / update,
            "blas_share": 2 * levels * matmul / update}


def sparse_report_vs_k(ks=(1, 10, 100), n: int = 1 << 16, M: int = 1 << 10, repeats: int = 3) -> list[dict]:
    """Query time of vandermonde, fw23 and fjw24 on a k-sparse vector, for each k."""
    rows = []
    for k in ks:
        problem = f"sparse-recovery(n={n}, k={k}, M={M})"
        b = random_batch(n, k, M, seed=k)
        for spec in ("vandermonde", "fw23(preset='toy')", "fjw24(preset='toy')"):
            alg, _ = make_algorithm(spec, problem)
            alg.update(b.indices, b.deltas)
            rows.append({"algorithm": alg.name, "k": k, "query_ms": best_time(alg.query, repeats) * 1e3})
    return rows


def attack_failure_rate(spec: str, adversary: str, trials: int = 5,
                        problem: str = "sparse-recovery(n=1024, k=2, M=1048576)") -> float:
    """Failure rate of a sparse recovery under a white-box attack over seeds 0..trials-1."""
    game = Game(problem, spec, adversary, "white-box", seed=0)
    failures = 0
    for seed in range(trials):
        game.seed = seed
        failures += game.play().failed
    return failures / trials



def fjw24_wide_blas_split(n_lwe: int = 0, base_bits: int = 0, log_q: int = 0, levels: int = 3, batch: int = 2048,
                          n_for_binding: int = 1 << 16, M: int = 1 << 10) -> dict:
    """fjw24's tester at the ~64-bit preset: the share of its time inside BLAS, by a cProfile split.

    The tester is built at the preset's real shape (N x N l words of log_q bits) with
    ``levels`` key levels (an update runs ``levels - 1`` level products; the full key
    has L = log2 n of them, each the same operation), its key drawn through the key
    cache and memory-mapped as the real one is. The split is the profiler's time in
    :func:`wbstream.crypto.modular128.blas_product` (the float64 BLAS calls) over the
    whole ``tester.add``. Parameters default to the ``sec64`` preset when it exists; the
    batch defaults to the chunk a game pushes through a memory-mapped key's tester at once.
    A batch of at most ``SMALL_BATCH_128`` takes the integer path: no limbs, no BLAS.
    """
    import cProfile
    import pstats
    import time

    from wbstream.algorithms.sparse.fjw24 import GswTester
    from wbstream.crypto import modular128
    from wbstream.crypto.gsw import SMALL_BATCH_128, GswParams
    from wbstream.crypto.keycache import sample_key
    from wbstream.crypto.params import FJW24_PRESETS
    from wbstream.engine.coins import Coins

    pre = FJW24_PRESETS.get("sec64")
    n_lwe = n_lwe or (pre.n_lwe if pre else 2300)
    base_bits = base_bits or (pre.base_bits if pre else 16)
    log_q = log_q or getattr(pre, "log_q", 128)
    full = GswParams.for_universe(n_for_binding, n_lwe, base_bits, M, log_q=log_q,
                                  sigma=getattr(pre, "sigma", 2.0**28))
    g = GswParams(n_lwe, base_bits, levels, full.t_star, log_q)
    start = time.perf_counter()
    key = sample_key(g, Coins.from_seed(0, "bench/fjw24-wide"), "fjw24/key", min_bytes=1)
    key_s = time.perf_counter() - start
    tester = GswTester(g, key, 0)
    rng = np.random.default_rng(0)  # batch updates over the 2^levels indices the short key spans (repeats allowed)
    indices, deltas = rng.integers(0, 1 << levels, batch), rng.integers(-M, M + 1, batch)
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.runcall(tester.add, tester.zero(), indices, deltas)
    total = time.perf_counter() - start
    stats = pstats.Stats(profile).stats
    blas = sum(v[2] for k, v in stats.items() if k[2] == modular128.blas_product.__name__)
    limbs = -(-log_q // 16) if key.mapped and g.wide and batch > SMALL_BATCH_128 else None  # small: no limbs
    return {"n_lwe": n_lwe, "N": g.N, "width": g.width, "log_q": log_q, "limbs": limbs, "batch": batch,
            "level_products": levels - 1, "key_s": key_s, "update_s": total, "blas_s": blas,
            "blas_share": blas / total, "full_L": full.L, "binding": full.binding.describe()}


def _mapped_level(g, rows: int, directory, seed: int = 0) -> np.ndarray:
    """``rows`` rows of a uniform key level of ``g``, written to a file in ``directory`` and memory-mapped read-only."""
    from pathlib import Path

    shape = (rows, g.width) + g.word_shape
    path = Path(directory) / "level.key"
    rng = np.random.default_rng(seed)
    row_words = int(np.prod(shape[1:]))
    with open(path, "wb") as f:
        for r0 in range(0, rows, 256):  # block by block: never the whole level in RAM
            f.write(rng.integers(0, 2**64, (min(256, rows - r0), row_words), dtype=np.uint64).tobytes())
    return np.memmap(path, dtype=np.uint64, mode="r", shape=shape)


def fjw24_small_batch(batches=(1, 2), big: int = 512, rows: int = 0, repeats: int = 3, log_q: int = 128,
                      directory=None) -> dict:
    """One level product of a memory-mapped key at the ``sec64`` shape: the limb path against the integer path.

    A level of the real row shape (``rows`` of its N rows, all by default; N x Nl
    words of log_q bits, uniform, written to a temporary file and memory-mapped) is
    multiplied by the gadget digits of ``m`` random columns for each ``m`` in
    ``batches``, by the float-limb product (``old``) and by the integer one (``new``),
    alternately, best of ``repeats``; the two results are checked equal. ``big``
    (0 to skip) times one product of that many columns through ``GswKey.apply`` (which
    picks a path by ``SMALL_BATCH_*``) beside the limb product, per update.
    ``crossover`` is the largest measured ``m`` at which the integer path was faster.
    """
    import tempfile

    from wbstream.crypto import gsw as gsw_module
    from wbstream.crypto.gsw import GswKey, GswParams
    from wbstream.crypto.modular import LimbMatrix, matmul_mod_2_64_int
    from wbstream.crypto.modular128 import matmul_mod_2_128, matmul_mod_2_128_int
    from wbstream.crypto.params import FJW24_PRESETS

    pre = FJW24_PRESETS["sec64"]
    g = GswParams(pre.n_lwe, pre.base_bits, 1, 0, log_q)  # t* plays no part in a level product
    N = min(rows or g.N, g.N)
    rng = np.random.default_rng(1)

    def old(A, D):
        if g.wide:
            return matmul_mod_2_128(A, D, g.base_bits, gsw_module.ROW_BLOCK)
        return np.concatenate([LimbMatrix(np.asarray(A[r0:r0 + gsw_module.ROW_BLOCK]), g.base_bits) @ D
                               for r0 in range(0, A.shape[0], gsw_module.ROW_BLOCK)], axis=0)

    new = (lambda A, D: matmul_mod_2_128_int(A, D, g.base_bits)) if g.wide else (
        lambda A, D: matmul_mod_2_64_int(A, D, g.base_bits))
    out = {"N": g.N, "rows": N, "width": g.width, "log_q": log_q, "rows_of": [], "small_batch":
           gsw_module.SMALL_BATCH_128 if g.wide else gsw_module.SMALL_BATCH_64}
    with tempfile.TemporaryDirectory(dir=directory) as d:
        A = _mapped_level(g, N, d)
        A.sum(dtype=np.uint64)  # fault every page in once: the first path timed must not pay for both
        for m in batches:
            D = g.decompose(rng.integers(0, 2**64, (g.N, m) + g.word_shape, dtype=np.uint64))
            t_old = t_new = math.inf
            got = {}
            for _ in range(repeats):  # alternate, keeping the best of each, so both see the same machine load
                t_old = min(t_old, best_time(lambda: got.__setitem__("old", old(A, D)), 1))
                t_new = min(t_new, best_time(lambda: got.__setitem__("new", new(A, D)), 1))
            if not np.array_equal(got["old"], got["new"]):
                raise AssertionError(f"integer and limb products differ at m = {m}")
            out["rows_of"].append({"m": m, "old_s": t_old, "new_s": t_new, "ratio": t_old / t_new})
        if big and N == g.N:  # a key needs every row
            key = GswKey(g, A[None], mapped=True)
            W = rng.integers(0, 2**64, (g.N, big) + g.word_shape, dtype=np.uint64)
            D = g.decompose(W)
            out["big"] = {"m": big, "apply_s": best_time(lambda: key.apply(1, W), 1),
                          "old_s": best_time(lambda: old(A, D), 1)}
    faster = [r["m"] for r in out["rows_of"] if r["ratio"] > 1]
    out["crossover"] = max(faster) if faster else 0
    return out
