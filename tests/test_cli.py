"""The wbstream command: list, play (text and JSON), replay, and its refusals."""

import json

from click.testing import CliRunner

from wbstream.cli import main

PROBLEM = "sparse-recovery(n=512, k=2, M=1024)"
ALG = "countsketch(rows=5, cols=16)"


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_list_shows_every_kind_and_what_adversaries_need():
    res = run("list", "--json")
    assert res.exit_code == 0
    cat = json.loads(res.output)
    assert {"countsketch", "ams", "exact"} <= {a["name"] for a in cat["algorithms"]}
    needs = {a["name"]: a["needs"] for a in cat["adversaries"]}
    assert needs["kernel-injection"] == "white-box" and needs["random-sparse"] == "oblivious"
    assert {"sparse-recovery", "f2", "distinct-elements"} <= {p["name"] for p in cat["problems"]}
    assert [t["name"] for t in cat["threat_models"]] == ["oblivious", "adaptive", "state-only", "white-box"]
    text = run("list")
    assert text.exit_code == 0 and "kernel-injection" in text.output and "white-box" in text.output


def test_play_json_has_the_promised_keys_and_the_white_box_attack_wins():
    res = run("play", "--problem", PROBLEM, "--algorithm", ALG, "--adversary", "kernel-injection",
              "--threat", "white-box", "--trials", "3", "--seed", "5", "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    for key in ("failure_rate", "failure_ci", "trials", "median_rounds_to_failure",
                "space_state_bits", "space_key_bits", "update_ns_median"):
        assert key in s
    assert s["trials"] == 3 and s["failure_rate"] == 1.0 and s["median_rounds_to_failure"] == 1
    assert s["failure_ci"][0] > 0.3 and s["space_key_bits"] > 0 and s["seeds"] == [5, 6, 7]


def test_play_text_summary_and_replay_round_trip(tmp_path):
    out = tmp_path / "games.jsonl"
    res = run("play", "--problem", PROBLEM, "--algorithm", ALG, "--adversary", "random-sparse(rounds=5)",
              "--threat", "oblivious", "--trials", "2", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "failure rate" in res.output and "Wilson 95% CI" in res.output
    assert len(out.read_text().splitlines()) == 2
    again = run("replay", str(out), "--game", "1")
    assert again.exit_code == 0 and "every answer matches" in again.output
    assert run("replay", str(out), "--game", "7").exit_code != 0


def test_play_refuses_bad_input_with_a_clear_message():
    cases = [
        (["--adversary", "kernel-injection", "--threat", "oblivious"], "needs the white-box"),
        (["--adversary", "nosuch"], "unknown adversary 'nosuch'"),
        (["--adversary", "dense(rounds=3"], "unbalanced parentheses"),
        (["--adversary", "dense", "--max-rounds", "-1"], "budget rounds must be a non-negative"),
        (["--adversary", "dense", "--max-batch", "0"], "budget max_batch must be a positive integer"),
        (["--adversary", "dense", "--max-seconds", "1e300"], "budget seconds must be a number in [0, 10000000]"),
        (["--adversary", "dense(batch=64)", "--max-batch", "10"],
         "a batch of 64 updates exceeds the budget's max_batch = 10"),
    ]
    for extra, message in cases:
        res = CliRunner().invoke(main, ["play", "--problem", PROBLEM, "--algorithm", ALG, "--trials", "1", *extra])
        assert res.exit_code != 0
        assert message in res.output, (extra, res.output)
