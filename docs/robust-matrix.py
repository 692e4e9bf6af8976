"""The measured separation matrix of docs/adaptive.md (sketch switching, DP aggregation):
python docs/robust-matrix.py [seeds]

Every game uses the fixed secret below, so the table reproduces exactly.
"""
import sys
import time

import wbstream.builtin  # noqa: F401
from wbstream.engine.game import Budget, Game

SECRET = bytes.fromhex("5eed" * 16)
SEEDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
SEP, WB, WB_DP = "f2(n=32, M=1024, alpha=8)", "f2(n=4096, M=16, alpha=4)", "f2(n=16384, M=16, alpha=8)"
ROUNDS = 10000
rows = [
    (SEP, "ams(means=8, medians=3)", "hardt-woodruff-2013", "adaptive"),
    (SEP, "ams(means=8, medians=3)", f"gaussian-queries(queries={ROUNDS // 2})", "oblivious"),
    (SEP, f"switching-f2(copies={ROUNDS // 2 + 1}, means=8, medians=3)", "hardt-woodruff-2013", "adaptive"),
    (SEP, f"switching-f2(copies={ROUNDS // 2 + 1}, means=8, medians=3)", f"gaussian-queries(queries={ROUNDS // 2})",
     "oblivious"),
    (WB, "switching-f2(copies=8, means=8, medians=3)", "dense(rounds=8)", "oblivious"),
    (WB, "switching-f2(copies=8, means=8, medians=3)", "copy-cancellation", "white-box"),
    (WB_DP, "dp-f2(copies=405, means=4, medians=1, flips=1, allow_outside_guarantee=True)", "dense(rounds=8)", "oblivious"),
    (WB_DP, "dp-f2(copies=405, means=4, medians=1, flips=1, allow_outside_guarantee=True)", "copy-cancellation", "white-box"),
]
print("| problem | algorithm | adversary | threat | failed | first failing round | seconds |")
print("|---|---|---|---|---|---|---|")
for p, a, d, t in rows:
    t0 = time.time()
    res = [Game(p, a, d, t, seed=s, secret=SECRET, budget=Budget(rounds=ROUNDS)).play() for s in range(SEEDS)]
    print(f"| {p} | {a} | {d} | {t} | {sum(r.failed for r in res)}/{SEEDS} | "
          f"{', '.join(str(r.first_failure_round) for r in res)} | {time.time() - t0:.0f} |", flush=True)
