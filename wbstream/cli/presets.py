"""``wbstream presets``: estimates, binding, space and update time of the fw23 and fjw24 presets."""

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


def _pow2(v: int) -> str:
    return f"2^{v.bit_length() - 1}" if v > 0 and v & (v - 1) == 0 else f"{v:,}"


def _bits(value) -> str:
    if value is None:
        return "-"
    return "inf" if value == math.inf else f"{value:.0f}"


def _size(bits: int) -> str:
    """Bits as bytes in binary units, e.g. '36.0KiB'; below 1 KiB in bits ('256b')."""
    if bits < 8 * 1024:
        return f"{bits}b"
    size = bits / 8
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.1f}{unit}"
        size /= 1024


def _time(ns, source) -> str:
    if ns is None:
        return "-"
    text = (f"{ns / 1e9:.3g}s" if ns >= 1e9 else f"{ns / 1e6:.3g}ms" if ns >= 1e6
            else f"{ns / 1e3:.3g}µs" if ns >= 1e3 else f"{ns:.0f}ns")
    return text + (" est." if source == "est." else "")


def _binding(r) -> str:
    if r["binding_margin_bits"] is None:
        return "-"
    return f"{'yes' if r['binding_holds'] else 'no'} {r['binding_margin_bits']:+.1f}"


@main.command()
@click.option("--n", "n", default=0, type=click.IntRange(min=0, max=2 ** 62),
              help="Universe size (default: each fjw24 preset's claimed n_max, else 2^16).")
@click.option("--k", "k", default=10, show_default=True, type=click.IntRange(min=1), help="Sparsity.")
@click.option("--M", "M", default=0, type=click.IntRange(min=0, max=2 ** 62),
              help="Entry bound (default: each fjw24 preset's claimed M_max, else 2^10).")
@click.option("--estimate-only", is_flag=True, help="Build nothing: every update time is a flop-count estimate.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def presets(n, k, M, estimate_only, as_json):
    """The fw23 and fjw24 presets: LWE and collision estimates (core-SVP), binding, space, update time.

    Binding is FJW'24's (worst-case noise): yes/no and its margin in bits. Update time
    is measured on a batch of 256 updates where the key is small, else estimated from
    the flop count and this machine's float64 matmul rate ("est."). The collision noise
    B_eval is also measured in the proof world at a small n_lwe, beside both bounds at
    that shape (not with --estimate-only).
    """
    from wbstream.bench.presets import preset_rows

    if n == 1:
        raise click.BadParameter("must be >= 2 (or 0: each preset's own)", param_hint="'--n'")
    if k > (n or 2 ** 16):
        raise click.BadParameter(f"k = {k} exceeds the universe n = {n or 2 ** 16}", param_hint="'--k'")
    try:
        rows = preset_rows(n, k, M, measure=not estimate_only)
    except (WbstreamError, ValueError, OverflowError) as exc:
        raise refuse(exc if isinstance(exc, WbstreamError) else _Bad(str(exc))) from None
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=lambda v: None))
        return
    at = "each preset's claimed range" if not (n or M) else f"n = {_pow2(n) if n else 'own'}, M = {_pow2(M) if M else 'own'}"
    t = Table(title=f"Presets at k = {k}, {at} (core-SVP estimates in bits; binding: yes/no and margin in bits; "
                    f"see docs/sparse-recovery.md)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
              collapse_padding=True)
    for col in ("preset", "n,M", "LWE", "SIS", "binding", "key", "state", "update"):
        t.add_column(col, justify="left" if col in ("preset", "n,M", "binding") else "right")
    for r in rows:
        t.add_row(f"{r['algorithm']} {r['preset']}", f"{_pow2(r['n'])},{_pow2(r['M'])}", _bits(r["lwe_bits"]),
                  _bits(r["collision_bits"]), _binding(r), _size(r["key_bits"]), _size(r["state_bits"]),
                  _time(r["update_ns"], r["update_source"]))
    fit_print(out, t)
    for r in rows:
        extra = f" binding {r['binding']}; {r['b_eval']};" if r["algorithm"] == "fjw24" else ""
        out.print(Text(f"  {r['algorithm']} {r['preset']} ({r['parameters']}):{extra} {r['note']}"))
    measured = [r["b_eval_measured"]["text"] for r in rows if r.get("b_eval_measured")]
    if measured:
        out.print(Text("Collision noise measured in the proof world (real GSW under a secret key) at a small "
                       "n_lwe, beside both bounds at that shape (wbstream.crypto.noise_check):"))
        for line in measured:
            out.print(Text(f"  {line}"))


class _Bad(WbstreamError):
    bad_input = True
