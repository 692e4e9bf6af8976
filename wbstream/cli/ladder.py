"""``wbstream ladder``: the lattice attack against the security-claiming presets, scaled down rung by rung."""

from __future__ import annotations

import json
import math

import click
from rich import box
from rich.table import Table
from rich.text import Text

from wbstream.arena.textfit import fit_print
from wbstream.cli import main, out, refuse
from wbstream.engine.errors import WbstreamError


def _bits(bits, beta) -> str:
    if bits == math.inf:
        return "inf (β>4000)"
    return "LLL" if beta is None else f"{bits:.0f} (β={beta:.0f})"


def _deltas(ds) -> str:
    return "-" if not ds else f"{min(ds):.4f}" if len(ds) == 1 else f"{min(ds):.4f}–{max(ds):.4f}"


@main.command()
@click.option("--preset", default="", help="One security-claiming preset (sec64, sec128, sec128-wide); default: all.")
@click.option("--algorithm", type=click.Choice(["fjw24", "fw23", "all"]), default="all", show_default=True)
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(min=1, max=100), help="Games per rung.")
@click.option("--block-size", default=20, show_default=True, type=click.IntRange(min=0, max=60),
              help="Last block size of progressive BKZ (0: LLL alone).")
@click.option("--tours", default=2, show_default=True, type=click.IntRange(min=1, max=50),
              help="BKZ tours per block size.")
@click.option("--max-dimension", default=200, show_default=True, type=click.IntRange(min=20, max=400),
              help="The work budget: the most lattice rows a rung may have.")
@click.option("--model-only", is_flag=True, help="Play nothing: the rungs, the model and the extrapolation.")
@click.option("--json", "as_json", is_flag=True, help="Print the ladders as JSON.")
def ladder(preset, algorithm, seeds, block_size, tours, max_dimension, model_only, as_json):
    """Real white-box games against scaled-down instances of each security-claiming preset.

    A rung keeps the preset's q, gadget base, sigma, M and the problem's k, and
    shrinks fjw24's n_lwe (fw23's SIS rows) until the lattice exceeds the work
    budget. Beside each rung: the games broken, the root-Hermite factor reached,
    and the model's prediction; below, the model extrapolated to the real preset
    (estimated, not attacked). See docs/sparse-recovery.md.
    """
    from wbstream.arena.ladder import Ladder, ladders

    try:
        pairs = ladders(preset, "" if algorithm == "all" else algorithm)
        climbs = [Ladder(a, p, block_size=block_size, tours=tours, max_dimension=max_dimension) for a, p in pairs]
    except WbstreamError as exc:
        raise refuse(exc) from None
    results = []
    for lad in climbs:  # each ladder is printed as soon as it is climbed (a ladder takes minutes)
        rungs = lad.rungs() if model_only else [lad.play(r, seeds) for r in lad.rungs()]
        results.append(lad.summary(rungs))
        if not as_json:
            _print(results[-1], model_only)
    if as_json:
        click.echo(json.dumps(results, indent=2, default=lambda v: None))


def _print(s: dict, model_only: bool) -> None:
    t = Table(title=f"{s['algorithm']} {s['preset']} on {s['problem']}\n{s['adversary']}: {s['reduction']}",
              title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in (s["dimension"], "A rows", "lattice", "model |z|∞", "model", "core-SVP", "broken", "δ achieved"):
        t.add_column(col, justify="left" if col in ("model",) else "right")
    for r in s["rungs"]:
        broken = "-" if model_only else f"{r['broken']}/{r['seeds']}" + (f" ({r['errors']} err)" if r["errors"] else "")
        t.add_row(str(r["size"]), str(r["tester_rows"]), str(r["lattice_rows"]), f"2^{r['model_log2_linf']:.1f}",
                  "falls" if r["model_falls"] else "holds", _bits(r["bits"], r["beta"]), broken, _deltas(r["deltas"]))
    fit_print(out, t)
    measured = "-" if s["measured_boundary"] is None else str(s["measured_boundary"])
    out.print(Text(f"  broken up to {s['dimension']} = {measured}; the model says the attack reaches |z|∞ <= M "
                   f"up to {s['dimension']} = {s['model_boundary']} (lattices past the budget included)"))
    if s["broken_where_model_holds"]:
        out.print(Text(f"  FINDING: broken where the model says it holds: {s['broken_where_model_holds']}"))
    out.print(Text(f"  real preset: {s['dimension']} = {s['real_size']} ({s['real_tester_rows']} tester rows, a "
                   f"lattice of {s['real_lattice_rows']} rows): collision {_bits(s['real_collision_bits'], s['real_beta'])}"
                   f", estimate {s['real_estimate_bits']:.0f} bits (extrapolated by the model, not attacked)"))
