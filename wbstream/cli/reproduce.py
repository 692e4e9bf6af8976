"""``wbstream reproduce``: published attack figures beside ours."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from wbstream.arena.textfit import fit_print
from wbstream.cli import InputError, main, out


@main.command("reproduce")
@click.argument("paper", type=click.Choice(["paterson-raynal", "markelon", "cohen-2022", "all"]), default="all")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1), help="Games averaged per row.")
@click.option("--ells", default="100,200,300", show_default=True,
              help="cohen-2022: the depths ℓ of figure 2 (the paper: 100,200,...,1000).")
@click.option("--rounds", default=4000, show_default=True, type=click.IntRange(10),
              help="cohen-2022: rounds of figure 1 (the paper: 10000).")
@click.option("--plot", "plot_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="cohen-2022: write both figures to this PNG (needs matplotlib).")
def reproduce_cmd(paper: str, seeds: int, ells: str, rounds: int, plot_path):
    """Published attack figures beside ours (Paterson–Raynal, Markelon et al.: real games; Cohen et al.: their simulation)."""
    from wbstream.reproduce import markelon_rows, not_reproduced, paterson_raynal_rows

    if paper in ("cohen-2022", "all"):
        try:
            ell_list = [int(e) for e in ells.split(",") if e.strip()]
        except ValueError:
            raise InputError(f"--ells must be comma-separated integers, got {ells!r}") from None
        if not ell_list or min(ell_list) < 1:
            raise InputError("--ells needs at least one positive depth")
        from wbstream.reproduce_cohen import print_cohen

        print_cohen(out, ells=ell_list, rounds=rounds, repetitions=seeds, plot_path=plot_path)
        if paper == "cohen-2022":
            return

    if paper in ("paterson-raynal", "all"):
        t = Table(title=f"Paterson–Raynal 2022, HyperLogLog: 2^20 candidate items unless noted (paper: 50-run "
                        f"means; ours: {seeds}-seed means)", title_justify="left")
        for col in ("case", "m", "paper sketch", "our sketch", "before paper / ours", "after paper / ours",
                    "inserted paper / ours", "S1 resets paper / ours"):
            t.add_column(col, justify="right")
        for r in paterson_raynal_rows(seeds=seeds):
            before = "—" if r["paper_before"] is None else f"{r['paper_before']:,}"
            case = r["case"] + ("" if r["pool"] == 1 << 20 else f" (pool 2^{r['pool'].bit_length() - 1})")
            resets = "" if r["paper_resets"] is None else f"{r['paper_resets']:,} / {r['resets']:,.0f}"
            t.add_row(case, f"{r['m']:,}", r["paper_sketch"], r["sketch"], f"{before} / {r['before']:,.0f}",
                      f"{r['paper_after']:,} / {r['after']:,.0f}",
                      f"{r['paper_inserted']:,} / {r['inserted']:,.0f}", resets)
        fit_print(out, t)
        for case, why in not_reproduced().items():
            out.print(f"not reproduced: {case}: {why}")
    if paper in ("markelon", "all"):
        t = Table(title=f"Markelon–Filić–Shrimpton 2023, Count-Min cover set, 2^20 insertions "
                        f"(paper: 100 trials; ours: {seeds} seeds)", title_justify="left")
        for col in ("width x depth", "our sketch", "error on target paper / ours", "≈ 2^20/depth",
                    "hash evaluations paper / ours", "cover paper / ours"):
            t.add_column(col, justify="right")
        for r in markelon_rows(seeds=seeds):
            t.add_row(f"{r['width']} x {r['depth']}", r["sketch"], f"{r['paper_error']:,} / {r['error']:,.0f}",
                      f"{(1 << 20) // r['depth']:,}", f"{r['paper_evaluations']:,} / {r['evaluations']:,.0f}",
                      f"{r['paper_cover']} / {r['cover']:.0f}")
        fit_print(out, t)
