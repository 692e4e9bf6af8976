"""Every fw23 and fjw24 preset at one (n, k, M): estimates, binding, space, and update time (measured or estimated).

fjw24 presets that claim security are evaluated at their claimed range
``(n_max, M_max)`` unless a point is given; the rest at ``DEFAULT_POINT``.
Update time is measured on a batch of ``batch`` random updates when the key fits
in ``MEASURE_KEY_BYTES``; otherwise it is the flop count of the GSW chain divided by
a measured float64 matmul rate, labelled "est.". The chain runs ``L - 1`` levels,
each an ``N x N ell`` key matrix times the column's digits, split into ``limbs``
float64 products so that every partial sum stays exact under 2^53 (:func:`limbs`).

>>> rows = preset_rows(k=2, measure=False)
>>> sec64 = next(r for r in rows if r["algorithm"] == "fjw24" and r["preset"] == "sec64")
>>> sec64["n"], sec64["M"], sec64["binding"].startswith("yes"), sec64["update_source"]
(65536, 1024, True, 'est.')
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.crypto.params import FJW24_PRESETS, FW23_PRESETS, fw23_bits
from wbstream.crypto.noise_check import measure_eval_noise

from .common import best_time, make_algorithm, random_batch

DEFAULT_POINT = (2 ** 16, 2 ** 10)
#: Keys up to this size are built and timed; larger ones get a flop-count estimate.
MEASURE_KEY_BYTES = 256 * 2 ** 20


def limbs(log_q: int, base_bits: int, width: int) -> int:
    """Float64 products per mod-q product: limbs of ``c`` bits with ``c + base_bits + log2(width) <= 53``.

    >>> limbs(64, 8, 257 * 8), limbs(128, 16, 2301 * 8)
    (2, 6)
    """
    c = 53 - base_bits - math.ceil(math.log2(width))
    return math.ceil(log_q / c)


def gsw_update_flops(n: int, n_lwe: int, base_bits: int, log_q: int) -> float:
    """Float64 flops of one column of the GSW chain: ``2 (L - 1) N (N ell) limbs``."""
    N, ell, L = n_lwe + 1, log_q // base_bits, max(1, (int(n) - 1).bit_length())
    return 2.0 * max(L - 1, 1) * N * N * ell * limbs(log_q, base_bits, N * ell)


def blas_flops_per_second(size: int = 1024, cols: int = 256, repeats: int = 5) -> float:
    """Measured float64 matmul rate on a (size x size) @ (size x cols) product (best of ``repeats``, after a warm-up)."""
    rng = np.random.default_rng(0)
    A, B = rng.random((size, size)), rng.random((size, cols))
    A @ B
    return 2.0 * size * size * cols / best_time(lambda: A @ B, repeats)


def _measure(spec: str, n: int, k: int, M: int, batch: int) -> float:
    alg, _ = make_algorithm(spec, f"sparse-recovery(n={n}, k={k}, M={M})")
    b = random_batch(n, batch, 1)
    alg.update(b.indices, b.deltas)  # warm-up
    return best_time(lambda: alg.update(b.indices, -b.deltas), 2) / len(b) * 1e9


def expander_state_bits(n: int, k: int) -> int:
    """Bits of fjw24's default recovery: two 31-bit sums per bucket of the expander graph."""
    from wbstream.algorithms.sparse.expander_graph import graph_shape

    return 2 * graph_shape(n, k).buckets * 31


def _b_eval_text(pre, n: int) -> str:
    """The collision-noise bounds at (n, the preset's parameters): worst case and subgaussian, as powers of 2."""
    from wbstream.crypto.binding import eval_noise_subgaussian, eval_noise_worst

    shape = dict(n_lwe=pre.n_lwe, base_bits=pre.base_bits, log_q=pre.log_q, L=max(1, (n - 1).bit_length()),
                 sigma=pre.sigma)
    return (f"B_eval 2^{math.log2(eval_noise_worst(**shape)):.1f} worst case, "
            f"2^{math.log2(eval_noise_subgaussian(n=n, **shape)):.1f} subgaussian")


def preset_rows(n: int = 0, k: int = 10, M: int = 0, *, measure: bool = True, batch: int = 256) -> list[dict]:
    """One dict per preset (fw23 then fjw24): see the module docstring. ``n = M = 0``: each preset's own point.

    ``measure=False`` builds nothing: fjw24 update times are all flop-count estimates, fw23's are None.
    """
    rate = blas_flops_per_second()
    rows = []
    for name, pre in FW23_PRESETS.items():
        pn, pM = n or DEFAULT_POINT[0], M or DEFAULT_POINT[1]
        r = pre.sis_rows(pn, k, pM)
        row = {"algorithm": "fw23", "preset": name, "n": pn, "M": pM, "k": k, "parameters": f"rows={r}, q=2^{pre.log2_q}",
               "lwe_bits": None, "collision_bits": fw23_bits(pn, k, pM, name), "binding": "-",
               "binding_margin_bits": None, "state_bits": 2 * k * 31 + r * pre.log2_q, "key_bits": 256,
               "breakable": pre.breakable, "note": pre.note, "update_ns": None, "update_source": None}
        if measure:
            row["update_ns"], row["update_source"] = _measure(f"fw23(preset='{name}')", pn, k, pM, batch), "measured"
        rows.append(row)
    for name, pre in FJW24_PRESETS.items():
        pn = n or (pre.n_max or DEFAULT_POINT[0])
        pM = M or (pre.M_max or DEFAULT_POINT[1])
        est = pre.estimates(M=pM, k=k, n=pn)
        b = est["binding"]
        key_bits = pre.key_bits(pn)
        row = {"algorithm": "fjw24", "preset": name, "n": pn, "M": pM, "k": k,
               "parameters": f"n_lwe={pre.n_lwe}, B_g=2^{pre.base_bits}, q=2^{pre.log_q}, sigma=2^{math.log2(pre.sigma):.1f}",
               "lwe_bits": est["lwe_bits"], "collision_bits": est["collision_bits"],
               "binding": b.describe(), "binding_margin_bits": b.margin_bits, "binding_holds": b.holds,
               "state_bits": expander_state_bits(pn, k) + pre.state_bits(), "key_bits": key_bits,
               "b_eval": _b_eval_text(pre, pn), "b_eval_measured": None,
               "breakable": pre.breakable, "note": pre.note, "update_ns": None, "update_source": None}
        if measure:  # the proof world at a small n_lwe: about 0.2 s a preset
            check = measure_eval_noise(name)
            row["b_eval_measured"] = {"log2": check.measured_log2, "n_lwe": check.n_lwe, "n": check.n,
                                      "seed": check.seed, "subgaussian_log2": check.subgaussian_log2,
                                      "worst_log2": check.worst_log2, "text": check.describe()}
        if measure and key_bits // 8 <= MEASURE_KEY_BYTES and pre.log_q == 64:
            spec = f"fjw24(preset='{name}', allow_unproven=True)"
            row["update_ns"], row["update_source"] = _measure(spec, pn, k, pM, batch), "measured"
        else:
            flops = gsw_update_flops(pn, pre.n_lwe, pre.base_bits, pre.log_q)
            row["update_ns"], row["update_source"] = flops / rate * 1e9, "est."
        rows.append(row)
    return rows
