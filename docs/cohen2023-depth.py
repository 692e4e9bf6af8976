"""Rounds until cohen-2023 (non-adaptive queries) and cohen-2022 (adaptive) break countsketch-l2,
against the depth ℓ: python docs/cohen2023-depth.py [seeds] [max rounds]

Fixed secret; l2-heavy-hitters(n=1024, M=2^20, eps=0.5), width 32. A query is two rounds (insert,
delete), a test of the accumulated vector two more.
"""
import sys
import time

import wbstream.builtin  # noqa: F401
from wbstream.engine.game import Budget, Game

SECRET = bytes.fromhex("5eed" * 16)
SEEDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 40000
PROBLEM = "l2-heavy-hitters(n=1024, M=1048576, eps=0.5)"
print("| depth ℓ | adversary | failed | first failing round (per seed) | seconds |")
print("|---|---|---|---|---|")
for depth in (4, 8, 16, 32):
    for adversary in ("cohen-2022(check_every=10)", "cohen-2023(check_every=10)"):
        t0 = time.time()
        rs = [Game(PROBLEM, f"countsketch-l2(depth={depth}, width=32)", adversary, "adaptive", seed=s,
                   secret=SECRET, budget=Budget(rounds=ROUNDS)).play() for s in range(SEEDS)]
        q = [r.first_failure_round for r in rs]
        print(f"| {depth} | {adversary} | {sum(r.failed for r in rs)}/{SEEDS} | {', '.join(map(str, q))} | "
              f"{time.time() - t0:.0f} |", flush=True)
