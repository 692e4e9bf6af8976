"""The relaxed recoveries side by side: update cost against k, report time (``wbstream bench recovery``).

Each figure is measured in one run for both recoveries: the Vandermonde syndromes
(2k words, O(k) update) and the expander bucket sums (D = 33 buckets an update).
"""

from __future__ import annotations

import numpy as np

from wbstream.algorithms.sparse.expander import ExpanderDecoder
from wbstream.algorithms.sparse.expander_graph import graph_shape
from wbstream.algorithms.sparse.vandermonde import P31, SyndromeDecoder

from .common import best_time, make_algorithm, random_batch


def decoders(n: int, k: int, M: int) -> dict:
    """Every recovery measured at (n, k, M): vandermonde, the expander as fjw24 builds it, and at k
    where that is the identity, the D = 33 graph the union bound asks for (more buckets than n)."""
    out = {"vandermonde": SyndromeDecoder(n, k, M, P31), "expander": ExpanderDecoder(n, k, M, P31)}
    if out["expander"].shape.degree == 1:
        forced = graph_shape(n, k, identity=False)
        out["expander D=33"] = ExpanderDecoder(n, k, M, P31, degree=forced.degree, width=forced.width)
    return out


def update_vs_k(ks=(1, 10, 100, 1000), n: int = 1 << 20, M: int = 1 << 20, batch: int = 256,
                repeats: int = 5) -> list[dict]:
    """ns per update of each recovery's own update (no tester), batches of ``batch``, for each k."""
    rows = []
    for k in ks:
        b = random_batch(n, batch, 1, seed=k)
        for name, dec in decoders(n, k, M).items():
            dec.update(b.indices, b.deltas)  # warm-up (the graph's block keys, caches)
            ns = best_time(lambda: dec.update(b.indices, b.deltas), repeats) / batch * 1e9
            rows.append({"recovery": name, "k": k, "update_ns": ns, "degree": getattr(dec, "shape", None)
                         and dec.shape.degree, "state_words": dec.rows})
    return rows


def fjw24_update_vs_k(ks=(1, 1000), n: int = 1 << 20, M: int = 1 << 20, batch: int = 256,
                      repeats: int = 5) -> list[dict]:
    """fjw24 (toy preset) end to end, ns per update, for each recovery and k."""
    rows = []
    for k in ks:
        b = random_batch(n, batch, 1, seed=k)
        for recovery in ("expander", "vandermonde"):
            alg, _ = make_algorithm(f"fjw24(preset='toy', recovery='{recovery}')",
                                    f"sparse-recovery(n={n}, k={k}, M={M})")
            alg.update(b.indices, b.deltas)
            ns = best_time(lambda: alg.update(b.indices, b.deltas), repeats) / batch * 1e9
            rows.append({"recovery": recovery, "k": k, "update_ns": ns})
    return rows


def report_ms(n: int = 1 << 20, k: int = 100, M: int = 1 << 20, repeats: int = 5, seed: int = 0) -> list[dict]:
    """Decode time of each recovery on one random k-sparse vector (values up to M), and whether it was exact."""
    rng = np.random.default_rng(seed)
    support = rng.choice(n, size=k, replace=False)
    values = rng.integers(1, M + 1, size=k) * rng.choice([-1, 1], size=k)
    rows = []
    for name, dec in decoders(n, k, M).items():
        dec.update(support, values)
        got = dec.decode()
        exact = got is not None and np.array_equal(got.indices, np.sort(support)) \
            and np.array_equal(got.values, values[np.argsort(support)])
        rows.append({"recovery": name, "report_ms": best_time(dec.decode, repeats) * 1e3, "exact": exact,
                     "state_words": dec.rows})
    return rows
