"""Performance measurements, shared by ``benchmarks/perf_ratios.py`` and the ASV suite.

Each function measures both sides of a ratio in the same run.
"""

from __future__ import annotations

import math
import time

import numpy as np

from wbstream.engine.adversary import Adversary
from wbstream.engine.algorithm import Space, StreamingAlgorithm
from wbstream.engine.coins import Coins
from wbstream.engine.game import Budget, Game
from wbstream.engine.problems import F2Estimation
from wbstream.engine.registry import algorithms, problems
from wbstream.engine.stream import Batch, RowBatch
from wbstream.engine.threat import ADAPTIVE


class NoOpAlgorithm(StreamingAlgorithm):
    """Does nothing; answers 0. Isolates the engine's own cost."""

    name = "noop"
    problem = F2Estimation

    def update(self, indices, deltas):
        return None

    def query(self):
        return 0.0

    def state(self):
        return {}

    def space(self):
        return Space(0, 0, 0)


class NoOpAdversary(Adversary):
    """Sends the same pre-built single update (delta 0) every round."""

    name = "noop"

    def __init__(self):
        self.batch = Batch(np.zeros(1, np.int64), np.zeros(1, np.int64))

    def act(self, obs):
        return self.batch


def engine_overhead(rounds: int = 100_000, query_every: int = 1, repeats: int = 5) -> dict:
    """Seconds for an adaptive no-op game vs a bare loop calling the same two methods.

    The two are timed alternately, ``repeats`` times each, and the best of each is kept,
    so both see the same machine state.
    """
    game = Game("f2(n=16, M=4, eps=0.5)", NoOpAlgorithm, NoOpAdversary, ADAPTIVE,
                budget=Budget(updates=None, rounds=rounds), query_every=query_every, seed=0)

    def bare():
        alg = NoOpAlgorithm(None, None)
        adv = NoOpAdversary()
        obs = None
        for _ in range(rounds):
            b = adv.act(obs)
            alg.update(b.indices, b.deltas)

    best_game = best_bare = float("inf")
    for _ in range(repeats):
        best_game = min(best_game, _timed(game.play))
        best_bare = min(best_bare, _timed(bare))
    return {"rounds": rounds, "game_s": best_game, "bare_s": best_bare, "ratio": best_game / best_bare}


class AlternatingBatches(Adversary):
    """Sends one pre-built batch of distinct indices, +1 then -1 in turn (the vector stays within 1)."""

    name = "alternating-batches"
    needs = ADAPTIVE

    def __init__(self, *, size: int = 10_000):
        self.size = size

    def reset(self, params, rng):
        super().reset(params, rng)
        idx = np.arange(self.size, dtype=np.int64) * (params.n // self.size)
        self.up, self.down = Batch(idx, np.ones(self.size, np.int64)), Batch(idx, -np.ones(self.size, np.int64))

    def act(self, obs):
        return self.up if obs.round % 2 else self.down


def isolation_overhead(repeats: int = 3) -> list[dict]:
    """Isolated (``isolation="process"``) against in-process games, timed alternately in one run.

    Three cases: an adaptive adversary sending batches of 10^4 updates to
    countsketch; single-update adaptive rounds of the no-op game (one round trip
    per round); and the same no-op game at the oblivious level (rounds in blocks).
    """
    cases = [
        ("batches of 10^4 updates, adaptive, countsketch(rows=5, cols=64)",
         ("sparse-recovery(n=100000, k=8, M=1024)", "countsketch(rows=5, cols=64)", AlternatingBatches, ADAPTIVE),
         200),
        ("single-update adaptive rounds, no-op game", ("f2(n=16, M=4, eps=0.5)", NoOpAlgorithm, NoOpAdversary, ADAPTIVE),
         20_000),
        ("single-update oblivious rounds (blocks), no-op game",
         ("f2(n=16, M=4, eps=0.5)", NoOpAlgorithm, NoOpAdversary, "oblivious"), 100_000),
    ]
    out = []
    for label, (problem, alg, adv, threat), rounds in cases:
        games = {iso: Game(problem, alg, adv, threat, budget=Budget(updates=None, rounds=rounds),
                           query_every=rounds, seed=0, isolation=iso) for iso in ("none", "process")}
        best = {iso: float("inf") for iso in games}
        for _ in range(repeats):
            for iso, game in games.items():
                best[iso] = min(best[iso], _timed(game.play))
        out.append({"case": label, "rounds": rounds, "in_process_s": best["none"], "isolated_s": best["process"],
                    "ratio": best["process"] / best["none"]})
    return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def make_algorithm(spec: str, problem_spec: str, seed: int = 0):
    """An algorithm instance (and its problem) built from specs, as a game would."""
    pcls, popts = problems.resolve(problem_spec)
    problem = pcls(**popts)
    acls, aopts = algorithms.resolve(spec)
    return acls(problem.params, Coins.from_seed(seed, "algorithm"), **aopts), problem


def random_batch(n: int, size: int, bound: int, seed: int = 0) -> Batch:
    """A random batch with distinct indices and small deltas (promise-safe from zero)."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, size=min(size, n), replace=False).astype(np.int64)
    return Batch(idx, rng.integers(-bound, bound + 1, size=len(idx)).astype(np.int64))


def arena_batch(problem, size: int, bound: int, seed: int = 0) -> Batch:
    """A promise-safe batch of about ``size`` updates for ``problem``: whole random rows for a row stream."""
    if problem.stream_kind == "rows":
        cols = problem.params.cols
        return RowBatch(np.random.default_rng(seed).uniform(-bound, bound, size=(max(1, size // cols), cols)))
    return random_batch(problem.n, size, bound, seed)


def batch_speedup(spec: str = "countsketch(rows=5, cols=64)",
                  problem_spec: str = "sparse-recovery(n=100000, k=8, M=1024)",
                  batch: int = 10_000, singles: int = 2_000, repeats: int = 3) -> dict:
    """Updates per second in batches of ``batch`` vs one update per call."""
    alg, problem = make_algorithm(spec, problem_spec)
    b = random_batch(problem.n, batch, 1)
    t_batch = min(_timed(lambda: alg.update(b.indices, b.deltas)) for _ in range(repeats))
    idx, dlt = b.indices[:singles], b.deltas[:singles]
    one = [(idx[j:j + 1], dlt[j:j + 1]) for j in range(singles)]

    def singly():
        for i, d in one:
            alg.update(i, d)

    t_single = min(_timed(singly) for _ in range(repeats))
    batch_rate, single_rate = len(b) / t_batch, singles / t_single
    return {"batch_updates_per_s": batch_rate, "single_updates_per_s": single_rate,
            "ratio": batch_rate / single_rate}


#: The standard first matchups: (problem, algorithm, white-box adversary, oblivious adversary, query_every).
MATCHUPS = {
    "countsketch": ("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)",
                    "random-sparse(rounds=20)", 1),
    "ams": ("f2(n=2048, M=1024, eps=0.5)", "ams(means=16, medians=5)", "dense(rounds=20, batch=256)", 20),
}


def failure_rate(algorithm: str, adversary: str, trials: int = 20) -> float:
    """Failure rate over seeds 0..trials-1; ``adversary`` is 'kernel-injection' or 'oblivious'."""
    problem, spec, oblivious, every = MATCHUPS[algorithm]
    if adversary == "kernel-injection":
        game = Game(problem, spec, "kernel-injection", "white-box", seed=0)
    else:
        game = Game(problem, spec, oblivious, "oblivious", query_every=every, seed=0)
    failures = 0
    for seed in range(trials):
        game.seed = seed
        failures += game.play().failed
    return failures / trials


def preset_table(n: int, k: int, M: int) -> list[dict]:
    """Space and security estimates of every fw23 and fjw24 preset at (n, k, M), without building keys."""
    from wbstream.crypto.params import FJW24_PRESETS, FW23_PRESETS

    L = max(1, math.ceil(math.log2(n)))
    vandermonde_bits = 2 * k * 31
    rows = []
    for name, pre in FW23_PRESETS.items():
        sis_rows = pre.sis_rows(n, k)
        rows.append({"algorithm": "fw23", "preset": name, "parameters": f"rows={sis_rows}, q=2^{pre.log2_q}",
                     "state_bits": vandermonde_bits + sis_rows * pre.log2_q, "key_bits": 256,
                     "collision_bits": pre.estimates(M=M, k=k, n=n)["collision_bits"], "lwe_bits": None,
                     "label": pre.note})
    for name, pre in FJW24_PRESETS.items():
        est = pre.estimates(M=M, k=k)
        rows.append({"algorithm": "fjw24", "preset": name,
                     "parameters": f"n_lwe={pre.n_lwe}, B_g=2^{pre.base_bits}, L={L}",
                     "state_bits": vandermonde_bits + (pre.n_lwe + 1) * 64, "key_bits": pre.key_bits(n),
                     "collision_bits": est["collision_bits"], "lwe_bits": est["lwe_bits"], "label": pre.note})
    return rows


# -- sparse recovery (issue: FW'23 / FJW'24) ---------------------------------------------------


def _best(fn, repeats: int) -> float:
    return min(_timed(fn) for _ in range(repeats))


def sparse_update_vs_k(ks=(1, 10, 100), n: int = 1 << 20, M: int = 1 << 20, batch: int = 256,
                       repeats: int = 3) -> list[dict]:
    """ns per update of fw23 and fjw24 (toy presets) in batches, for each k; tester and total."""
    rows = []
    for k in ks:
        problem = f"sparse-recovery(n={n}, k={k}, M={M})"
        b = random_batch(n, batch, 1, seed=k)
        for spec in ("fw23(preset='toy')", "fjw24(preset='toy')"):
            alg, _ = make_algorithm(spec, problem)
            total = _best(lambda: alg.update(b.indices, b.deltas), repeats)
            tester = _best(lambda: alg.tester.add(alg.h, b.indices, b.deltas), repeats)
            rows.append({"algorithm": alg.name, "k": k, "update_ns": total / batch * 1e9,
                         "tester_ns": tester / batch * 1e9})
    return rows


def fjw24_blas_share(n: int = 1 << 20, k: int = 10, batch: int = 256, repeats: int = 3) -> dict:
    """fjw24's batched tester update at the moderate preset vs float64 matmul on the same shapes.

    Each of the L - 1 levels multiplies the (N x N ell) key matrix by a (N ell x batch)
    digit matrix mod 2^64. ``same_shape_ratio`` compares that with (L - 1) float64
    matmuls of the same shapes (mod-2^64 products per second / float64 products per
    second; two 32-bit limbs make 50% the ceiling). ``blas_share`` counts the two limb
    products each level really performs (the share of time spent in BLAS at full speed).
    """
    alg, _ = make_algorithm("fjw24(preset='moderate')", f"sparse-recovery(n={n}, k={k}, M=1024)")
    g = alg.gsw
    b = random_batch(n, batch, 1)
    alg.tester.add(alg.h, b.indices, b.deltas)  # warm-up: the key's float64 limbs are made on first use
    update = _best(lambda: alg.tester.add(alg.h, b.indices, b.deltas), repeats)
    rng = np.random.default_rng(0)
    A = rng.random((g.N, g.width))
    D = rng.random((g.width, batch))
    matmul = _best(lambda: A @ D, max(repeats, 5))
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
            rows.append({"algorithm": alg.name, "k": k, "query_ms": _best(alg.query, repeats) * 1e3})
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


def matchup_failure_rate(matchup, trials: int = 5) -> float:
    """Failure rate of an arena matchup over seeds 0..trials-1 (games that error count as failures)."""
    failures = 0
    for seed in range(trials):
        try:
            failures += matchup.game(seed).play().failed
        except Exception:
            failures += 1
    return failures / trials
