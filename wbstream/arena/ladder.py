"""The scaled-down ladder: real games against the security-claiming presets, shrunk until they fall.

A preset that claims security cannot be attacked at its real size here: fjw24
``sec64`` has N = 2301 tester rows of 128 bits, a lattice of thousands of rows.
The ladder keeps everything of the preset that the collision attack sees (the
modulus q, the gadget base, sigma, the M of its claimed range, the problem's k
and the 2k Vandermonde rows mod p) and shrinks only the dimension that makes the
lattice big: fjw24's ``n_lwe`` (so N = n_lwe + 1 tester rows), fw23's SIS
``rows`` (from the k log2 n its reduction needs). Each rung plays real white-box
games (the real algorithm with that override, the real ``lattice`` adversary,
several seeds) until a rung's lattice, sized as the attack sizes it, exceeds the
work budget (``max_dimension`` rows).

Beside each rung it prints the model (:mod:`wbstream.crypto.params`): the
|z|_inf that BKZ at the attack's block size is predicted to reach in the
sub-dimension the attack picks (the rung "falls" by the model when that is at
most M, the largest z an attack can stream), and the core-SVP collision estimate
at any dimension (block size beta; bound 2M, as the presets are estimated).
Then it extrapolates the model to the preset's real size: the full instance is
estimated, not attacked.

>>> ladder = Ladder("fjw24", "sec64", max_dimension=120)
>>> [r.size for r in ladder.rungs()], ladder.problem
([1, 2, 3, 4, 5], 'sparse-recovery(n=1024, k=2, M=1024)')
>>> r = ladder.rungs()[0]
>>> r.spec, r.tester_rows, r.lattice_rows, r.model_falls
("fjw24(preset='sec64', n_lwe=1, recovery='vandermonde')", 2, 47, True)
>>> ladder.full().tester_rows, ladder.full().bits
(2301, inf)
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

from wbstream.adversaries.lattice import LatticeCollision, progressive_blocks
from wbstream.crypto.params import (CORE_SVP_EXPONENT, FJW24_PRESETS, FW23_PRESETS, collision_security_bits,
                                    delta_of_beta, LLL_DELTA, gsw_bits)
from wbstream.adversaries.lattice import predicted_log2_linf
from wbstream.engine.errors import SpecError

#: The problem's universe and sparsity (the ``paper`` suite's); M is the preset's claimed M_max (fjw24) or 2^20 (fw23).
N_UNIVERSE, K = 1024, 2
FW23_M = 1 << 20
P_BITS = math.log2((1 << 31) - 1)
#: fw23 rungs step by this many SIS rows (fjw24's by one LWE dimension).
FW23_STEP = 4
NOTE = re.compile(r"root-Hermite factor (\d\.\d+) achieved")


@dataclass(frozen=True)
class Rung:
    """One scaled-down instance: its spec, its lattice as the attack sizes it, and the model's verdict."""

    size: int
    spec: str
    tester_rows: int
    lattice_rows: int
    #: log2 of the |z|_inf the model predicts the attack reaches in the dimension it picks.
    model_log2_linf: float
    model_falls: bool
    #: Core-SVP collision estimate at any dimension (bound 2M): bits, and the block size it stands for.
    bits: float
    beta: float | None
    seeds: int = 0
    broken: int = 0
    errors: int = 0
    deltas: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seconds: float = 0.0


def _beta(bits: float) -> float | None:
    """The block size a core-SVP figure stands for (None: LLL suffices)."""
    return None if bits == 0 else (math.inf if bits == math.inf else round(bits / CORE_SVP_EXPONENT))


class Ladder:
    """The rungs of one preset's ladder and the games that climb it (see the module docstring)."""

    def __init__(self, algorithm: str, preset: str, *, block_size: int = 20, tours: int = 2,
                 max_dimension: int = 200, seconds: float = 900.0, columns: int = 0):
        if algorithm not in ("fjw24", "fw23"):
            raise SpecError(f"ladder: algorithm must be fjw24 or fw23, got {algorithm!r}")
        presets = FJW24_PRESETS if algorithm == "fjw24" else FW23_PRESETS
        claiming = [name for name, p in presets.items() if not p.breakable]
        if preset not in claiming:
            raise SpecError(f"ladder: {algorithm} preset must be one that claims security "
                            f"({', '.join(claiming)}), got {preset!r}")
        self.algorithm, self.preset, self.chosen = algorithm, preset, presets[preset]
        self.adversary = LatticeCollision(columns=columns, block_size=block_size, tours=tours,
                                          max_dimension=max_dimension, seconds=seconds)
        self.M = self.chosen.M_max if algorithm == "fjw24" else FW23_M
        self.log2_q = self.chosen.log_q if algorithm == "fjw24" else self.chosen.log2_q
        self.problem = f"sparse-recovery(n={N_UNIVERSE}, k={K}, M={self.M})"
        self.adversary_spec = (f"lattice({f'columns={columns}, ' if columns else ''}block_size={block_size}, "
                               f"tours={tours}, max_dimension={max_dimension}, seconds={seconds:g})")

    @property
    def floor(self) -> int:
        """The first rung: n_lwe = 1, or the k log2 n SIS rows FW'23's reduction needs."""
        return 1 if self.algorithm == "fjw24" else K * math.ceil(math.log2(N_UNIVERSE))

    def real_size(self) -> int:
        """The preset's own n_lwe, or fw23's rows at the problem's (n, k, M)."""
        if self.algorithm == "fjw24":
            return self.chosen.n_lwe
        return self.chosen.sis_rows(N_UNIVERSE, K, self.M)

    def rung(self, size: int) -> Rung:
        """The instance of this size, sized and judged by the model (not played)."""
        r = size + 1 if self.algorithm == "fjw24" else size
        s = 2 * K
        override = (f"n_lwe={size}, recovery='vandermonde'" if self.algorithm == "fjw24" else f"rows={size}")
        spec = f"{self.algorithm}(preset='{self.preset}', {override})"
        d = self.adversary.plan(r, s, self.log2_q, P_BITS, self.M, N_UNIVERSE - K)
        a = self.adversary
        delta = delta_of_beta(a.block_size) if a.block_size >= 2 else LLL_DELTA
        linf = predicted_log2_linf(d, r * self.log2_q + s * P_BITS, delta)
        bits = collision_security_bits(r, self.log2_q, 2 * self.M, s * P_BITS)
        return Rung(size, spec, r, d + r + s, linf, linf <= math.log2(self.M), bits, _beta(bits))

    def rungs(self) -> list[Rung]:
        """Every rung from the floor up whose lattice fits ``max_dimension`` (fjw24: step 1; fw23: step 4)."""
        out, size = [], self.floor
        step = 1 if self.algorithm == "fjw24" else FW23_STEP
        while size < self.real_size():
            rung = self.rung(size)
            if rung.lattice_rows > self.adversary.max_dimension:
                break
            out.append(rung)
            size += step
        return out

    def full(self) -> Rung:
        """The preset at its real size, by the model only."""
        return self.rung(self.real_size())

    def model_boundary(self) -> int | None:
        """The largest size at which the model says the attack (at its block size) reaches |z|_inf <= M,
        searched up to the real size whatever the budget (None: not even the floor)."""
        last, size = None, self.floor
        step = 1 if self.algorithm == "fjw24" else FW23_STEP
        while size <= self.real_size() and self.rung(size).model_falls:
            last, size = size, size + step
        return last

    def play(self, rung: Rung, seeds: int, secret: bytes | None = None) -> Rung:
        """``rung`` with ``seeds`` real white-box games played against it."""
        import time

        from wbstream.engine.game import Budget, Game
        g = Game(self.problem, rung.spec, self.adversary_spec, "white-box", budget=Budget(rounds=2), secret=secret)
        broken, errors, deltas, notes = 0, 0, [], []
        t0 = time.perf_counter()
        for seed in range(seeds):
            g.seed = seed
            try:
                res = g.play()
            except Exception as exc:  # a reduction past its safety net, or a dead child: counted, never a verdict
                errors += 1
                notes.append(f"error: {type(exc).__name__}: {exc}")
                continue
            broken += int(res.failed)
            notes.append(res.adversary_notes or "")
            m = NOTE.search(res.adversary_notes or "")
            if m:
                deltas.append(float(m.group(1)))
        return Rung(**{**asdict(rung), "seeds": seeds, "broken": broken, "errors": errors, "deltas": deltas,
                       "notes": notes, "seconds": time.perf_counter() - t0})

    def summary(self, played: list[Rung]) -> dict:
        """The ladder as rows for a table or JSON: the rungs, the boundaries and the extrapolation."""
        full = self.full()
        broken = [r.size for r in played if r.broken]
        held = [r.size for r in played if r.seeds and not r.broken and not r.errors]
        return {
            "algorithm": self.algorithm, "preset": self.preset, "problem": self.problem,
            "adversary": self.adversary_spec, "dimension": "n_lwe" if self.algorithm == "fjw24" else "SIS rows",
            "reduction": "BKZ " + "-".join(map(str, progressive_blocks(self.adversary.block_size)))
                         if self.adversary.block_size >= 2 else "LLL",
            "rungs": [asdict(r) for r in played],
            "measured_boundary": max(broken) if broken else None,
            "first_held": min((s for s in held if s > max(broken, default=0)), default=None),
            "model_boundary": self.model_boundary(),
            "broken_where_model_holds": [r.size for r in played if r.broken and not r.model_falls],
            "real_size": self.real_size(), "real_tester_rows": full.tester_rows,
            "real_lattice_rows": full.lattice_rows, "real_collision_bits": full.bits, "real_beta": full.beta,
            "real_estimate_bits": self._real_estimate(),
        }

    def _real_estimate(self) -> float:
        if self.algorithm == "fjw24":
            return gsw_bits(K, self.M, self.preset)
        return self.chosen.estimates(M=self.M, k=K, n=N_UNIVERSE)["estimate_bits"]


def ladders(preset: str = "", algorithm: str = "") -> list[tuple[str, str]]:
    """The (algorithm, preset) pairs to climb: every security-claiming fjw24 and fw23 preset, or those named.

    >>> ladders("sec64")
    [('fjw24', 'sec64'), ('fw23', 'sec64')]
    """
    pairs = [("fjw24", n) for n, p in FJW24_PRESETS.items() if not p.breakable]
    pairs += [("fw23", n) for n, p in FW23_PRESETS.items() if not p.breakable and p.target_bits]
    out = [(a, n) for a, n in pairs if (not preset or n == preset) and (not algorithm or a == algorithm)]
    if not out:
        names = sorted({n for _, n in pairs})
        raise SpecError(f"ladder: no security-claiming preset {preset!r}{f' of {algorithm}' if algorithm else ''}; "
                        f"choose one of {', '.join(names)}")
    return out
