"""B_eval measured in FJW'24's proof world, beside the two bounds, at a scaled-down LWE dimension.

The binding check (:mod:`wbstream.crypto.binding`) rests on a bound on the noise
``e_j`` of an evaluated column: worst case, or the subgaussian figure. This module
measures it. It builds the proof world (:mod:`wbstream.crypto.gsw_proof`: real GSW
encryptions of a hidden index under a secret key) with a preset's gadget base,
modulus and error width, but with a small ``n_lwe`` (the real key has GiBs, and at
q = 2^128 the proof-world algebra runs on Python integers), evaluates every one of
n columns with the tester's own code, and reports ``max_j |e_j|`` beside both bounds
*at that same shape*. A measured maximum below the subgaussian figure supports the
model that the preset's own figure comes from; it is not a measurement at the
preset's full size.

>>> check = measure_eval_noise("toy", n_lwe=2, n=16, seed=0)
>>> check.measured_log2 <= check.subgaussian_log2 <= check.worst_log2
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from wbstream.crypto.binding import eval_noise_subgaussian, eval_noise_worst
from wbstream.crypto.gsw import GswParams, eval_cols
from wbstream.crypto.gsw_proof import encrypt_index, keygen, measured_noise
from wbstream.crypto.params import FJW24_PRESETS
from wbstream.engine.errors import SpecError


@dataclass(frozen=True)
class NoiseCheck:
    """One proof-world measurement: the shape it ran at and log2 of the three figures."""

    preset: str
    n_lwe: int
    n: int
    seed: int
    measured_log2: float
    subgaussian_log2: float
    worst_log2: float

    def describe(self) -> str:
        return (f"fjw24 {self.preset}: B_eval measured 2^{self.measured_log2:.1f} (max over n = {self.n:,} "
                f"columns, proof world at n_lwe = {self.n_lwe}, seed {self.seed}), against 2^"
                f"{self.subgaussian_log2:.1f} subgaussian and 2^{self.worst_log2:.1f} worst case at that shape")


def measure_eval_noise(preset: str, *, n_lwe: int = 8, n: int = 1024, seed: int = 0) -> NoiseCheck:
    """Measure ``max_j |e_j|`` over n evaluated columns at the preset's (B_g, q, sigma) and the given n_lwe."""
    if preset not in FJW24_PRESETS:
        raise SpecError(f"noise check: preset must be one of {', '.join(FJW24_PRESETS)}, got {preset!r}")
    if not 1 <= n_lwe <= 64:
        raise SpecError(f"noise check: n_lwe must be in [1, 64] (the proof world is built in full), got {n_lwe}")
    if not 2 <= n <= 1 << 14:
        raise SpecError(f"noise check: n must be in [2, 2^14] (every column is evaluated), got {n}")
    pre = FJW24_PRESETS[preset]
    L = max(1, math.ceil(math.log2(n)))
    params = GswParams(n_lwe, pre.base_bits, L, 1, pre.log_q)  # t* only picks the gadget column decrypted
    rng = np.random.default_rng(seed)
    s, A = keygen(params, rng, sigma=pre.sigma)
    v = int(rng.integers(0, n))
    cols = eval_cols(encrypt_index(params, A, v, rng), np.arange(n))
    mu = (np.arange(n) == v).astype(np.int64)
    common = dict(n_lwe=n_lwe, base_bits=pre.base_bits, log_q=pre.log_q, L=L, sigma=pre.sigma)
    return NoiseCheck(preset, n_lwe, n, seed, math.log2(max(measured_noise(params, s, cols, mu), 1)),
                      math.log2(eval_noise_subgaussian(n=n, **common)), math.log2(eval_noise_worst(**common)))
