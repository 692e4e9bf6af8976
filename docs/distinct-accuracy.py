"""RMS relative error of hll (p=10) and kmv (k=256) on oblivious streams: 20 seeds of 50,000 distinct items.

    python docs/distinct-accuracy.py
"""

import numpy as np

from wbstream.perf import make_algorithm

PROBLEM = "distinct-elements(n=1000000, M=1024, eps=0.2, insertion_only=True)"

for spec, theory in (("hll(p=10)", 1.04 / np.sqrt(1024)), ("kmv(k=256)", 1 / np.sqrt(256))):
    errors = []
    for seed in range(20):
        alg, _ = make_algorithm(spec, PROBLEM, seed=seed)
        items = np.random.default_rng(seed).choice(1_000_000, size=50_000, replace=False).astype(np.int64)
        alg.update(items, np.ones(len(items), dtype=np.int64))
        errors.append(alg.query() / 50_000 - 1)
    rms = float(np.sqrt(np.mean(np.square(errors))))
    print(f"{spec}: RMS relative error {rms:.4f} against theory {theory:.4f} (ratio {rms / theory:.2f})")
