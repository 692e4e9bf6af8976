"""Published attack figures, reproduced in the engine and printed beside the papers' values.

``wbstream reproduce paterson-raynal`` and ``wbstream reproduce markelon`` print
these tables. Each row plays the paper's protocol as a real game (the estimate
after the preload, the estimate at the end, and how many items the attack
inserted), against our sketch and against Apache DataSketches' own.

>>> rows = paterson_raynal_rows(seeds=1, only=("S2, empty, B = 1",), algorithms=("hll",))
>>> row = rows[0]
>>> row["paper_after"], row["after"] < 2, 3_600 < row["inserted"] < 4_600
(1, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from wbstream.engine.coins import Coins
from wbstream.engine.game import Game
from wbstream.engine import keys
from wbstream.engine.keys import adversary_rng, game_key
from wbstream.engine.observation import AlgorithmInfo, Observation
from wbstream.engine.problems import HeavyHitters
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import WHITE_BOX

#: The candidate pool of both published HLL attacks: 2^20 items.
POOL = 1 << 20
#: A universe large enough for the pool plus the largest preload.
UNIVERSE = 1 << 22


def play_recorded(problem, algorithm, adversary_cls, **options):
    """Play a white-box game to its end (no stop on failure), keeping every answer.

    Returns ``(result, adversary)``; ``adversary.history`` lists the answers in round order.
    """
    recorded = []

    class Recording(adversary_cls):
        def act(self, obs):
            self.history = [a for _, a in obs.answers]
            recorded.append(self)
            return super().act(obs)

    Recording.__name__ = f"Recording{adversary_cls.__name__}"
    result = Game(problem, algorithm, Recording, "white-box", seed=options.pop("seed", 0),
                  stop_on_failure=False, adversary_options=options).play()
    adv = recorded[-1]
    if len(adv.history) != result.rounds:
        raise RuntimeError(f"recorded {len(adv.history)} answers for {result.rounds} rounds")
    return result, adv


@dataclass(frozen=True)
class PublishedRow:
    """One row of a published table and the attack options that replay it here."""

    case: str
    m: int
    options: dict
    paper_before: int | None
    paper_after: int
    paper_inserted: int
    paper_sketch: str
    #: Our implementations that play the row (a Redis row is played against real Redis too).
    sketches: tuple[str, ...] = ("hll", "ds-hll")
    #: Candidates scanned (the paper: 2^20).
    pool: int = POOL
    paper_resets: int | None = None


#: Paterson & Raynal (EuroS&P'22), Table 1 (docs/references.md#paterson-raynal-2022): 2^20 candidates, 50-run averages.
PATERSON_RAYNAL = [
    PublishedRow("S2, empty, B = 1", 256, {"variant": "S2", "buckets": 1, "preload": 0, "rounds": 1},
                 None, 1, 4_100, "clarkduvall HLL"),
    PublishedRow("S2, 1,000 preloaded", 256, {"variant": "S2", "preload": 1000, "rounds": 2},
                 1_001, 1_025, 524_851, "clarkduvall HLL"),
    PublishedRow("S4, 1,000 preloaded", 256, {"variant": "S4", "preload": 1000, "rounds": 2},
                 1_007, 1_007, 857_150, "clarkduvall HLL"),
    PublishedRow("S2, empty, 8,192 buckets", 16384, {"variant": "S2", "buckets": 8192, "preload": 0, "rounds": 1},
                 0, 13_185, 524_210, "Redis", sketches=("hll", "ds-hll", "redis-hll")),
    PublishedRow("S2, 150k preloaded", 16384, {"variant": "S2", "preload": 150_000, "rounds": 2},
                 139_967, 139_967, 524_454, "Redis", sketches=("hll", "ds-hll", "redis-hll")),
    # S1 against real Redis: p = 14 is fixed there, so B = m/2 = 8,192, and a 2^16 pool keeps the
    # shadow walks to seconds (the paper's S1 row is m = 256 with 2^20 candidates)
    PublishedRow("S1, B = m/2, on Redis", 16384, {"variant": "S1", "preload": 0, "rounds": 1},
                 None, 177, 523_791, "clarkduvall HLL (m = 256)", sketches=("redis-hll",), pool=1 << 16,
                 paper_resets=6_973),
]


def not_reproduced() -> dict[str, str]:
    """Published rows not played here, and why."""
    from wbstream.algorithms.distinct.redis_hll import RedisHll

    out = {"S1, B = m/2 (m = 256)": "a shadow device needs the target's software: clarkduvall's Go HLL is not "
                                    "embedded here (the row is played against Redis instead)"}
    why = RedisHll.unavailable()
    if why:
        out["the Redis rows against redis-hll"] = why
    return out


def _hll_spec(name: str, m: int) -> str:
    lg = m.bit_length() - 1
    return {"hll": f"hll(p={lg})", "ds-hll": f"ds-hll(lg_k={lg})", "redis-hll": "redis-hll"}[name]


def paterson_raynal_rows(seeds: int = 5, only: tuple[str, ...] = (),
                         algorithms: tuple[str, ...] = ("hll", "ds-hll", "redis-hll")) -> list[dict]:
    """Each published row beside our mean over ``seeds`` games, for each HLL implementation that plays it."""
    from wbstream.adversaries.hash_attacks import PatersonRaynal2022
    from wbstream.algorithms.distinct.redis_hll import RedisHll

    problem = f"distinct-elements(n={UNIVERSE}, M=1024, eps=0.2, insertion_only=True)"
    skip = {"redis-hll"} if RedisHll.unavailable() else set()
    rows = []
    for row in PATERSON_RAYNAL:
        if only and row.case not in only:
            continue
        for name in (a for a in algorithms if a in row.sketches and a not in skip):
            before, after, inserted, resets = [], [], [], []
            for seed in range(seeds):
                result, adv = play_recorded(problem, _hll_spec(name, row.m), PatersonRaynal2022,
                                            pool=row.pool, seed=seed, **row.options)
                before.append(adv.history[0] if row.options["preload"] else 0.0)
                after.append(adv.history[-1])
                inserted.append(adv.chosen)
                resets.append(getattr(adv, "resets", 0))
            rows.append({"case": row.case, "m": row.m, "sketch": _hll_spec(name, row.m),
                         "paper_sketch": row.paper_sketch, "paper_before": row.paper_before,
                         "paper_after": row.paper_after, "paper_inserted": row.paper_inserted,
                         "paper_resets": row.paper_resets, "pool": row.pool,
                         "before": float(np.mean(before)), "after": float(np.mean(after)),
                         "inserted": float(np.mean(inserted)), "resets": float(np.mean(resets)),
                         "seeds": seeds})
    return rows


#: Markelon, Filić, Shrimpton (CCS'23): Count-Min under the cover-set attack, 2^20 insertions.
MARKELON = [(2048, 4, 263_000, 16_900), (4096, 8, 131_072, 88_500)]


def run_markelon(width: int, depth: int, seed: int, insertions: int = 1 << 20,
                 algorithm: str = "count-min") -> dict:
    """Play the whole cover-set attack (no early stop) on ``count-min`` or ``ds-count-min``; the target's error."""
    from wbstream.adversaries.markelon import MarkelonCoverSet

    spec = (f"count-min(depth={depth}, width={width})" if algorithm == "count-min"
            else f"ds-count-min(num_hashes={depth}, num_buckets={width})")
    cls, options = algorithms.resolve(spec)
    p = HeavyHitters(n=100_000, M=1 << 20, eps=0.05)
    key = game_key(keys.new_secret(), spec, seed)  # coins from a fresh secret, as in a game
    cm = cls(p.params, Coins.for_game(key), **options)
    adv = MarkelonCoverSet(insertions=insertions)
    adv.reset(p.params, adversary_rng(key))
    obs = Observation(WHITE_BOX, p.params, AlgorithmInfo(cls.name, spec, cls), cm)
    while True:
        obs.round += 1
        batch = adv.act(obs)
        if batch is None:
            break
        p.apply(batch)
        cm.update(batch.indices, batch.deltas)
    t = adv.target
    answer = cm.query()
    return {"estimate": int(cm.estimate([t])[0]), "f_target": int(p.x[t]), "evaluations": adv.hash_evaluations,
            "cover": len(adv.cover), "reported": bool(t in answer), "verdict": p.judge(answer).kind,
            "m": int(p.x.sum())}


def markelon_rows(seeds: int = 3, algorithms_: tuple[str, ...] = ("count-min", "ds-count-min")) -> list[dict]:
    """Each published Count-Min row beside our mean over ``seeds`` attacks, for each implementation."""
    rows = []
    for (width, depth, paper_error, paper_evals), name in product(MARKELON, algorithms_):
        runs = [run_markelon(width, depth, seed, algorithm=name) for seed in range(seeds)]
        rows.append({"sketch": name, "width": width, "depth": depth, "paper_error": paper_error,
                     "paper_evaluations": paper_evals,
                     "paper_cover": depth, "error": float(np.mean([r["estimate"] - r["f_target"] for r in runs])),
                     "evaluations": float(np.mean([r["evaluations"] for r in runs])),
                     "cover": float(np.mean([r["cover"] for r in runs])), "runs": runs, "seeds": seeds})
    return rows
