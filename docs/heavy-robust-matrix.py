"""The measured matrix of docs/adaptive.md for bucket-countsketch and switching-f0:
python docs/heavy-robust-matrix.py [seeds] [cohen rounds]

Every game uses the fixed secret below, so the table reproduces exactly. ``cohen-2022`` plays
``cohen rounds`` rounds (default 6,000); bucket-countsketch's guarantee covers its first
``queries`` (10) of them, the rest run with ``exhausted = 1``.
"""
import sys
import time

import wbstream.builtin  # noqa: F401
from wbstream.engine.game import Budget, Game

SECRET = bytes.fromhex("5eed" * 16)
SEEDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
COHEN = int(sys.argv[2]) if len(sys.argv) > 2 else 6000
HH = "l2-heavy-hitters(n=16384, M=1048576, eps=0.5)"
F0 = "distinct-elements(n=65536, M=1024, alpha=2, insertion_only=True)"
rows = [
    (HH, "countsketch-l2", "dense", "oblivious", 10000),
    (HH, "countsketch-l2", "cohen-2022", "adaptive", COHEN),
    (HH, "bucket-countsketch", "dense", "oblivious", 10000),
    (HH, "bucket-countsketch", "random-sparse", "oblivious", 10000),
    (HH, "bucket-countsketch", "cohen-2022", "adaptive", COHEN),
    (HH, "bucket-countsketch", "alignment-injection", "white-box", 10000),
    (F0, "switching-f0", "dense", "oblivious", 10000),
    (F0, "switching-f0", "random-sparse", "oblivious", 10000),
    (F0, "switching-f0", "hash-search", "white-box", 10000),
]
print("| problem | algorithm | adversary | threat | rounds | failed | first failing round | seconds |")
print("|---|---|---|---|---|---|---|---|")
for p, a, d, t, rounds in rows:
    t0 = time.time()
    res = [Game(p, a, d, t, seed=s, secret=SECRET, budget=Budget(rounds=rounds)).play() for s in range(SEEDS)]
    print(f"| {p} | {a} | {d} | {t} | {max(r.rounds for r in res)} | {sum(r.failed for r in res)}/{SEEDS} | "
          f"{', '.join(str(r.first_failure_round) for r in res)} | {time.time() - t0:.0f} |", flush=True)
