"""The two simulations of Cohen, Lyu, Nelson, Sarlós, Shechner and Stemmer (ICML 2022), reproduced.

Edith Cohen, Xin Lyu, Jelani Nelson, Tamás Sarlós, Moshe Shechner, Uri Stemmer.
*On the Robustness of CountSketch to Adaptive Inputs.* ICML 2022.

As in the paper's simulations, only the buckets of the tracked keys are kept
(fully random hashes; every tail key is fresh), so ℓ = 1000 rows and tens of
thousands of rounds run in seconds. A round's tail adds, in each bucket, the sum
of ``Binomial(tail, 1/b)`` random signs. The decision rule is the attack's
(:func:`wbstream.adversaries.cohen2022.collect_sign`): the query reports the top
``keys - 1`` of ``keys`` median estimates, and the tail is collected with sign
+1 when key 0 is reported and key 1 is not, -1 in the opposite case.

* :func:`bnr_trajectory` (their figure 1): bias-to-noise ratio of keys 0, 1 and
  the control key 2 against rounds, ℓ = 100, b = 30, two medium keys of weight
  ``10 sd`` and nine large of ``20 sd`` (``sd = sqrt(tail / b)``).
* :func:`rounds_to_bnr` (their figure 2): rounds until both ``|BNR_0|`` and
  ``|BNR_1|`` reach a target, for each ℓ. As in the paper's second simulation,
  each tracked key's tail contribution in a row is Gaussian with the variance
  ``tail / b`` of the exact sum (keys in distinct buckets).

>>> rng = np.random.default_rng(0)
>>> bnr = bnr_trajectory(ell=20, b=30, rounds=400, rng=rng)
>>> bnr.shape, bool(bnr[-1, 0] > 1 > abs(bnr[-1, 2])), bool(bnr[-1, 1] < -1)
((400, 3), True, True)
>>> 0 < rounds_to_bnr(ell=20, b=30, target=1.0, rng=rng) < 400
True
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.adversaries.cohen2022 import collect_sign

TAIL = 1000
BLOCK = 1024


def _tail_sums(rng: np.random.Generator, shape: tuple[int, ...], tail: int, b: int) -> np.ndarray:
    """Sum of the random signs of the tail keys landing in each bucket (independent buckets)."""
    count = rng.binomial(tail, 1.0 / b, size=shape)
    return 2 * rng.binomial(count, 0.5) - count


def _sketch(rng, ell: int, b: int, keys: int, weights: np.ndarray):
    """Hashes and signs of the tracked keys, redrawn until v's median estimates are exact (as the paper checks)."""
    for _ in range(1000):
        buckets = rng.integers(0, b, size=(ell, keys))
        signs = rng.choice(np.array([-1, 1]), size=(ell, keys))
        counters = np.zeros((ell, b), dtype=np.int64)
        np.add.at(counters, (np.arange(ell)[:, None].repeat(keys, 1), buckets), signs * weights)
        v_votes = np.take_along_axis(counters, buckets, axis=1) * signs
        if np.array_equal(np.median(v_votes, axis=0), weights):
            return buckets, signs, v_votes
    raise RuntimeError("no sketch decodes v exactly; raise b or lower the number of keys")


def bnr_trajectory(*, ell: int = 100, b: int = 30, rounds: int = 10_000, tail: int = TAIL, keys: int = 11,
                   rng: np.random.Generator) -> np.ndarray:
    """BNR of keys 0, 1, 2 after each round, shape ``(rounds, 3)`` (figure 1 of the paper)."""
    sd = math.sqrt(tail / b)
    weights = np.full(keys, int(20 * sd), dtype=np.int64)
    weights[:2] = int(10 * sd)
    buckets, signs, v_votes = _sketch(rng, ell, b, keys, weights)
    acc = np.zeros((ell, keys), dtype=np.int64)
    collected = 0
    out = np.empty((rounds, 3))
    rows = np.arange(ell)[:, None]
    for start in range(0, rounds, BLOCK):
        m = min(BLOCK, rounds - start)
        z = _tail_sums(rng, (m, ell, b), tail, b)
        zk = z[:, rows, buckets] * signs               # (m, ell, keys): each key's tail contribution
        est = np.median(v_votes + zk, axis=1)            # (m, keys)
        second = np.partition(est, 1, axis=1)[:, 1]
        reported = est[:, :2] >= second[:, None]
        sign = np.array([collect_sign(a, c) for a, c in reported])
        steps = np.cumsum(sign[:, None, None] * zk[:, :, :3], axis=0) + acc[:, :3]
        counts = collected + np.cumsum(sign != 0)
        noise = np.sqrt(np.maximum(counts, 1) * tail / b)
        out[start:start + m] = np.median(steps, axis=1) / noise[:, None]
        acc[:, :3] = steps[-1]
        collected = int(counts[-1])
    return out


def rounds_to_bnr(*, ell: int, b: int = 30, target: float, tail: int = TAIL, rng: np.random.Generator,
                  limit: int = 10**7) -> int:
    """Rounds until both keys' ``|BNR|`` reach ``target`` (figure 2 of the paper; -1 past ``limit``)."""
    acc = np.zeros((ell, 2))
    collected, done = 0, 0
    block = max(64, min(BLOCK * 4, 4_000_000 // ell))
    while done < limit:
        z = rng.standard_normal((block, ell, 2)) * math.sqrt(tail / b)  # the paper's Gaussian bucket model
        med = np.median(z, axis=1)
        sign = np.sign(med[:, 0] - med[:, 1]).astype(np.int64)  # key 0 reported and not key 1, or the reverse
        steps = np.cumsum(sign[:, None, None] * z, axis=0) + acc
        counts = collected + np.cumsum(sign != 0)
        bnr = np.abs(np.median(steps, axis=1)) / np.sqrt(np.maximum(counts, 1) * tail / b)[:, None]
        hit = np.flatnonzero((bnr >= target).all(axis=1) & (counts > 0))
        if len(hit):
            return done + int(hit[0]) + 1
        acc, collected, done = steps[-1], int(counts[-1]), done + block
    return -1


def round_dependency(ells, *, targets=(1.0, 4.0), repetitions=(20, 5), b: int = 30, seed: int = 0) -> list[dict]:
    """Mean rounds to each target BNR for each ℓ, with the least-squares slope in ℓ."""
    rng = np.random.default_rng(seed)
    rows = []
    for target, reps in zip(targets, repetitions):
        means = [float(np.mean([rounds_to_bnr(ell=ell, b=b, target=target, rng=rng) for _ in range(reps)]))
                 for ell in ells]
        slope, intercept = np.polyfit(np.asarray(ells, float), means, 1)
        rows.append({"target": target, "repetitions": reps, "ells": list(ells), "rounds": means,
                     "slope": float(slope), "intercept": float(intercept)})
    return rows


def print_cohen(out, *, ells, rounds: int, repetitions: int, plot_path=None, seed: int = 0) -> dict:
    """Print both figures' numbers (``wbstream reproduce cohen-2022``) and optionally plot them."""
    rng = np.random.default_rng(seed)
    curves = np.stack([bnr_trajectory(ell=100, b=30, rounds=rounds, rng=rng) for _ in range(repetitions)])
    mean = curves.mean(axis=0)
    out.print(f"Cohen et al. 2022, figure 1: bias-to-noise ratio against rounds (ℓ = 100, b = 30, tail {TAIL}, "
              f"mean of {repetitions} runs)")
    marks = sorted({m for m in (10, 100, 500, 1000, 2000, 5000, 10_000, rounds) if m <= rounds})
    for m in marks:
        k0, k1, k2 = mean[m - 1]
        out.print(f"  round {m:>6,}: key 0 {k0:+.2f}   key 1 {k1:+.2f}   key 2 (control) {k2:+.2f}")
    rows = round_dependency(ells, repetitions=(max(repetitions, 3) * 2, repetitions), seed=seed + 1)
    out.print("Cohen et al. 2022, figure 2: rounds until |BNR| of keys 0 and 1 reaches a target (b = 30)")
    for r in rows:
        cells = "  ".join(f"ℓ={e}: {v:,.0f}" for e, v in zip(r["ells"], r["rounds"]))
        out.print(f"  BNR >= {r['target']:g} ({r['repetitions']} runs): {cells}")
        out.print(f"    least-squares fit: rounds = {r['slope']:.1f} ℓ {r['intercept']:+,.0f}")
    if plot_path is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
        x = np.arange(1, rounds + 1)
        for k, label in enumerate(("key 0", "key 1", "key 2 (control)")):
            a.plot(x, mean[:, k], label=label)
        a.set(xlabel="attack rounds", ylabel="bias / noise", title="ℓ = 100, b = 30")
        a.legend()
        for r in rows:
            b.plot(r["ells"], r["rounds"], "o-", label=f"BNR {r['target']:g} (slope {r['slope']:.1f})")
        b.set(xlabel="ℓ (rows)", ylabel="rounds", title="rounds to a target BNR, b = 30")
        b.legend()
        fig.tight_layout()
        fig.savefig(plot_path, dpi=110)
        out.print(f"wrote {plot_path}")
    return {"figure1": mean, "figure2": rows}
