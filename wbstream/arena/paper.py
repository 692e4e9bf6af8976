"""The ``paper`` suite's preset sweep: the lattice attack against every tester preset.

For each preset of ``FW23_PRESETS`` (fw23) and ``FJW24_PRESETS`` (fjw24, and
robust-rank, whose GSW tester takes the same presets), the sweep plays the
``lattice`` adversary (progressive BKZ up to block size 20) under the white-box
threat model, on the problems where the attack breaks the ``toy`` presets
(sparse recovery at n = 1024, M = 2^20; 8x8 rank recovery at M = 2^20). The
presets come from the dicts, so a preset added there joins the sweep unchanged.
fjw24 plays with ``recovery='vandermonde'``: the attack is aimed at the tester, and
the expander recovery (fjw24's default) has more rows than the attack reduces,
so against it the attack would stop before testing the preset at all.

Each security-claiming preset also gets the cheap rung of its ladder
(:func:`ladder_matchups`, :mod:`wbstream.arena.ladder`): the preset with its
lattice dimension shrunk until the lattice has at most :data:`LADDER_ROWS` rows,
played for real; the presets skipped at full size point there.

A preset is skipped, and listed with its reason by :func:`preset_skips`, when its
key at the problem's n (``key_bits(n)``) would not fit in a quarter of this
machine's memory (a pool worker holds one key per game), or is larger than
:data:`KEY_BUDGET_BITS`: each game derives its key afresh, at about 150 MiB/s on
one core here, so a larger key makes ten trials a matter of minutes per matchup.

>>> ms, skips = preset_sweep()
>>> {m.algorithm for m in ms} >= {"fw23(preset='toy')", "fjw24(preset='toy', recovery='vandermonde')",
...                               "robust-rank(preset='toy')"}
True
>>> all(m.adversary.startswith("lattice") and m.threat == "white-box" for m in ms)
True
>>> sorted({s.algorithm for s in skips} & {m.algorithm for m in ms})
[]
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from wbstream.crypto.params import FJW24_PRESETS, FW23_PRESETS

#: The largest key (bits) a game of the sweep derives: 1 GiB, about 7 s per game at 150 MiB/s.
KEY_BUDGET_BITS = 8 << 30
SPARSE_PROBLEM = "sparse-recovery(n=1024, k=2, M=1048576)"
RANK_PROBLEM = "rank-recovery(rows=8, cols=8, k=1, M=1048576)"
ADVERSARY = "lattice"
#: The most lattice rows of a ladder rung the suite plays (a few seconds a game; ``wbstream ladder`` climbs further).
LADDER_ROWS = 100
LADDER_POINTER = ("the same tester is attacked scaled down (n_lwe shrunk, q, base, sigma and M kept) by the "
                  "ladder in this suite and by `wbstream ladder`; the full size is extrapolated by the model")
#: Extra options per algorithm: fjw24's tester is attacked beside the 2k-row Vandermonde recovery.
RECOVERY = {"fjw24": ", recovery='vandermonde'"}


@dataclass(frozen=True)
class Skip:
    """A preset the sweep does not play, and why."""

    algorithm: str
    problem: str
    reason: str

    def __str__(self) -> str:
        return f"{self.algorithm} on {self.problem}: {self.reason}"


def physical_memory_bytes() -> int | None:
    """This machine's physical memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(bits: int) -> str:
    return f"{bits / 8 / 2**30:.2f} GiB"


def key_skip_reason(key_bits: int, n: int, memory_bytes: int | None = None) -> str | None:
    """Why a key of ``key_bits`` at universe size n is not played (None: it is).

    >>> key_skip_reason(1 << 20, 1024, 1 << 34) is None
    True
    >>> key_skip_reason(KEY_BUDGET_BITS + 1, 1024, 1 << 40)
    'key of 1.00 GiB at n = 1024 exceeds the sweep budget of 1.00 GiB per game (derived afresh in each game)'
    >>> key_skip_reason(1 << 36, 1024, 1 << 34)
    'key of 8.00 GiB at n = 1024 would not fit in memory (a quarter of 16.00 GiB per game)'
    """
    memory = physical_memory_bytes() if memory_bytes is None else memory_bytes
    if memory is not None and key_bits / 8 > memory / 4:
        return (f"key of {_gib(key_bits)} at n = {n} would not fit in memory "
                f"(a quarter of {_gib(memory * 8)} per game)")
    if key_bits > KEY_BUDGET_BITS:
        return (f"key of {_gib(key_bits)} at n = {n} exceeds the sweep budget of {_gib(KEY_BUDGET_BITS)} "
                f"per game (derived afresh in each game)")
    return None


def _problem_n(problem: str) -> int:
    from wbstream.engine.registry import problems
    cls, opts = problems.resolve(problem)
    return cls(**opts).params.n


def preset_sweep() -> tuple[list, list[Skip]]:
    """The sweep's matchups (lattice against every playable preset) and the presets it skips."""
    from wbstream.arena.matchups import Matchup

    cases = [("fw23", SPARSE_PROBLEM, name, None) for name in FW23_PRESETS]
    cases += [(alg, problem, name, pre) for alg, problem in (("fjw24", SPARSE_PROBLEM), ("robust-rank", RANK_PROBLEM))
              for name, pre in FJW24_PRESETS.items()]
    matchups, skips = [], []
    for alg, problem, name, pre in cases:
        spec = f"{alg}(preset='{name}'{RECOVERY.get(alg, '')})"
        reason = key_skip_reason(pre.key_bits(_problem_n(problem)), _problem_n(problem)) if pre is not None else None
        if reason is not None:
            skips.append(Skip(spec, problem, f"{reason}; {LADDER_POINTER}"))
        else:
            matchups.append(Matchup(problem, spec, ADVERSARY, "white-box"))
    return matchups + ladder_matchups(), skips


def ladder_matchups() -> list:
    """The cheap rung of each security-claiming preset's ladder (:mod:`wbstream.arena.ladder`): the largest
    whose lattice has at most :data:`LADDER_ROWS` rows, against the ladder's own ``lattice``; a rung whose
    lattice another preset's rung already gives (the same algorithm, q, M and size) is played once.

    >>> sorted(m.algorithm for m in ladder_matchups())  # doctest: +NORMALIZE_WHITESPACE
    ["fjw24(preset='sec128-wide', n_lwe=10, recovery='vandermonde')",
     "fjw24(preset='sec64', n_lwe=4, recovery='vandermonde')", "fw23(preset='sec64', rows=20)"]
    """
    from wbstream.arena.ladder import Ladder, ladders
    from wbstream.arena.matchups import Matchup

    out, seen = [], set()
    for alg, name in ladders():
        lad = Ladder(alg, name, max_dimension=LADDER_ROWS)
        rungs = lad.rungs()
        # the attack sees q, the base, M and the size, not sigma: sec128's rungs are sec64's (fw23: all three)
        if rungs and (alg, lad.problem, lad.log2_q, rungs[-1].size) not in seen:
            seen.add((alg, lad.problem, lad.log2_q, rungs[-1].size))
            out.append(Matchup(lad.problem, rungs[-1].spec, lad.adversary_spec, "white-box"))
    return out


def preset_skips() -> list[Skip]:
    """The presets the ``paper`` suite skips, each with its reason."""
    return preset_sweep()[1]
