"""RMS relative error of the F0 sketches on oblivious streams: 20 seeds of 50,000 distinct items.

    python docs/distinct-accuracy.py
"""

import numpy as np

from wbstream.bench.common import make_algorithm

PROBLEM = "distinct-elements(n=1000000, M=1024, eps=0.2, insertion_only=True)"

CASES = (("hll(p=10)", 1.04 / np.sqrt(1024)), ("ds-hll(lg_k=10)", 1.04 / np.sqrt(1024)),
         ("kmv(k=256)", 1 / np.sqrt(256)), ("ds-theta(lg_k=8)", 1 / np.sqrt(256)),
         ("ds-cpc(lg_k=10)", np.sqrt(np.log(2) / 2) / np.sqrt(1024)))  # CPC HIP: sqrt(ln 2 / 2) / sqrt(k)
for spec, theory in CASES:
    errors = []
    for seed in range(20):
        alg, _ = make_algorithm(spec, PROBLEM, seed=seed)
        items = np.random.default_rng(seed).choice(1_000_000, size=50_000, replace=False).astype(np.int64)
        alg.update(items, np.ones(len(items), dtype=np.int64))
        errors.append(alg.query() / 50_000 - 1)
    rms = float(np.sqrt(np.mean(np.square(errors))))
    print(f"{spec}: RMS relative error {rms:.4f} against theory {theory:.4f} (ratio {rms / theory:.2f})")
