"""The lattice attack's root-Hermite factor, achieved against the model's, on the toy presets.

    python docs/lattice-delta.py

Each line is one white-box game (seeds 0, 1, 2; no run secret)
and the ``adversary_notes`` it records.
"""

from wbstream.engine.game import Game

SPARSE = "sparse-recovery(n=1024, k=2, M=1048576)"
RANK = "rank-recovery(rows=8, cols=8, k=1, M=1048576)"
CASES = ((SPARSE, "fjw24(preset='toy')", "lattice"), (SPARSE, "fw23(preset='toy')", "lattice"),
         (RANK, "robust-rank(preset='toy')", "lattice"), (SPARSE, "fjw24(preset='toy')", "lattice(block_size=0)"),
         (SPARSE, "fjw24(preset='toy')", "lattice(columns=120)"), (SPARSE, "fw23(preset='toy')", "lattice(columns=120)"),
         (SPARSE, "fjw24(preset='toy')", "lattice(columns=120, block_size=0)"))

if __name__ == "__main__":  # the attack reduces in a forked child
    for problem, algorithm, adversary in CASES:
        for seed in range(3):
            r = Game(problem, algorithm, adversary, "white-box", seed=seed).play()
            print(f"{algorithm:26} {adversary:36} seed {seed}  failed={r.failed!s:5}  {r.adversary_notes}", flush=True)
