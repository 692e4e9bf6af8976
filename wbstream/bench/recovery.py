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
    """fjw24 (toy preset) end to end, ns per update, for each recovery and k (and, where fjw24 builds the
    identity, a twin whose decoder is swapped for the D = 33 graph: the per-update cost of a real expander)."""
    rows = []
    for k in ks:
        b = random_batch(n, batch, 1, seed=k)
        for recovery in ("expander", "vandermonde"):
            alg, _ = make_algorithm(f"fjw24(preset='toy', recovery='{recovery}')",
                                    f"sparse-recovery(n={n}, k={k}, M={M})")
            runs = [(recovery, alg)]
            if recovery == "expander" and alg.decoder.shape.degree == 1:  # also on the D = 33 graph
                twin, _ = make_algorithm("fjw24(preset='toy')", f"sparse-recovery(n={n}, k={k}, M={M})")
                twin.decoder = decoders(n, k, M)["expander D=33"]
                runs.append(("expander D=33", twin))
            for name, a in runs:
                a.update(b.indices, b.deltas)
                ns = best_time(lambda: a.update(b.indices, b.deltas), repeats) / batch * 1e9
                rows.append({"recovery": name, "k": k, "update_ns": ns})
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


def nonsparse_report_ms(sizes=(150, 1000, 100_000), n: int = 1 << 20, k: int = 100, M: int = 1 << 20,
                        repeats: int = 3) -> list[dict]:
    """The expander's decode time on vectors far from k-sparse (it must give up), for each number of non-zeros."""
    rng = np.random.default_rng(1)
    rows = []
    for size in sizes:
        dec = ExpanderDecoder(n, k, M, P31)
        dec.update(rng.choice(n, size=size, replace=False), rng.integers(1, 5, size=size))
        rows.append({"nonzeros": size, "report_ms": best_time(dec.decode, repeats) * 1e3,
                     "answer": "None" if dec.decode() is None else "a vector"})
    return rows


def print_recovery(console, repeats: int = 5, n: int = 1 << 20, M: int = 1 << 20) -> None:
    """``wbstream bench recovery``: the three tables, each measured in this run."""
    from rich.table import Table

    from wbstream.arena.textfit import fit_print

    rows = update_vs_k(n=n, M=M, repeats=repeats)
    by = {(r["recovery"], r["k"]): r for r in rows}
    ks = sorted({r["k"] for r in rows})
    t = Table(title="Relaxed recovery's own update, ns per update (n = 2^20, M = 2^20, batches of 256; "
                    "the tester is not included)", title_justify="left")
    for col in ("k", "vandermonde", "expander", "expander graph", "expander D=33", "state words v / e"):
        t.add_column(col, justify="right")
    for k in ks:
        e = by["expander", k]
        forced = by.get(("expander D=33", k))
        graph = "identity (D = 1)" if e["degree"] == 1 else f"D = {e['degree']}"
        t.add_row(str(k), f"{by['vandermonde', k]['update_ns']:,.0f}", f"{e['update_ns']:,.0f}", graph,
                  f"{(forced or e)['update_ns']:,.0f}",
                  f"{by['vandermonde', k]['state_words']:,} / {e['state_words']:,}")
    fit_print(console, t)
    lo, hi = ks[0], ks[-1]
    forced_hi = by.get(("expander D=33", hi), by["expander", hi])
    console.print(f"k = {hi} / k = {lo}: vandermonde x{by['vandermonde', hi]['update_ns'] / by['vandermonde', lo]['update_ns']:.1f}, "
                  f"expander as built x{by['expander', hi]['update_ns'] / by['expander', lo]['update_ns']:.2f}, "
                  f"expander on the D = 33 graph x{forced_hi['update_ns'] / by['expander', lo]['update_ns']:.2f}")
    fj = {(r["recovery"], r["k"]): r["update_ns"] for r in fjw24_update_vs_k(n=n, M=M, repeats=repeats)}
    fks = sorted({k for _, k in fj})
    for rec in ("expander", "vandermonde"):
        console.print(f"fjw24(preset='toy', recovery='{rec}') end to end: "
                      + ", ".join(f"k = {k}: {fj[rec, k]:,.0f} ns" for k in fks)
                      + f" -> x{fj[rec, fks[-1]] / fj[rec, fks[0]]:.2f}")
    if ("expander D=33", fks[-1]) in fj:
        console.print(f"fjw24 with the D = 33 graph at k = {fks[-1]} (instead of the identity): "
                      f"{fj['expander D=33', fks[-1]]:,.0f} ns -> x{fj['expander D=33', fks[-1]] / fj['expander', fks[0]]:.2f}"
                      f" of k = {fks[0]}")
    k = 100
    t = Table(title=f"Report (decode) time at n = 2^20, k = {k}, M = 2^20 (target <= 50 ms)", title_justify="left")
    for col in ("recovery", "ms", "exact", "state words"):
        t.add_column(col, justify="right")
    for r in report_ms(n=n, k=k, M=M, repeats=repeats):
        t.add_row(r["recovery"], f"{r['report_ms']:.1f}", "yes" if r["exact"] else "NO", f"{r['state_words']:,}")
    fit_print(console, t)
    console.print("expander decode far from k-sparse (k = 100): " + ", ".join(
        f"{r['nonzeros']:,} non-zeros {r['report_ms']:.0f} ms ({r['answer']})" for r in nonsparse_report_ms(n=n, M=M)))
