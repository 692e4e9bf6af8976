"""Every distinct-elements and heavy-hitters algorithm: a refused batch leaves it exactly as it was.

Each game sends one valid batch, then a bad one. The referee refuses the bad one with a
StreamError naming the rule; the algorithm's state must equal that of a fresh instance,
with the same coins, fed only the valid batch.
"""

from __future__ import annotations

import numpy as np
import pytest

from wbstream.engine.adversary import Adversary
from wbstream.engine.coins import Coins
from wbstream.engine.errors import StreamError
from wbstream.engine.game import Game
from wbstream.engine.registry import algorithms, problems

F0 = "distinct-elements(n=5000, M=1000, eps=0.2, insertion_only=True)"
L0 = "distinct-elements(n=1024, M=1000, alpha=32)"
HH = "heavy-hitters(n=5000, M=1000, eps=0.1)"
CASES = [(F0, a) for a in ("kmv(k=64)", "hll(p=8)", "ds-hll(lg_k=8)", "ds-cpc(lg_k=8)", "ds-theta(lg_k=6)", "redis-hll")] + \
        [(L0, "robust-l0(preset='toy')")] + \
        [(HH, a) for a in ("misra-gries", "count-min", "countsketch-hh", "robust-sampler", "ds-count-min")]
GOOD = (np.arange(0, 400, 2, dtype=np.int64), np.full(200, 3, dtype=np.int64))
BAD = {  # what the second batch breaks, and the referee's words for it
    "index out of range": (([7, 5000], [1, 1]), "outside the universe"),
    "negative delta": (([7, 9], [2, -1]), "not positive"),
    "non-integer delta": (([7, 9], [1.5, 1]), "not an integer"),
    "promise": (([11, 11], [600, 600]), "promise"),
}
LIVE: list = []


class GoodThenBad(Adversary):
    name = "good-then-bad"

    def __init__(self, *, bad: str = "promise"):
        self.bad = bad

    def act(self, obs):
        if obs.round == 1:
            return GOOD
        return BAD[self.bad][0]


def same_state(a, b) -> bool:
    sa, sb = a.state(), b.state()
    return sa.keys() == sb.keys() and all(np.array_equal(np.asarray(sa[k]), np.asarray(sb[k])) for k in sa)


def capturing(cls):
    """A subclass that records every instance the game builds, so the test can inspect it."""

    class Live(cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            LIVE.append(self)

    return Live


# turnstile L0 allows negative deltas, so that rule is not tested there
PARAMS = [(p, a, bad) for p, a in CASES for bad in sorted(BAD) if not (p == L0 and bad == "negative delta")]


@pytest.mark.parametrize("problem, spec, bad", PARAMS, ids=[f"{a}-{bad}" for _, a, bad in PARAMS])
def test_a_refused_batch_leaves_the_algorithm_as_it_was(problem, spec, bad):
    cls, options = algorithms.resolve(spec)
    LIVE.clear()
    game = Game(problem, capturing(cls), GoodThenBad, "oblivious", algorithm_options=options,
                adversary_options={"bad": bad}, seed=3)
    with pytest.raises(StreamError, match=BAD[bad][1]):
        game.play()
    played = LIVE[-1]
    pcls, popts = problems.resolve(problem)
    reference = cls(pcls(**popts).params, Coins.for_game(game.key_for(3)), **options)
    reference.update(*GOOD)
    reference.query()  # the game queried after round 1 (Redis's PFCOUNT caches the count in its string)
    assert same_state(played, reference)
    assert np.array_equal(np.asarray(played.query()), np.asarray(reference.query()))
