"""Every bad value in a spec: one line on stderr naming the parameter and its range, exit status 2.

Each case runs the real ``wbstream`` command in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PLAY = [sys.executable, "-m", "wbstream.cli", "play", "--trials", "1"]

# (arguments after `play`, words the one-line message must contain)
CASES = [
    (["--problem", "sparse-recovery(n=-5)", "--algorithm", "countsketch", "--adversary", "random-sparse"],
     ["sparse-recovery", "n must be >= 1", "got -5"]),
    (["--algorithm", "countsketch(rows=0)", "--adversary", "random-sparse"],
     ["countsketch", "rows must be >= 1", "rows=0"]),
    (["--problem", "sparse-recovery(n=64, k=2)", "--algorithm", "fjw24(preset='nosuch')", "--adversary", "random-sparse"],
     ["fjw24", "preset must be one of toy, moderate, sec64, sec128, sec128-wide", "'nosuch'"]),
    (["--problem", "f2(eps=5)", "--algorithm", "ams", "--adversary", "dense"],
     ["f2", "eps must be in (0, 1)", "5.0"]),
    (["--problem", "f2(M=0)", "--algorithm", "ams", "--adversary", "dense"],
     ["f2", "M must be in [1, 2**62)", "got 0"]),
    (["--algorithm", "countsketch", "--adversary", "lattice(seconds=-1)"],
     ["lattice", "seconds must be > 0", "seconds=-1"]),
    (["--algorithm", "countsketch", "--adversary", "random-sparse(rounds=-2)"],
     ["random-sparse", "rounds must be >= 0", "rounds=-2"]),
    (["--problem", "distinct-elements", "--algorithm", "hll", "--adversary", "dense"],
     ["hll", "insertion_only must be True", "turnstile"]),
    (["--algorithm", "countsketch", "--adversary", "kernel-injection", "--threat", "oblivious"],
     ["kernel-injection", "needs the white-box threat model"]),
    (["--algorithm", "countsketch", "--adversary", "random-sparse", "--max-rounds", "-1"],
     ["budget rounds", "non-negative"]),
]


def one_line_error(cmd: list[str]) -> str:
    """Run ``cmd``; assert exit status 2, nothing on stdout, one ``Error:`` line and no traceback on stderr."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), p.stderr
    return lines[0]


@pytest.mark.parametrize("args, words", CASES, ids=[words[0] + ":" + words[1] for _, words in CASES])
def test_play_bad_value_is_one_line_exit_2(args, words):
    line = one_line_error(PLAY + args)
    for w in words:
        assert w in line, line


def test_sparse_recovery_blames_n_before_k():
    line = one_line_error(PLAY + ["--problem", "sparse-recovery(n=-5)", "--algorithm", "countsketch",
                                  "--adversary", "random-sparse"])
    assert "sparsity k" not in line


def test_arena_bad_suite_file_exits_2_before_any_game(tmp_path):
    suite = tmp_path / "bad.toml"
    suite.write_text('[[matchup]]\nproblem = "sparse-recovery(n=64, k=2, M=8)"\nalgorithm = "exact"\n'
                     'adversary = "random-sparse(rounds=1)"\nthreat = "oblivious"\n\n'
                     '[[matchup]]\nproblem = "sparse-recovery(n=64, k=2, M=8)"\nalgorithm = "countsketch(rows=0)"\n'
                     'adversary = "random-sparse(rounds=1)"\nthreat = "oblivious"\n')
    out = tmp_path / "out"
    line = one_line_error([sys.executable, "-m", "wbstream.cli", "arena", "--suite", str(suite), "--serial",
                           "--out", str(out), "--no-report"])
    assert "matchup 2" in line and "rows must be >= 1" in line
    assert not (out / "results.sqlite").exists()  # refused before the first matchup was played


def test_replay_bad_record_exits_2(tmp_path):
    record = tmp_path / "games.jsonl"
    record.write_text(json.dumps({"problem": "sparse-recovery(n=-5)"}) + "\n")
    line = one_line_error([sys.executable, "-m", "wbstream.cli", "replay", str(record)])
    assert "record" in line.lower() or "field" in line.lower()
