"""``wbstream bench``: performance figures, each side measured in the same run (logic in :mod:`wbstream.bench`)."""

from __future__ import annotations

import click
from rich.table import Table

from wbstream.arena.textfit import fit_print
from wbstream.bench.sparse import preset_table
from wbstream.cli import InputError, main, one_line, out, refuse
from wbstream.engine.errors import WbstreamError


@main.group()
def bench():
    """Print performance figures, each side measured in the same run."""


@bench.command("engine")
def bench_engine():
    """Engine overhead against a bare loop, the batch path against single updates, and isolation's cost."""
    from wbstream.bench.engine import batch_speedup, engine_overhead, isolation_overhead

    for label, every in [("no queries until the end", 100_000), ("a query every round", 1)]:
        e = engine_overhead(rounds=100_000, query_every=every)
        out.print(f"engine overhead, adaptive no-op game of {e['rounds']:,} single-update rounds, {label}: "
                  f"game {e['game_s']:.3f} s vs bare loop {e['bare_s']:.3f} s -> {e['ratio']:.1f}x")
    b = batch_speedup()
    out.print(f"batch path, countsketch(rows=5, cols=64), n=100000: batches of 10^4 {b['batch_updates_per_s']:,.0f} "
              f"updates/s vs one per call {b['single_updates_per_s']:,.0f} updates/s -> {b['ratio']:.0f}x")
    for row in isolation_overhead():
        out.print(f"isolation, {row['case']}, {row['rounds']:,} rounds: isolated {row['isolated_s']:.3f} s vs "
                  f"in-process {row['in_process_s']:.3f} s -> {row['ratio']:.2f}x")


@bench.command("arena")
@click.option("--trials", default=3, show_default=True, type=click.IntRange(min=1))
def bench_arena(trials):
    """The quick suite serially and on the process pool: throughput ratio and the arena's overhead."""
    import tempfile

    from wbstream.arena.arena import run_arena
    from wbstream.arena.executors import PoolExecutor, SerialExecutor
    from wbstream.arena.matchups import suite

    matchups = suite("quick")
    runs = {}
    for name, executor in (("serial", SerialExecutor()), ("pool", PoolExecutor())):
        with tempfile.TemporaryDirectory() as d:
            runs[name] = run_arena(matchups, trials=trials, seed=0, out_dir=d, executor=executor)
    s, p = runs["serial"], runs["pool"]
    out.print(f"quick suite, {s.total} games: serial {s.wall_seconds:.1f} s, pool of {PoolExecutor().workers} "
              f"{p.wall_seconds:.1f} s -> {s.wall_seconds / p.wall_seconds:.2f}x throughput")
    out.print(f"arena overhead per game on top of the game itself: serial {s.overhead_fraction:.1%}, "
              f"pool {p.overhead_fraction:.1%}")


@bench.command("distributed")
def bench_distributed():
    """BFV aggregation costs against s and sketch size; distributed communication and coordinator time against k."""
    from wbstream.bench.distributed import communication_vs_k, he_costs

    rows = he_costs()
    t = Table(title=f"BFV encrypted CountSketch (rows=5, n = 2^16, M = 2^10, N = 4096, t = {rows[0]['t']})",
              title_justify="left")
    for col in ("s", "entries", "limbs x bits", "cts", "encrypt ms/server", "add ms/server", "decrypt+report ms",
                "plain merge+report ms", "ct bytes", "plain bytes", "ct / plain", "ct / declared"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(str(r["servers"]), str(r["entries"]), f"{r['limbs']} x {r['digit_bits']}", str(r["ciphertexts"]),
                  f"{r['encrypt_s'] * 1e3:.2f}", f"{r['add_s'] * 1e3:.2f}", f"{r['report_s'] * 1e3:.1f}",
                  f"{r['plain_report_s'] * 1e3:.1f}", f"{r['ciphertext_bytes']:,}", f"{r['plain_bytes']:,}",
                  f"{r['ciphertext_bytes'] / r['plain_bytes']:.1f}", f"{r['ciphertext_bytes'] / r['declared_bytes']:.1f}")
    fit_print(out, t)
    t = Table(title="Distributed game, 4 server processes, plain aggregation: bits per server against the Õ(k) bound "
                    "k (log2 n + log2 nM) (n = 2^16, M = 2^10)", title_justify="left")
    for col in ("algorithm", "k", "correct", "message bits", "declared bits", "bound bits", "message / bound",
                "coordinator ms", "server ms"):
        t.add_column(col, justify="right")
    for r in communication_vs_k():
        t.add_row(r["algorithm"], str(r["k"]), "yes" if not r["failed"] else "NO", f"{r['message_bits']:,}",
                  f"{r['declared_bits']:,}", f"{r['bound_bits']:,}", f"{r['ratio']:.1f}",
                  f"{r['coordinator_s'] * 1e3:.1f}", f"{r['server_s'] * 1e3:.2f}")
    fit_print(out, t)


@bench.command("sparse")
@click.option("--preset", default=None, help="Preset of the race at equal security, in both fw23 and fjw24 "
              "(default: the lowest estimated at >= 64 bits for both).")
@click.option("--n", "race_n", default=1 << 16, show_default=True, type=click.IntRange(min=2),
              help="Universe size of the race.")
@click.option("--M", "race_M", default=1 << 10, show_default=True, type=click.IntRange(min=1),
              help="Entry bound M of the race (the sec presets bind for M <= 2^10).")
@click.option("--repeats", "race_repeats", default=1, show_default=True, type=click.IntRange(min=1),
              help="Timed batches per algorithm and k in the race (the best counts).")
@click.option("--batch", "race_batch", default=512, show_default=True, type=click.IntRange(min=1),
              help="Updates per timed batch in the race.")
@click.option("--tolerance", default=8.0, show_default=True, type=click.FloatRange(min=0),
              help="Most bits the two estimates may differ by in the race.")
@click.option("--race-only", is_flag=True, help="Run only the race at equal security.")
@click.option("--no-race", is_flag=True, help="Skip the race (at sec64 it takes about a quarter of an hour).")
def bench_sparse(preset, race_n, race_M, race_repeats, race_batch, tolerance, race_only, no_race):
    """FW'23 vs FJW'24: update time against k, the tester's BLAS share, space, report time; then the race at
    equal security (update time, state and key bits for k = 1, 10, 100, 1000, and the crossover k)."""
    from wbstream.bench.sparse_race import print_race, race_preset, sparse_race

    if race_only and no_race:
        raise InputError("--race-only and --no-race exclude each other")
    if no_race:
        _sparse_tables()
        return
    asked = race_only or preset is not None
    try:  # a race that cannot be run is refused before anything is measured
        preset, why_not = race_preset(preset, n=race_n, M=race_M, tolerance=tolerance), None
    except WbstreamError as exc:
        if asked:
            raise refuse(exc) from None
        why_not = one_line(exc)  # the plain bench still prints its other figures, and says why the race is missing
    if not race_only:
        _sparse_tables()
    if why_not is not None:
        out.print(f"race at equal security not run: {why_not}", markup=False, highlight=False)
        return
    print_race(out, sparse_race(preset, n=race_n, M=race_M, batch=race_batch, repeats=race_repeats,
                                tolerance=tolerance))


def _sparse_tables():
    from wbstream.bench.sparse import fjw24_blas_share, sparse_report_vs_k, sparse_update_vs_k

    rows = sparse_update_vs_k()
    t = Table(title="Update time against k (n = 2^20, M = 2^20, batches of 256, toy presets)", title_justify="left")
    for col in ("k", "fw23 ns/update", "fjw24 ns/update", "fw23 tester", "fjw24 tester", "fw23 / fjw24"):
        t.add_column(col, justify="right")
    by = {(r["algorithm"], r["k"]): r for r in rows}
    for k in sorted({r["k"] for r in rows}):
        fw, fj = by["fw23", k], by["fjw24", k]
        t.add_row(str(k), f"{fw['update_ns']:,.0f}", f"{fj['update_ns']:,.0f}", f"{fw['tester_ns']:,.0f}",
                  f"{fj['tester_ns']:,.0f}", f"{fw['update_ns'] / fj['update_ns']:.2f}")
    fit_print(out, t)
    ks = sorted({r["k"] for r in rows})
    out.print(f"growth from k = {ks[0]} to k = {ks[-1]}: fw23 x{by['fw23', ks[-1]]['update_ns'] / by['fw23', ks[0]]['update_ns']:.1f}, "
              f"fjw24 tester x{by['fjw24', ks[-1]]['tester_ns'] / by['fjw24', ks[0]]['tester_ns']:.2f}")
    b = fjw24_blas_share()
    out.print(f"\nfjw24 moderate tester, batch of {b['batch']}: {b['update_s'] * 1e3:.1f} ms for {b['levels']} levels of "
              f"({b['N']}x{b['width']})@({b['width']}x{b['batch']}) mod 2^64; one float64 matmul of that shape "
              f"{b['matmul_s'] * 1e3:.2f} ms")
    out.print(f"  same-shape throughput ratio {b['same_shape_ratio']:.0%} (ceiling 50%: two 32-bit limbs per product); "
              f"share of time in BLAS at full speed {b['blas_share']:.0%} (inferred from the two timings)")
    t = Table(title="Report time against k (n = 2^16, M = 2^10)", title_justify="left")
    t.add_column("k", justify="right")
    names = ["vandermonde", "fw23", "fjw24"]
    for name in names:
        t.add_column(f"{name} ms", justify="right")
    rep = {(r["algorithm"], r["k"]): r["query_ms"] for r in sparse_report_vs_k()}
    for k in ks:
        t.add_row(str(k), *[f"{rep[name, k]:.2f}" for name in names])
    fit_print(out, t)
    _print_wide_blas_split()
    n, k, M = 10**6, 100, 1 << 20
    t = Table(title=f"Space at n = 10^6, k = {k}, M = 2^20 (storing x exactly: {n * (2 * M).bit_length():,} bits)",
              title_justify="left")
    for col in ("algorithm", "preset", "state bits", "key bits"):
        t.add_column(col, justify="right")
    for r in preset_table(n, k, M):
        t.add_row(r["algorithm"], r["preset"], f"{r['state_bits']:,}", f"{r['key_bits']:,}")
    fit_print(out, t)


def _print_wide_blas_split() -> None:
    from wbstream.bench.sparse import fjw24_wide_blas_split

    w = fjw24_wide_blas_split()
    out.print(f"\nfjw24 tester at the ~64-bit preset (q = 2^{w['log_q']}, N = {w['N']}, row of {w['width']} words, "
              f"{w['limbs']} limbs of 16 bits, key memory-mapped), batch of {w['batch']}: "
              f"{w['update_s']:.1f} s for {w['level_products']} level products, {w['blas_s']:.1f} s of it in BLAS "
              f"(cProfile): BLAS share {w['blas_share']:.0%}")
    out.print(f"  at n = 2^{w['full_L']} an uncached update runs {w['full_L'] - 1} such products: "
              f"~{w['update_s'] / w['level_products'] * (w['full_L'] - 1) / w['batch'] * 1e3:.0f} ms per update; "
              f"binding at n = 2^16, M = 2^10: {w['binding']}")


@bench.command("small-batch")
@click.option("--batches", default="1,2", show_default=True, help="Comma-separated batch sizes m to time.")
@click.option("--big", default=512, show_default=True, type=click.IntRange(min=0),
              help="A large batch timed through GswKey.apply beside the limb path (0: skip; needs every row).")
@click.option("--rows", default=0, show_default=True, type=click.IntRange(min=0),
              help="Rows of the level to use (0: all N; the time of both paths is linear in rows).")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--log-q", "log_q", default=128, show_default=True, type=click.Choice(["64", "128"]))
def bench_small_batch(batches, big, rows, repeats, log_q):
    """fjw24's memory-mapped key at sec64's shape: one level product of a small batch, limb path against integer path."""
    from wbstream.bench.sparse import fjw24_small_batch

    try:
        ms = [int(x) for x in batches.split(",")]
    except ValueError:
        raise InputError(f"--batches must be comma-separated integers, got {batches!r}") from None
    if not ms or min(ms) < 1:
        raise InputError(f"--batches must be positive integers, got {batches!r}")
    r = fjw24_small_batch(ms, big=big, rows=rows, repeats=repeats, log_q=int(log_q))
    t = Table(title=f"One level product, key memory-mapped: {r['rows']} of {r['N']} rows x {r['width']} words mod "
                    f"2^{r['log_q']} (best of {repeats}; integer path for m <= {r['small_batch']})",
              title_justify="left")
    for col in ("m", "limb path s", "integer path s", "limb / integer", "integer ms/update"):
        t.add_column(col, justify="right")
    for row in r["rows_of"]:
        t.add_row(str(row["m"]), f"{row['old_s']:.3f}", f"{row['new_s']:.3f}", f"{row['ratio']:.2f}",
                  f"{row['new_s'] / row['m'] * 1e3:.1f}")
    fit_print(out, t)
    out.print(f"integer path faster up to m = {r['crossover']} of those measured (results bit-identical)")
    if "big" in r:
        b = r["big"]
        out.print(f"batch of {b['m']}: GswKey.apply {b['apply_s'] / b['m'] * 1e3:.1f} ms per update, "
                  f"limb path {b['old_s'] / b['m'] * 1e3:.1f} ms per update")


@bench.command("recovery")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(min=1))
def bench_recovery(repeats):
    """The relaxed recoveries side by side: their own update time against k, fjw24 end to end, report time."""
    from wbstream.bench.recovery import print_recovery

    print_recovery(out, repeats=repeats)


@bench.command("robust")
def bench_robust():
    """Space of the adaptive-robust estimators (switching-f2, dp-f2, bucket-countsketch) beside their bounds."""
    from wbstream.bench.robust import space_rows

    t = Table(title="Adaptive-robust F2: declared space against the bound (copies x one oblivious AMS copy's "
                    "counters; insertion-only f2, medians = 3)", title_justify="left")
    for col in ("problem", "algorithm", "copies", "counters", "state bits", "bound bits", "state / bound",
                "key bits"):
        t.add_column(col, justify="right")
    for r in space_rows():
        t.add_row(r["problem"], r["algorithm"], f"{r['copies']:,}", f"{r['counters']:,}", f"{r['state_bits']:,}",
                  f"{r['bound_bits']:,}", f"{r['state_bits'] / r['bound_bits']:.3f}", f"{r['key_bits']:,}")
    out.print(t)
    from wbstream.bench.robust import heavy_space_rows

    t = Table(title="Adaptive-robust l2 heavy hitters: bucket-countsketch against its bound (rows >= max(2/mu^2, "
                    "2 sqrt(Q)/mu) ln(2nQ/0.05), x width counters) beside the oblivious countsketch-l2",
              title_justify="left")
    for col in ("problem", "algorithm", "queries Q", "rows", "width", "counters", "state bits", "bound bits",
                "key bits", "counters / n"):
        t.add_column(col, justify="right")
    for r in heavy_space_rows():
        n = int(r["problem"].split()[0].split("=")[1])
        t.add_row(r["problem"], r["algorithm"], str(r["queries"]), f"{r['rows']:,}", f"{r['width']:,}",
                  f"{r['rows'] * r['width']:,}", f"{r['state_bits']:,}", f"{r['bound_bits']:,}",
                  f"{r['key_bits']:,}", f"{r['rows'] * r['width'] / n:.2f}")
    out.print(t)


@bench.command("distinct")
@click.option("--items", default=10**6, show_default=True, type=click.IntRange(1000), help="Items per throughput run.")
def bench_distinct(items: int):
    """hll and kmv against Apache DataSketches on the same items; space of every F0 and heavy-hitters sketch."""
    from wbstream.bench.distinct import f0_throughput, redis_throughput, space_table

    t = Table(title=f"Update throughput on the same {items:,} distinct items (ours: one batch; DataSketches: "
                    f"one Python update(int) call per item)", title_justify="left")
    for col in ("ours", "DataSketches", "ours items/s", "theirs items/s", "ours / theirs", "estimates ours / theirs"):
        t.add_column(col, justify="right")
    for r in f0_throughput(items=items):
        t.add_row(r["ours"], r["theirs"], f"{r['ours_per_s']:,.0f}", f"{r['theirs_per_s']:,.0f}",
                  f"{r['ratio']:.2f}x", f"{r['ours_estimate']:,.0f} / {r['theirs_estimate']:,.0f}")
    fit_print(out, t)
    redis_rows = redis_throughput(items=items)
    if redis_rows:
        t = Table(title=f"2^14-register HLLs on the same {items:,} items: real Redis against ours and DataSketches",
                  title_justify="left")
        for col in ("sketch", "how", "items/s", "vs redis-hll", "estimate"):
            t.add_column(col, justify="right")
        for r in redis_rows:
            t.add_row(r["sketch"], r["how"], f"{r['per_s']:,.0f}", f"{r['vs_redis']:.2f}x", f"{r['estimate']:,.0f}")
        fit_print(out, t)
    else:
        from wbstream.algorithms.distinct.redis_hll import RedisHll

        out.print(f"redis-hll skipped: {RedisHll.unavailable()}")
    t = Table(title="Space after 2,000,000 Zipf(1.1) insertions (robust-l0: 1,000 non-zeros), n = 10^6",
              title_justify="left")
    for col in ("algorithm", "state bits", "key bits", "bound", "bound bits", "state / bound"):
        t.add_column(col, justify="right")
    for r in space_table():
        t.add_row(r["algorithm"], f"{r['state_bits']:,}", f"{r['key_bits']:,}", r["bound"],
                  f"{r['bound_bits']:,.0f}", f"{r['state_bits'] / r['bound_bits']:.2f}")
    fit_print(out, t)


@bench.command("lowrank")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(min=1))
def bench_lowrank(repeats):
    """robust-rank update/report time and space against k and size; row sketches against numpy's SVD."""
    from wbstream.bench.lowrank import print_lowrank

    print_lowrank(out, repeats=repeats)
