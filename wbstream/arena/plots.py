"""Figures of an arena run, as PNG bytes with a one-line caption (matplotlib, Agg backend).

Each plotting function takes the store's rows and returns ``(png, caption)`` (or a dict
of them, one per problem family), and nothing when the rows hold nothing to draw: no
placeholder is ever made. A figure shows at most :data:`MAX_SERIES` series. The
failure curves and the preset bars come from the judged games, one failure figure
per problem family; update time against k and space against n come from the games of
the scaling sweep (:mod:`wbstream.arena.sweep`), one figure per family it sweeps. The
functions import nothing from the report modules (they call them).

>>> failure_vs_rounds([]) is None, update_time_vs_k([]), space_vs_n([])
(True, {}, {})
>>> all_figures([])
{}
"""

from __future__ import annotations

import io
import statistics
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from wbstream.engine.errors import WbstreamError  # noqa: E402
from wbstream.engine.registry import parse_spec  # noqa: E402
from wbstream.engine.stats import wilson_interval  # noqa: E402
from wbstream.engine.threat import ThreatModel  # noqa: E402

from .rows import group_rows, ok_results, result_of, spec_name, sweep_option, sweep_rows, verdict_rows  # noqa: E402

DPI = 90
#: Series per figure at most: more lines than this cannot be told apart.
MAX_SERIES = 8
_LEVELS = [t.name for t in ThreatModel.levels()]


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _option(spec: str | None, name: str):
    try:
        return parse_spec(spec or "").options.get(name)
    except (WbstreamError, ValueError):
        return None


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _weakest_plays(rows) -> dict[tuple[str, str, str], tuple[str, list]]:
    """(problem, algorithm, adversary) -> (threat, results) at the weakest level it was played:
    an adversary played at several levels (an oblivious one in old stores) counts once."""
    out: dict[tuple[str, str, str], tuple[str, list]] = {}
    for (algorithm, adversary, threat, problem), group in group_rows(rows).items():
        rank = _LEVELS.index(threat) if threat in _LEVELS else len(_LEVELS)
        key = (problem, algorithm, adversary)
        if key not in out or rank < (_LEVELS.index(out[key][0]) if out[key][0] in _LEVELS else len(_LEVELS)):
            out[key] = (threat, ok_results(group))
    return out


def failure_vs_rounds(rows, family: str | None = None):
    """Per matchup of one problem family, the fraction of games failed by round r (CDF of the first failure).

    The :data:`MAX_SERIES` matchups with the most failures are drawn; None if none failed.
    """
    curves = []
    for (problem, algorithm, adversary), (threat, ok) in _weakest_plays(rows).items():
        if family is not None and spec_name(problem) != family:
            continue
        firsts = sorted(r.first_failure_round for r in ok if r.failed and r.first_failure_round is not None)
        if ok and firsts:
            curves.append((len(firsts) / len(ok), -firsts[0], f"{algorithm} vs {adversary} ({threat})", firsts,
                           len(ok)))
    if not curves:
        return None
    curves.sort(key=lambda c: (-c[0], -c[1], c[2]))
    shown = curves[:MAX_SERIES]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    last = max(c[3][-1] for c in shown)
    for _, _, label, firsts, total in shown:
        xs = [0] + firsts
        ys = [0.0] + [(i + 1) / total for i in range(len(firsts))]
        ax.step(xs + [last * 1.1 + 1], ys + [ys[-1]], where="post", label=_short(label, 70))
    ax.set_xlabel("round r")
    ax.set_ylabel("fraction of games failed by round r")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0, last * 1.1 + 1)
    if last > 50:
        ax.set_xscale("symlog")
    ax.set_title(f"Failure by round r{f': {family}' if family else ''}")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.15), frameon=False)
    ax.grid(alpha=0.3)
    more = f" ({len(curves) - len(shown)} more failing matchups not drawn)" if len(curves) > len(shown) else ""
    caption = (f"{family or 'All problems'}: how fast each attack wins; a curve that reaches 1 in few rounds "
               f"breaks the algorithm every time, and quickly{more}.")
    return _png(fig), caption


def _sweep_series(rows, option: str, value) -> dict[str, dict[str, dict[float, list[float]]]]:
    """family -> algorithm spec -> the problem's ``option`` -> values, over the ok games of the sweep of ``option``."""
    out: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for row in sweep_rows(rows):
        r = result_of(row) if row.get("status", "ok") == "ok" else None
        if r is None or sweep_option(row) != option:
            continue
        problem = row.get("problem") or r.problem
        x = _option(problem, option)
        y = value(r)
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not y:
            continue
        out[spec_name(problem)][row.get("algorithm") or r.algorithm][x].append(float(y))
    return out


def _lines(series, title: str, xlabel: str, ylabel: str, caption: str):
    usable = {name: pts for name, pts in series.items() if len(pts) >= 2}
    if not usable:
        return None
    names = sorted(usable, key=lambda n: (-len(usable[n]), n))[:MAX_SERIES]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name in sorted(names):
        pts = usable[name]
        xs = sorted(pts)
        ax.plot(xs, [statistics.median(pts[x]) for x in xs], marker="o", label=_short(name, 40))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = sorted({x for n in names for x in usable[n]})
    if len(ticks) <= 12:
        ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.grid(alpha=0.3, which="both")
    more = len(usable) - len(names)
    return _png(fig), caption + (f" ({more} more algorithms not drawn)" if more else "")


def _scaling(rows, option: str, value, what: str, xlabel: str, ylabel: str, reading: str):
    """One figure per family of the sweep over ``option``: ``{family: (png, caption)}``."""
    out = {}
    for family, series in _sweep_series(rows, option, value).items():
        fig = _lines(series, f"{what} vs {option}: {family}", xlabel, ylabel, f"{family}: {reading}")
        if fig is not None:
            out[family] = fig
    return out


def update_time_vs_k(rows) -> dict[str, tuple[bytes, str]]:
    """Per problem family of the sweep over k, the median ns per update against k, one line per algorithm
    measured at two k or more: ``{family: (png, caption)}``, empty without such games."""
    return _scaling(rows, "k", lambda r: r.update_ns_median, "Update time", "k (problem sparsity)",
                    "median ns per update", "time per update against k on log-log axes; the slope is the "
                    "exponent of k in the update cost, a flat line costs the same at every k.")


def space_vs_n(rows) -> dict[str, tuple[bytes, str]]:
    """Per problem family of the sweep over n, the median state + key bits against n, one line per algorithm
    measured at two n or more: ``{family: (png, caption)}``, empty without such games."""
    return _scaling(rows, "n", lambda r: r.space_state_bits + r.space_key_bits, "Space", "n (universe size)",
                    "state + key bits", "bits kept against n on log-log axes; a flat line does not grow "
                    "with n, slope 1 grows like storing x itself.")


def attack_success_vs_preset(rows):
    """Failure rate per security preset, by adversary, for algorithms played at two presets or more; else None."""
    from .verdicts import security_of

    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (x label, adversary) -> [fail, n]
    presets: dict[str, set] = defaultdict(set)
    for r in ok_results(rows):
        preset = _option(r.algorithm, "preset")
        if preset is None:
            continue
        est = security_of(r.algorithm, r.problem)
        bits = f" ({est.bits:.0f} bits)" if est else ""
        name = spec_name(r.algorithm)
        presets[name].add(preset)
        c = counts[f"{name}\n{preset}{bits}", f"{r.adversary} ({r.threat})"]
        c[0] += int(bool(r.failed))
        c[1] += 1
    compared = {name for name, ps in presets.items() if len(ps) >= 2}
    counts = {k: v for k, v in counts.items() if k[0].split("\n")[0] in compared}
    if not counts:
        return None
    xs = sorted({x for x, _ in counts})
    worst = defaultdict(float)
    for (x, adv), (f, n) in counts.items():
        worst[adv] = max(worst[adv], f / n)
    advs = sorted(sorted(worst, key=lambda a: -worst[a])[:MAX_SERIES])
    width = 0.8 / len(advs)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(xs) + 3), 4))
    for j, adv in enumerate(advs):
        pos, rates, lo, hi = [], [], [], []
        for i, x in enumerate(xs):
            if (x, adv) not in counts:
                continue
            f, n = counts[x, adv]
            a, b = wilson_interval(f, n)
            pos.append(i - 0.4 + width * (j + 0.5))
            rates.append(f / n)
            lo.append(max(0.0, f / n - a))
            hi.append(max(0.0, b - f / n))
        ax.bar(pos, rates, width, yerr=[lo, hi], capsize=3, label=_short(adv, 40))
    ax.set_xticks(range(len(xs)), xs, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("failure rate (Wilson 95%)")
    ax.set_title("Attack success vs security preset")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    return _png(fig), ("Failure rate per preset with its bits estimate: attacks should win at toy presets and "
                       "lose at presets of 64 bits or more.")


def all_figures(rows) -> dict[str, tuple[bytes, str]]:
    """Every figure the rows have data for, by name, as (png, caption)."""
    rows = list(rows)
    judged = verdict_rows(rows)
    families = sorted({spec_name(problem) for (_, _, _, problem) in group_rows(judged)})
    out = {f"failure_vs_rounds/{family}": failure_vs_rounds(judged, family) for family in families}
    out["attack_success_vs_preset"] = attack_success_vs_preset(judged)
    out.update({f"update_time_vs_k/{family}": fig for family, fig in update_time_vs_k(rows).items()})
    out.update({f"space_vs_n/{family}": fig for family, fig in space_vs_n(rows).items()})
    return {name: fig for name, fig in out.items() if fig is not None}
