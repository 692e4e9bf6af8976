"""The scaling sweep of the standard suite: update time against k, space against n.

The verdicts say who survives; the sweep says at what cost. For each :class:`Sweep`,
every registered algorithm that answers the sweep's problem family plays a dense
oblivious stream on its own arena problem (or, for a general algorithm such as
``exact``, on the sweep's base problem) with one option set to each value of the
sweep. The batches have a fixed size, so the time per update is the sketch's own cost
and not a fixed cost per batch spread over more or fewer updates; a query comes only
at the end, since the answers are not what is measured.

The games are stored like any other, under matchup ids ``sweep-<option>-<digest>``:
the leaderboard, the flags and the separation matrix leave them out, and the report
draws from them one figure per family and option (see :mod:`wbstream.arena.plots`).

>>> ms = sweep_matchups()
>>> all(m.threat == "oblivious" and m.id.startswith(f"sweep-{m.sweep}-") for m in ms)
True
>>> sorted(parse_spec(m.problem).options["k"] for m in ms if m.algorithm == "countsketch" and m.sweep == "k")
[2, 4, 8, 16, 32]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wbstream.engine.registry import Spec, algorithms, parse_spec, problems

from .matchups import Matchup, _playable

#: Rounds of a sweep game, each a batch of the dense adversary's default size (256 updates).
SWEEP_ROUNDS = 10


@dataclass(frozen=True)
class Sweep:
    """One option of one problem family, swept over ``values`` with the options in ``fixed`` held."""

    family: str
    option: str
    values: tuple
    #: The problem for algorithms whose own arena problem is of another family (``exact``).
    base: str
    fixed: dict = field(default_factory=dict)
    adversary: str = f"dense(rounds={SWEEP_ROUNDS})"


#: The standard suite's sweeps: small and oblivious, so they add seconds, not minutes, to ``make demo``.
SWEEPS = (
    Sweep("sparse-recovery", "k", (2, 4, 8, 16, 32), "sparse-recovery(n=4096, k=4, M=1024)", {"n": 4096}),
    Sweep("sparse-recovery", "n", (256, 1024, 4096, 16384, 65536), "sparse-recovery(n=4096, k=4, M=1024)",
          {"k": 4}),
    Sweep("distinct-elements", "n", (1024, 4096, 16384, 65536),
          "distinct-elements(n=4096, M=1024, insertion_only=True)"),
)


def _answers(alg_cls, family: str) -> bool:
    try:
        return issubclass(problems.get(family), alg_cls.problem)
    except (TypeError, AttributeError):
        return False


def sweep_matchups(sweeps=SWEEPS) -> list[Matchup]:
    """The playable matchups of ``sweeps``, over every registered algorithm that answers their family."""
    out = []
    for s in sweeps:
        for a in algorithms.names():
            alg_cls = algorithms.get(a)
            unavailable = getattr(alg_cls, "unavailable", None)
            if not _answers(alg_cls, s.family) or (callable(unavailable) and unavailable()):
                continue
            own = parse_spec(alg_cls.arena_problem)
            base = own if own.name == s.family else parse_spec(s.base)
            for value in s.values:
                problem = str(Spec(base.name, {**base.options, **s.fixed, s.option: value}))
                m = Matchup(problem, a, s.adversary, "oblivious", query_every=SWEEP_ROUNDS, sweep=s.option)
                if _playable(m):
                    out.append(m)
    return out
