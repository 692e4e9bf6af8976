"""Distinct elements and heavy hitters: throughput against Apache DataSketches, and space against the bounds.

Both sides of every ratio are measured in the same run on the same items. The
DataSketches side is the package used as its Python users use it: one
``update(int)`` call per item.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.coins import Coins
from wbstream.engine.problems import DistinctElements
from wbstream.engine.registry import algorithms

from .common import best_time, make_algorithm

#: The universe of the throughput runs (the referee's dense truth fits in memory).
UNIVERSE = 10**7

#: (ours, DataSketches constructor description, the peer built by ``_peer``).
PAIRS = [("hll(p=12)", "hll_sketch(12, HLL_4)"), ("hll(p=12)", "hll_sketch(12, HLL_8)"),
         ("kmv(k=4096)", "update_theta_sketch(lg_k=12)")]


def _peer(description: str):
    import datasketches as ds

    if description.startswith("hll_sketch"):
        return ds.hll_sketch(12, ds.HLL_4 if "HLL_4" in description else ds.HLL_8)
    return ds.update_theta_sketch(lg_k=12)


def f0_throughput(items: int = 10**6, repeats: int = 3, seed: int = 0) -> list[dict]:
    """Items per second: our batched update of all ``items`` at once against the package's per-item API."""
    rng = np.random.default_rng(seed)
    stream = rng.choice(UNIVERSE, size=items, replace=False).astype(np.int64)
    ones = np.ones(items, dtype=np.int64)
    params = DistinctElements(n=UNIVERSE, M=1024, eps=0.1, insertion_only=True).params
    rows = []
    for ours, theirs in PAIRS:
        cls, options = algorithms.resolve(ours)

        def run_ours():
            alg = cls(params, Coins.from_seed(seed, "algorithm"), **options)
            alg.update(stream, ones)
            return alg

        def run_theirs():
            sketch = _peer(theirs)
            update = sketch.update
            for item in stream.tolist():
                update(item)
            return sketch

        t_ours, t_theirs = best_time(run_ours, repeats), best_time(run_theirs, repeats)
        rows.append({"ours": ours, "theirs": theirs, "items": items,
                     "ours_per_s": items / t_ours, "theirs_per_s": items / t_theirs,
                     "ratio": t_theirs / t_ours,
                     "ours_estimate": run_ours().query(), "theirs_estimate": run_theirs().get_estimate()})
    return rows


def redis_throughput(items: int = 10**6, repeats: int = 3, seed: int = 0) -> list[dict]:
    """Items per second into a 2^14-register HLL, three ways, on the same items in the same run.

    ``redis-hll`` (a real Redis server: pipelined PFADD commands of 2^14 items, numpy-encoded,
    server hashing included), our ``hll(p=14)`` (one batch) and DataSketches ``hll_sketch(14, HLL_6)``
    (one Python call per item). ``vs redis`` is each one's throughput over redis-hll's.
    """
    from wbstream.algorithms.distinct.redis_hll import RedisHll

    if RedisHll.unavailable():
        return []
    import datasketches as ds

    stream = np.random.default_rng(seed).choice(UNIVERSE, size=items, replace=False).astype(np.int64)
    ones = np.ones(items, dtype=np.int64)
    params = DistinctElements(n=UNIVERSE, M=1024, eps=0.1, insertion_only=True).params

    def ours(spec):
        cls, options = algorithms.resolve(spec)

        def run():
            alg = cls(params, Coins.from_seed(seed, "algorithm"), **options)
            alg.update(stream, ones)
            return alg.query()
        return run

    def datasketches():
        sketch = ds.hll_sketch(14, ds.HLL_6)
        update = sketch.update
        for item in stream.tolist():
            update(item)
        return sketch.get_estimate()

    runs = [("redis-hll", "Redis 6.2 PFADD, pipelined", ours("redis-hll")),
            ("hll(p=14)", "numpy batch", ours("hll(p=14)")),
            ("ds-hll(lg_k=14)", "DataSketches hll_sketch(14, HLL_6), per item", datasketches)]
    rows = [{"sketch": name, "how": how, "seconds": best_time(run, repeats), "estimate": run()} for name, how, run in runs]
    for r in rows:
        r["per_s"] = items / r["seconds"]
        r["vs_redis"] = rows[0]["seconds"] / r["seconds"]
    return rows


def _bits(x: float) -> float:
    return math.log2(max(x, 2))


#: (algorithm spec, problem spec, the bound's formula in words, the bound in bits as a function of params).
SPACE_CASES = [
    ("hll(p=12)", "distinct-elements(n=1000000, M=1024, eps=0.1, insertion_only=True)",
     "m log2(log2 n) bits, m = 4096", lambda p, n, m: 4096 * _bits(_bits(n))),
    ("kmv(k=4096)", "distinct-elements(n=1000000, M=1024, eps=0.1, insertion_only=True)",
     "k log2 n bits, k = 4096", lambda p, n, m: 4096 * _bits(n)),
    ("ds-hll(lg_k=12)", "distinct-elements(n=1000000, M=1024, eps=0.1, insertion_only=True)",
     "4 bits x 2^12 registers (HLL_4)", lambda p, n, m: 4 * 4096),
    ("ds-cpc(lg_k=12)", "distinct-elements(n=1000000, M=1024, eps=0.1, insertion_only=True)",
     "reference: HLL_4 at the same lg_k, 4 bits x 2^12", lambda p, n, m: 4 * 4096),
    ("ds-theta(lg_k=12)", "distinct-elements(n=1000000, M=1024, eps=0.1, insertion_only=True)",
     "k log2 n bits, k = 4096", lambda p, n, m: 4096 * _bits(n)),
    ("robust-l0(preset='toy')", "distinct-elements(n=1000000, M=1024, alpha=100)",
     "k log2(nM) bits, k = n/alpha^2 = 100 (Õ(n/alpha^2))", lambda p, n, m: 100 * _bits(n * 1024)),
    ("misra-gries", "heavy-hitters(n=1000000, M=1048576, eps=0.05)",
     "(2/eps)(log2 n + log2 m)", lambda p, n, m: 2 / 0.05 * (_bits(n) + _bits(m))),
    ("count-min", "heavy-hitters(n=1000000, M=1048576, eps=0.05)",
     "(2e/eps) ln(n/0.05) log2 m", lambda p, n, m: 2 * math.e / 0.05 * math.log(n / 0.05) * _bits(m)),
    ("ds-count-min", "heavy-hitters(n=1000000, M=1048576, eps=0.05)",
     "(2e/eps) ln(n/0.05) log2 m", lambda p, n, m: 2 * math.e / 0.05 * math.log(n / 0.05) * _bits(m)),
    ("countsketch-hh", "heavy-hitters(n=1000000, M=1048576, eps=0.05)",
     "(32/eps) ln(n/0.05) log2 m", lambda p, n, m: 32 / 0.05 * math.log(n / 0.05) * _bits(m)),
    ("robust-sampler", "heavy-hitters(n=1000000, M=1048576, eps=0.05)",
     "(4/eps)(log2 n + log2(16 ln n/eps^2)) + log2 log2 m",
     lambda p, n, m: 4 / 0.05 * (_bits(n) + _bits(16 * math.log(n) / 0.05 ** 2)) + _bits(_bits(m))),
]


def space_table(length: int = 2_000_000, seed: int = 0) -> list[dict]:
    """Declared bits of each algorithm after ``length`` Zipf insertions, beside its theoretical bound."""
    from wbstream.adversaries.oblivious import zipf_stream

    rows = []
    for spec, problem_spec, formula, bound in SPACE_CASES:
        alg, problem = make_algorithm(spec, problem_spec, seed=seed)
        n = problem.n
        if "distinct" in problem_spec and problem.params.get("alpha") is not None:
            rng = np.random.default_rng(seed)
            idx = rng.choice(n, size=1000, replace=False).astype(np.int64)
            alg.update(idx, np.ones(len(idx), dtype=np.int64))  # turnstile: 1,000 non-zeros
        else:
            stream = zipf_stream(np.random.default_rng(seed), n, length, 1.1)
            for part in np.array_split(stream, 20):
                alg.update(part, np.ones(len(part), dtype=np.int64))
        space = alg.space()
        rows.append({"algorithm": spec, "problem": problem_spec, "state_bits": space.state_bits,
                     "key_bits": space.key_bits, "bound": formula, "bound_bits": bound(problem.params, n, length)})
    return rows
