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


#: The heavy-hitters table: (l2-heavy-hitters options, query budgets Q).
HEAVY_PROBLEMS = [(dict(n=1 << 13, M=1 << 20, eps=0.5), (1, 10, 100)), (dict(n=1 << 14, M=1 << 20, eps=0.5), (1, 10))]


def heavy_space_rows(problems=HEAVY_PROBLEMS) -> list[dict]:
    """``bucket-countsketch``'s declared space (the sketch is built) against its bound ``ℓ_min(Q) x b``
    counters of ``ceil(log2(2 n M + 1))`` bits [CLNSSS22], beside the oblivious ``countsketch-l2``.

    >>> rows = heavy_space_rows(problems=[(dict(n=256, M=1 << 10, eps=0.5), (1,))])
    >>> [(r["algorithm"], r["rows"], r["width"], r["state_bits"] - r["bound_bits"]) for r in rows]
    [('countsketch-l2', 9, 128, 0), ('bucket-countsketch', 123, 512, 128)]
    """
    from wbstream.algorithms.heavy.bucket_countsketch import min_rows
    from wbstream.engine.algorithm import bits_for_range
    from wbstream.engine.l2_problems import L2HeavyHitters

    out = []
    for options, queries in problems:
        params = L2HeavyHitters(**options).params
        word = bits_for_range(-params.n * params.M, params.n * params.M)
        label = f"n={params.n} eps={params.eps:g}"
        coins = Coins.from_seed(0, "bench-robust")
        cs = algorithms.get("countsketch-l2")(params, coins)
        out.append({"problem": label, "algorithm": "countsketch-l2", "queries": "-", "rows": cs.depth,
                    "width": cs.width, "state_bits": cs.space().state_bits, "key_bits": cs.space().key_bits,
                    "bound_bits": cs.depth * cs.width * word})
        for q in queries:
            bcs = algorithms.get("bucket-countsketch")(params, coins, queries=q)
            bound = min_rows(params.n, params.eps, bcs.width, q) * bcs.width * word
            out.append({"problem": label, "algorithm": "bucket-countsketch", "queries": q, "rows": bcs.rows,
                        "width": bcs.width, "state_bits": bcs.space().state_bits, "key_bits": bcs.space().key_bits,
                        "bound_bits": bound})
    return out
