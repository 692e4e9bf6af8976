"""The race at equal security: fw23 against fjw24 at the same (n, M) and the same estimated security.

Both algorithms are built at one preset name that ``FW23_PRESETS`` and
``FJW24_PRESETS`` share. The race's security of each is its least estimate over
the race's k values (the weakest instance it plays; ``estimates(...)`` of each
preset, core-SVP); the race refuses to run when the two differ by more than
``tolerance`` bits (default :data:`SECURITY_TOLERANCE_BITS`). Without a preset it
takes the lowest shared preset whose estimate is at least 64 bits for both.

For each k it times a batched ``update`` of each algorithm end to end (best of
``repeats``, the two alternating), and reads state and key bits from ``space()``. The crossover is the
least k at which fjw24's update is no slower than fw23's, *measured* when it falls
in the range; otherwise it is *extrapolated* from fw23 fitted as linear in k (least
squares) and fjw24 as constant (the mean of its times).

>>> crossover([1, 10, 100], [10.0, 100.0, 1000.0], [500.0, 500.0, 500.0])
(100, 'measured')
>>> k, how = crossover([1, 10, 100], [10.0, 20.0, 30.0], [500.0, 510.0, 490.0])
>>> how, round(k)
('extrapolated', 2943)
>>> crossover([1, 10], [10.0, 10.0], [500.0, 500.0])
(None, 'extrapolated: fw23 does not grow with k')
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.errors import WbstreamError

from .common import best_time, make_algorithm, random_batch

#: The largest gap (bits) between the two estimates at which the race still counts as equal security.
SECURITY_TOLERANCE_BITS = 8.0
#: The least estimate (bits) of the default preset, for both algorithms.
DEFAULT_TARGET_BITS = 64.0
RACE_KS = (1, 10, 100, 1000)
#: The race's default M: the largest the security-claiming fjw24 presets bind at for n <= 2^16.
RACE_M = 1 << 10


class RaceError(WbstreamError, ValueError):
    """The race cannot be run as asked (no such preset, unequal security, a key too large)."""

    bad_input = True


def race_estimates(preset: str, n: int, M: int, ks=RACE_KS) -> list[dict]:
    """Both estimates (bits) at each k for a preset name both dicts share."""
    from wbstream.crypto.params import FJW24_PRESETS, FW23_PRESETS

    if preset not in FW23_PRESETS or preset not in FJW24_PRESETS:
        shared = [p for p in FW23_PRESETS if p in FJW24_PRESETS]
        raise RaceError(f"the race needs a preset both fw23 and fjw24 have: one of {', '.join(shared)}, "
                        f"got {preset!r}")
    return [{"k": k, "fw23_bits": FW23_PRESETS[preset].estimates(M=M, k=k, n=n)["estimate_bits"],
             "fjw24_bits": FJW24_PRESETS[preset].estimates(M=M, k=k)["estimate_bits"]} for k in ks]


def security_floor(estimates: list[dict]) -> tuple[float, float]:
    """The least estimate over k of fw23 and of fjw24."""
    return min(e["fw23_bits"] for e in estimates), min(e["fjw24_bits"] for e in estimates)


def default_race_preset(n: int, M: int, ks=RACE_KS, target: float = DEFAULT_TARGET_BITS) -> str:
    """The shared preset of least security whose floor is at least ``target`` bits for both algorithms."""
    from wbstream.crypto.params import FJW24_PRESETS, FW23_PRESETS

    floors = {p: security_floor(race_estimates(p, n, M, ks)) for p in FW23_PRESETS if p in FJW24_PRESETS}
    fit = sorted((min(f), p) for p, f in floors.items() if min(f) >= target)
    if not fit:
        raise RaceError(f"no preset of both fw23 and fjw24 is estimated at >= {target:g} bits for both at "
                        f"n = {n}, M = {M}: " + ", ".join(f"{p} {a:.0f}/{b:.0f}" for p, (a, b) in floors.items())
                        + "; pass --preset")
    return fit[0][1]


def check_equal_security(preset: str, estimates: list[dict], tolerance: float = SECURITY_TOLERANCE_BITS) -> None:
    """Refuse (one line) when the two floors differ by more than ``tolerance`` bits."""
    fw, fj = security_floor(estimates)
    if not (abs(fw - fj) <= tolerance or fw == fj):  # fw == fj: both inf
        raise RaceError(f"preset {preset!r} is not equal security: fw23 is estimated at {fw:.1f} bits and fjw24 "
                        f"at {fj:.1f} bits (least over k), more than {tolerance:g} bits apart")


def _check_key_fits(preset: str, n: int) -> None:
    from wbstream.arena.paper import physical_memory_bytes
    from wbstream.crypto.params import FJW24_PRESETS

    bits, memory = FJW24_PRESETS[preset].key_bits(n), physical_memory_bytes()
    if memory is not None and bits / 8 > 0.8 * memory:
        raise RaceError(f"fjw24 {preset!r} at n = {n} has a key of {bits / 8 / 2**30:.1f} GiB, beyond 80% of this "
                        f"machine's {memory / 2**30:.1f} GiB; lower --n")


def crossover(ks, fw23_ns, fjw24_ns) -> tuple[float | None, str]:
    """The least k where fjw24 is no slower than fw23: measured in range, else extrapolated (see the module)."""
    for k, fw, fj in zip(ks, fw23_ns, fjw24_ns):
        if fj <= fw:
            return k, "measured"
    if len(set(ks)) < 2:
        return None, "not measured in range; extrapolating needs two k"
    slope, intercept = np.polyfit(np.asarray(ks, float), np.asarray(fw23_ns, float), 1)
    if slope <= 0:
        return None, "extrapolated: fw23 does not grow with k"
    return (float(np.mean(fjw24_ns)) - intercept) / slope, "extrapolated"


def _check_binding(preset: str, n: int, M: int) -> None:
    from wbstream.crypto.params import require_binding

    try:
        require_binding("fjw24", n=n, M=M, preset=preset)
    except WbstreamError as exc:
        raise RaceError(f"{exc} (race at --n {n}, --M {M})") from None


def race_preset(preset: str | None = None, *, n: int = 1 << 16, M: int = RACE_M, ks=RACE_KS,
                tolerance: float = SECURITY_TOLERANCE_BITS) -> str:
    """The race's preset (the default if None), checked: shared, equal security, binding at (n, M), a key that fits.

    Raises :class:`RaceError` (one line) otherwise, before anything is measured.
    """
    if max(ks) > n:
        raise RaceError(f"the race plays k = {', '.join(map(str, ks))}: n = {n} must be at least {max(ks)}")
    preset = preset or default_race_preset(n, M, ks)
    check_equal_security(preset, race_estimates(preset, n, M, ks), tolerance)
    _check_binding(preset, n, M)
    _check_key_fits(preset, n)
    return preset


def sparse_race(preset: str | None = None, *, n: int = 1 << 16, M: int = RACE_M, ks=RACE_KS, batch: int = 16,
                repeats: int = 3, tolerance: float = SECURITY_TOLERANCE_BITS) -> dict:
    """Run the race: estimates, update time, state and key bits per k, and the crossover."""
    preset = race_preset(preset, n=n, M=M, ks=ks, tolerance=tolerance)
    estimates = race_estimates(preset, n, M, ks)
    rows = []
    for e in estimates:
        k = e["k"]
        problem = f"sparse-recovery(n={n}, k={k}, M={M})"
        b = random_batch(n, batch, 1, seed=k)
        row = dict(e)
        algs = {name: make_algorithm(f"{name}(preset='{preset}')", problem)[0] for name in ("fw23", "fjw24")}
        best = dict.fromkeys(algs, math.inf)
        for alg in algs.values():
            alg.update(b.indices, b.deltas)  # warm-up: caches made on first use
        for _ in range(repeats):  # alternate, keeping the best of each, so both see the same machine load
            for name, alg in algs.items():
                best[name] = min(best[name], best_time(lambda: alg.update(b.indices, b.deltas), 1))
        for name, alg in algs.items():
            space = alg.space()
            row[f"{name}_ns"] = best[name] / len(b) * 1e9
            row[f"{name}_state_bits"], row[f"{name}_key_bits"] = space.state_bits, space.key_bits
        del algs
        rows.append(row)
    k, how = crossover([r["k"] for r in rows], [r["fw23_ns"] for r in rows], [r["fjw24_ns"] for r in rows])
    fw, fj = security_floor(estimates)
    return {"preset": preset, "n": n, "M": M, "batch": batch, "rows": rows, "crossover_k": k, "crossover": how,
            "fw23_floor_bits": fw, "fjw24_floor_bits": fj, "tolerance": tolerance}


def _bits(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.1f}"


def print_race(out, race: dict) -> None:
    """The race's table and its crossover line on a rich console."""
    from rich.table import Table

    from wbstream.arena.textfit import fit_print

    t = Table(title=f"The race at equal security: preset {race['preset']!r}, n = {race['n']:,}, M = {race['M']:,}, "
                    f"batches of {race['batch']} (fw23 / fjw24 estimated at {_bits(race['fw23_floor_bits'])} / "
                    f"{_bits(race['fjw24_floor_bits'])} bits, least over k; tolerance {race['tolerance']:g} bits)",
              title_justify="left")
    for col in ("k", "fw23 bits", "fjw24 bits", "fw23 ns/update", "fjw24 ns/update", "fjw24 / fw23",
                "fw23 state bits", "fjw24 state bits", "fw23 key bits", "fjw24 key bits"):
        t.add_column(col, justify="right")
    for r in race["rows"]:
        t.add_row(str(r["k"]), _bits(r["fw23_bits"]), _bits(r["fjw24_bits"]), f"{r['fw23_ns']:,.0f}",
                  f"{r['fjw24_ns']:,.0f}", f"{r['fjw24_ns'] / r['fw23_ns']:.2f}", f"{r['fw23_state_bits']:,}",
                  f"{r['fjw24_state_bits']:,}", f"{r['fw23_key_bits']:,}", f"{r['fjw24_key_bits']:,}")
    fit_print(out, t)
    k, how = race["crossover_k"], race["crossover"]
    if k is None:
        out.print(f"crossover: none ({how})")
    elif how == "measured":
        out.print(f"crossover: fjw24 overtakes fw23 at k = {k:,} (measured)")
    else:
        out.print(f"crossover: fjw24 would overtake fw23 at k ≈ {k:,.0f} (extrapolated: fw23 fitted linear in k, "
                  f"fjw24 constant)")
