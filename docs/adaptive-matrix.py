"""The measured rows of docs/adaptive.md: python docs/adaptive-matrix.py"""
from wbstream.engine.game import Game
import wbstream.builtin
rows = [("l2-heavy-hitters(n=1024, M=1048576, eps=0.5)", "countsketch-l2", "cohen-2022", "adaptive"),
        ("l2-heavy-hitters(n=1024, M=1048576, eps=0.5)", "countsketch-l2", "dense(rounds=10000)", "oblivious")]
for p, a, d, t in rows:
    res = [Game(p, a, d, t, seed=s, budget=__import__("wbstream.engine.game", fromlist=["Budget"]).Budget(rounds=10000)).play() for s in range(3)]
    print(f"| {a} | {d} | {t} | {sum(r.failed for r in res)}/3 | {', '.join(str(r.first_failure_round) for r in res)} |")
