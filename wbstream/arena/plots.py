"""Figures of an arena run, as PNG bytes (matplotlib, Agg backend; no display needed).

Each function takes the store's rows and copes with too little data by drawing a
small "not enough data" figure instead of failing.

>>> png = failure_vs_rounds([])
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
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

from .report import _result, group_rows, spec_name  # noqa: E402

DPI = 90


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _not_enough(title: str, why: str = "") -> bytes:
    fig, ax = plt.subplots(figsize=(4, 1.6))
    ax.axis("off")
    ax.text(0.5, 0.62, title, ha="center", va="center", fontsize=10, weight="bold")
    ax.text(0.5, 0.3, "not enough data" + (f": {why}" if why else ""), ha="center", va="center", fontsize=9,
            color="#666")
    return _png(fig)


def _ok_results(rows):
    return [r for r in (_result(row) for row in rows if row.get("status", "ok") == "ok") if r is not None]


def _option(spec: str | None, name: str):
    try:
        return parse_spec(spec or "").options.get(name)
    except (WbstreamError, ValueError):
        return None


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def failure_vs_rounds(rows) -> bytes:
    """Per matchup, the fraction of its games that had failed by round r (empirical CDF of the first failure)."""
    title = "Failure by round r"
    curves = []
    for (algorithm, adversary, threat, problem), group in group_rows(rows).items():
        ok = _ok_results(group)
        firsts = sorted(r.first_failure_round for r in ok if r.failed and r.first_failure_round is not None)
        if ok and firsts:
            curves.append((f"{algorithm} vs {adversary} ({threat}) on {problem}", firsts, len(ok)))
    if not curves:
        return _not_enough(title, "no failed games")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    last = max(f[-1] for _, f, _ in curves)
    for label, firsts, total in curves:
        xs = [0] + firsts
        ys = [0.0] + [(i + 1) / total for i in range(len(firsts))]
        ax.step(xs + [last * 1.1 + 1], ys + [ys[-1]], where="post", label=_short(label, 90))
    ax.set_xlabel("round r")
    ax.set_ylabel("fraction of games failed by round r")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0, last * 1.1 + 1)
    if last > 50:
        ax.set_xscale("symlog")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.15), frameon=False)
    ax.grid(alpha=0.3)
    return _png(fig)


def _by_algorithm_and(rows, option: str, value) -> dict[str, dict[int, list[float]]]:
    out: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in _ok_results(rows):
        x = _option(r.problem, option)
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            continue
        y = value(r)
        if y is not None:
            out[spec_name(r.algorithm)][x].append(float(y))
    return out


def _lines(series, title: str, xlabel: str, ylabel: str, why: str) -> bytes:
    usable = {name: pts for name, pts in series.items() if pts}
    if not any(len(pts) >= 2 for pts in usable.values()):
        return _not_enough(title, why + " (at least two values of it for one algorithm)")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, pts in sorted(usable.items()):
        xs = sorted(pts)
        ax.plot(xs, [statistics.median(pts[x]) for x in xs], marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = sorted({x for pts in usable.values() for x in pts})
    if len(ticks) <= 12:
        ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return _png(fig)


def update_time_vs_k(rows) -> bytes:
    """Median ns per update against the problem's k, one line per algorithm."""
    series = _by_algorithm_and(rows, "k", lambda r: r.update_ns_median if r.update_ns_median else None)
    return _lines(series, "Update time vs k", "k (problem sparsity)", "median ns per update",
                  "needs timed games on problems with a k")


def space_vs_n(rows) -> bytes:
    """Median state + key bits against the problem's n, one line per algorithm."""
    series = _by_algorithm_and(rows, "n", lambda r: (r.space_state_bits + r.space_key_bits) or None)
    return _lines(series, "Space vs n", "n (universe size)", "state + key bits",
                  "needs games on problems with an n")


def attack_success_vs_preset(rows) -> bytes:
    """Failure rate per preset (algorithms with a ``preset=`` option), one bar group per preset, by adversary."""
    title = "Attack success vs security preset"
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (x label, adversary) -> [fail, n]
    for r in _ok_results(rows):
        preset = _option(r.algorithm, "preset")
        if preset is None:
            continue
        c = counts[f"{spec_name(r.algorithm)}\n{preset}", f"{r.adversary} ({r.threat})"]
        c[0] += int(bool(r.failed))
        c[1] += 1
    if not counts:
        return _not_enough(title, "no algorithm spec with a preset= option")
    xs = sorted({x for x, _ in counts})
    advs = sorted({a for _, a in counts})
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
            lo.append(f / n - a)
            hi.append(b - f / n)
        ax.bar(pos, rates, width, yerr=[lo, hi], capsize=3, label=_short(adv, 40))
    ax.set_xticks(range(len(xs)), xs, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("failure rate (Wilson 95%)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)


def all_figures(rows) -> dict[str, bytes]:
    """Every figure, by name (the names :data:`wbstream.arena.report.FIGURE_CAPTIONS` describes)."""
    rows = list(rows)
    return {
        "failure_vs_rounds": failure_vs_rounds(rows),
        "update_time_vs_k": update_time_vs_k(rows),
        "space_vs_n": space_vs_n(rows),
        "attack_success_vs_preset": attack_success_vs_preset(rows),
    }
