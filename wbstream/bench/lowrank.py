"""Performance of the low-rank sketches, for ``wbstream bench lowrank`` and ``benchmarks/bench_lowrank.py``.

Each function measures both sides of its comparison in the same run.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.stream import Batch, RowBatch
from wbstream.arena.textfit import fit_print

from .common import best_time, make_algorithm

#: (rows, cols) of the robust-rank measurements, and the ranks k.
RANK_SIZES = ((16, 16), (32, 32), (64, 64))
RANK_KS = (1, 2, 4, 8)
ROW_SKETCHES = ("frequent-directions", "gaussian-projection", "countsketch-projection")


def planted(rows: int, cols: int, rank: int, M: int, seed: int = 0) -> np.ndarray:
    """An integer matrix of rank ``rank`` with entries in [-M, M]."""
    rng = np.random.default_rng(seed)
    a = max(1, math.isqrt(max(1, M // max(rank, 1))))
    return np.clip(rng.integers(-a, a + 1, (rows, rank)) @ rng.integers(-a, a + 1, (rank, cols)), -M, M)


def robust_rank_costs(rows: int, cols: int, k: int, M: int = 1 << 20, batch: int = 256,
                      repeats: int = 3) -> dict:
    """robust-rank (toy tester): ns per entry update (total and Gabidulin part), report ms, and space."""
    alg, _ = make_algorithm("robust-rank(preset='toy')", f"rank-recovery(rows={rows}, cols={cols}, k={k}, M={M})")
    rng = np.random.default_rng(k)
    b = Batch(rng.choice(rows * cols, size=min(batch, rows * cols), replace=False).astype(np.int64),
              rng.integers(-1, 2, size=min(batch, rows * cols)).astype(np.int64))
    total = best_time(lambda: alg.update(b.indices, b.deltas), repeats)
    sketch = best_time(lambda: alg.decoder.update(b.indices, b.deltas), repeats)
    X = planted(rows, cols, k, M // 2)
    fresh, _ = make_algorithm("robust-rank(preset='toy')", f"rank-recovery(rows={rows}, cols={cols}, k={k}, M={M})")
    idx = np.flatnonzero(X)
    fresh.update(idx, X.ravel()[idx])
    answer = fresh.query()
    assert isinstance(answer, np.ndarray) and np.array_equal(answer, X), "robust-rank missed a rank-k matrix"
    report = best_time(fresh.query, repeats)
    space = fresh.space()
    log2p = math.log2(fresh.decoder.p)
    return {"rows": rows, "cols": cols, "k": k, "p": fresh.decoder.p,
            "update_ns": total / len(b) * 1e9, "sketch_ns": sketch / len(b) * 1e9, "report_ms": report * 1e3,
            "sketch_bits": fresh.decoder.state_bits(), "tester_bits": fresh.tester.state_bits,
            "key_bits": space.key_bits, "mrd_bits": 2 * k * (rows + cols) * log2p,
            "exact_bits": rows * cols * math.ceil(math.log2(2 * M + 1))}


def robust_rank_table(sizes=RANK_SIZES, ks=RANK_KS, repeats: int = 3) -> list[dict]:
    """:func:`robust_rank_costs` for every size and every k < min(rows, cols)."""
    return [robust_rank_costs(r, c, k, repeats=repeats) for r, c in sizes for k in ks if k < min(r, c)]


def row_sketch_vs_svd(spec: str, n_rows: int = 4096, cols: int = 64, k: int = 8, batch: int = 256,
                      repeats: int = 3) -> dict:
    """Seconds per row of a row sketch (fed in batches) vs numpy's SVD of the whole n_rows x cols matrix."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n_rows, k)) @ rng.standard_normal((k, cols)) + 0.1 * rng.standard_normal((n_rows, cols))
    problem = f"low-rank-approx(cols={cols}, k={k}, ell={2 * k}, eps=0.5, M=1000000)"
    parts = [RowBatch(A[i:i + batch]) for i in range(0, n_rows, batch)]

    def feed():
        alg, _ = make_algorithm(spec, problem)
        for b in parts:
            alg.update(b.indices, b.deltas)
        alg.query()

    sketch = svd = float("inf")
    for _ in range(repeats):  # alternate, keeping the best of each, so both see the same machine load
        sketch = min(sketch, best_time(feed, 1))
        svd = min(svd, best_time(lambda: np.linalg.svd(A, full_matrices=False), 1))
    return {"algorithm": spec, "n_rows": n_rows, "cols": cols, "k": k, "sketch_us_per_row": sketch / n_rows * 1e6,
            "svd_us_per_row": svd / n_rows * 1e6, "ratio": sketch / svd}


def print_lowrank(out, repeats: int = 3) -> None:
    """The three side-by-side tables of ``wbstream bench lowrank`` on a rich console."""
    from rich.table import Table

    rows = robust_rank_table(repeats=repeats)
    t = Table(title="robust-rank (toy tester, M = 2^20): update per entry in batches of 256, report on a "
                    "rank-k matrix", title_justify="left")
    for col in ("rows x cols", "k", "update ns/entry", "Gabidulin part", "tester part", "report ms"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(f"{r['rows']} x {r['cols']}", str(r["k"]), f"{r['update_ns']:,.0f}", f"{r['sketch_ns']:,.0f}",
                  f"{r['update_ns'] - r['sketch_ns']:,.0f}", f"{r['report_ms']:.1f}")
    fit_print(out, t)
    t = Table(title="robust-rank space in bits: syndromes 2k max(rows, cols) log2 p beside 2k(rows + cols) log2 p "
                    "and X stored exactly (rows cols ceil(log2(2M + 1))); then the tester's hash and key",
              title_justify="left")
    for col in ("size", "k", "log2 p", "syndromes", "2k(r+c)log p", "X exactly", "synd / X", "hash", "key"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(f"{r['rows']}x{r['cols']}", str(r["k"]), f"{math.log2(r['p']):.1f}", f"{r['sketch_bits']:,}",
                  f"{r['mrd_bits']:,.0f}", f"{r['exact_bits']:,}", f"{r['sketch_bits'] / r['exact_bits']:.3f}",
                  f"{r['tester_bits']:,}", f"{r['key_bits']:,}")
    fit_print(out, t)
    t = Table(title="Row sketches vs numpy SVD of the whole matrix (4096 x 64, rank 8 + noise, k = 8, "
                    "batches of 256 rows, eps = 0.5, ell = 16)", title_justify="left")
    for col in ("algorithm", "sketch us/row", "SVD us/row", "sketch / SVD"):
        t.add_column(col, justify="right")
    for spec in ROW_SKETCHES:
        r = row_sketch_vs_svd(spec, repeats=repeats)
        t.add_row(spec, f"{r['sketch_us_per_row']:.2f}", f"{r['svd_us_per_row']:.2f}", f"{r['ratio']:.2f}")
    fit_print(out, t)
