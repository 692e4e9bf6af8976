"""``wbstream presets``: space and security estimates of the fw23 and fjw24 presets."""

from __future__ import annotations

import json

import click
from rich.table import Table

from wbstream.arena.textfit import fit_print
from wbstream.bench.sparse import preset_table
from wbstream.cli import main, out


def _bits(value: float) -> str:
    return "beyond the model" if value == float("inf") else f"{value:.0f} bits"


@main.command()
@click.option("--n", "n", default=10**6, show_default=True, type=click.IntRange(min=2), help="Universe size.")
@click.option("--k", "k", default=100, show_default=True, type=click.IntRange(min=1), help="Sparsity.")
@click.option("--M", "M", default=2**20, show_default=True, type=click.IntRange(min=1), help="Entry bound.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def presets(n, k, M, as_json):
    """The fw23 and fjw24 parameter presets: space and security estimates (core-SVP)."""
    rows = preset_table(n, k, M)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    t = Table(title=f"Presets at n = {n:,}, k = {k}, M = {M:,} (estimates, core-SVP model; see docs/sparse-recovery.md)",
              title_justify="left")
    for col in ("algorithm", "preset", "parameters", "state bits", "key bits", "collision", "LWE"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["algorithm"], r["preset"], r["parameters"], f"{r['state_bits']:,}", f"{r['key_bits']:,}",
                  _bits(r["collision_bits"]), "-" if r["lwe_bits"] is None else _bits(r["lwe_bits"]))
    fit_print(out, t)
    for r in rows:
        out.print(f"  {r['algorithm']} {r['preset']}: {r['label']}")
    out.print(f"storing x exactly: {n * max(1, (2 * M).bit_length()):,} bits")
