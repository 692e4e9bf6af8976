"""Print the two performance ratios of issue #2, each side measured in the same run.

    python benchmarks/perf_ratios.py            (or: make perf)
"""

from wbstream.perf import batch_speedup, engine_overhead


def main() -> None:
    for label, kwargs in [("no queries until the end", {"query_every": 100_000}),
                          ("a query every round", {"query_every": 1})]:
        e = engine_overhead(rounds=100_000, **kwargs)
        print(f"engine overhead, adaptive no-op game of {e['rounds']:,} single-update rounds, {label}: "
              f"game {e['game_s']:.3f} s vs bare loop {e['bare_s']:.3f} s -> {e['ratio']:.1f}x (target <= 5x)")
    b = batch_speedup()
    print(f"batch path, countsketch(rows=5, cols=64), n=100000: batches of 10^4 "
          f"{b['batch_updates_per_s']:,.0f} updates/s vs one per call {b['single_updates_per_s']:,.0f} "
          f"updates/s -> {b['ratio']:.0f}x (target >= 20x)")


if __name__ == "__main__":
    main()
