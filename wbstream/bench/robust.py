"""Space of the adaptive-robust F2 estimators against their bounds (``wbstream bench robust``).

The bound for both constructions is their number of copies times the space of
one oblivious AMS copy: ``means x medians`` counters of ``ceil(log2(2 n M + 1))``
bits, ``means = ceil(4 / a^2)``. Sketch switching [BJWY20, theorem 1.2] needs
``lambda = ceil(4 ln(n M^2) / ell) + 1`` copies (``O(eps^-1 log(n M))`` for
insertion-only streams); DP aggregation [HKMMS20, theorem 3.1] needs
``k = O(sqrt(lambda) log(...))`` copies (here ``dp_parameters``). Key bits (the
4-wise independent signs, four 31-bit coefficients per counter) are reported
separately; a classic ``ams`` with one copy's parameters is the baseline.
"""

from __future__ import annotations

import math

from wbstream.algorithms.norms.copies import default_means, flip_number
from wbstream.algorithms.norms.dp_f2 import dp_parameters
from wbstream.engine.coins import Coins
from wbstream.engine.problems import F2Estimation
from wbstream.engine.registry import algorithms

#: The problems of the table (f2 options).
PROBLEMS = [dict(n=64, M=16, alpha=4, insertion_only=True), dict(n=1 << 10, M=1 << 10, alpha=4, insertion_only=True),
            dict(n=1 << 10, M=1 << 10, alpha=8, insertion_only=True)]


def space_rows(problems=PROBLEMS, medians: int = 3) -> list[dict]:
    """One row per (problem, algorithm): copies, declared state and key bits, and the bound's state bits.

    >>> rows = space_rows(problems=[dict(n=64, M=16, alpha=4, insertion_only=True)])
    >>> [(r["algorithm"], r["copies"], round(r["state_bits"] / r["bound_bits"], 3)) for r in rows]
    [('ams', 1, 1.0), ('switching-f2', 29, 1.005), ('dp-f2', 4887, 1.0)]
    """
    out = []
    for options in problems:
        params = F2Estimation(**options).params
        means = default_means(params)
        counter_bits = math.ceil(math.log2(2 * params.n * params.M + 1))
        copy_bits = means * medians * counter_bits
        for name, copies in (("ams", 1), ("switching-f2", flip_number(params)), ("dp-f2", dp_parameters(params)[0])):
            cls = algorithms.get(name)
            opts = {"means": means, "medians": medians}
            alg = cls(params, Coins.from_seed(0, "bench-robust"), **opts)
            space = alg.space()
            out.append({"problem": f"n={params.n} M={params.M} alpha={params.alpha:g}", "algorithm": name,
                        "copies": copies, "counters": copies * means * medians,
                        "state_bits": space.state_bits,
                        "key_bits": space.key_bits, "bound_bits": copies * copy_bits})
    return out
