"""The distributed game: s servers with shared keys, a coordinator merging plain or BFV-encrypted messages."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest
from streams import make_stream

from wbstream.adversaries.kernel import KernelInjection
from wbstream.adversaries.reduction import fpylll_available
from wbstream.distributed.game import DistributedGame, DistributedResult, VoidGame, _Play
from wbstream.engine.adversary import Adversary
from wbstream.engine.errors import SpecError, StreamError, ThreatModelError
from wbstream.engine.stream import Batch

PROBLEM = "sparse-recovery(n=512, k=3, M=1024)"


class Scatter(Adversary):
    """A k-sparse stream, each coordinate owned by a random server (so every part keeps |x_i| <= M),
    then a cancelling pair: +v at one server and -v at another, which only the sum sees as zero."""

    name = "scatter"

    def reset(self, params, rng):
        super().reset(params, rng)
        self.batches = make_stream(params.n, params.k, params.M, params.k, "uniform", int(rng.integers(1 << 30)))[1]
        self.owner = rng.integers(0, 1 << 30, size=params.n)

    def act(self, obs):
        r = obs.round
        if r <= len(self.batches):
            idx, dlt = self.batches[r - 1]
            where = self.owner[idx] % obs.servers
            return {int(i): Batch(idx[where == i], dlt[where == i]) for i in np.unique(where)}
        if r == len(self.batches) + 1:
            return {0: Batch.single(self.params.n - 1, 7)}
        if r == len(self.batches) + 2:
            return {obs.servers - 1: Batch.single(self.params.n - 1, -7)}
        return None


@pytest.mark.parametrize("algorithm, aggregation", [
    ("countsketch(rows=5, cols=24)", "plain"), ("countsketch(rows=5, cols=24)", "bfv"),
    ("vandermonde", "bfv"), ("fjw24(preset='toy')", "plain"), ("fjw24(preset='toy')", "bfv")])
def test_the_coordinator_recovers_the_sum_of_the_servers_parts(algorithm, aggregation):
    for seed in range(2):
        r = DistributedGame(PROBLEM, algorithm, Scatter, "white-box", servers=3, aggregation=aggregation,
                            seed=seed, query_every=1000).play()
        assert not r.failed and r.queries == 1 and r.reports == 1, r.failure_detail
        assert r.comm_bits_total == sum(r.comm_bits_per_server) > 0
        assert r.message_bits >= r.declared_bits_per_server  # bytes sent cover at least the declared sketch
        assert all(s > 0 for s in r.server_seconds) and r.coordinator_seconds > 0


def test_plain_results_replay_from_the_seed_and_serialise():
    play = lambda: DistributedGame(PROBLEM, "countsketch(rows=5, cols=24)", "random-sparse(rounds=5)",  # noqa: E731
                                   servers=2, executor="inline", seed=4).play()
    a, b = play(), play()
    for name in ("failed", "rounds", "updates", "queries", "comm_bits_per_server", "message_bits"):
        assert getattr(a, name) == getattr(b, name)
    assert DistributedResult.from_json(a.to_json()) == a


def test_bfv_ciphertexts_cost_far_more_than_the_plain_sketch():
    kw = dict(servers=2, executor="inline", seed=0)
    plain = DistributedGame(PROBLEM, "countsketch(rows=5, cols=24)", "random-sparse(rounds=2)", **kw).play()
    bfv = DistributedGame(PROBLEM, "countsketch(rows=5, cols=24)", "random-sparse(rounds=2)",
                          aggregation="bfv", **kw).play()
    assert bfv.message_bits > 50 * plain.message_bits  # one 4096-slot ciphertext for 120 counters


class Peek(Adversary):
    """Reads whatever its threat model allows, then stops."""

    name = "peek"
    seen: dict = {}

    def act(self, obs):
        if obs.round == 1:
            return Batch.single(3, 1)
        out = Peek.seen
        out.clear()
        for what, read in [("aggregate", obs.aggregate), ("server_state", lambda: obs.server_state(1)),
                           ("server_coins", lambda: obs.server_coins(0)), ("answers", lambda: obs.answers),
                           ("simulate", lambda: obs.simulate(np.random.default_rng(0)))]:
            try:
                out[what] = read()
            except ThreatModelError as exc:
                out[what] = exc
        return None


@pytest.mark.parametrize("threat, shown", [("adaptive", {"answers"}), ("state-only", {"answers", "aggregate"}),
                                           ("white-box", {"answers", "aggregate", "server_state", "server_coins",
                                                          "simulate"})])
def test_each_threat_level_sees_what_it_grants(threat, shown):
    DistributedGame(PROBLEM, "countsketch(rows=5, cols=24)", Peek, threat, servers=2, aggregation="bfv",
                    executor="inline").play()
    got = {k for k, v in Peek.seen.items() if not isinstance(v, ThreatModelError)}
    assert got == shown
    if "aggregate" in shown:
        assert set(Peek.seen["aggregate"]) == {"public_context", "aggregate"}
    if "server_state" in shown:  # every server got the same keys from the shared coins
        assert [d.label for d in Peek.seen["server_coins"]] == ["countsketch/buckets", "countsketch/signs"]
        assert np.array_equal(Peek.seen["server_state"]["bucket_coefficients"], Peek.seen["server_coins"][0].values)


def test_a_refused_batch_changes_no_server_and_no_truth():
    game = DistributedGame(PROBLEM, "countsketch(rows=3, cols=8)", Peek, servers=2, executor="inline")
    play = _Play(game)
    try:
        res = DistributedResult(problem="", algorithm="", adversary="", threat="", seed=0,
                                comm_bits_per_server=[0, 0], server_seconds=[0.0, 0.0])
        play.apply({0: Batch.single(5, 1000), 1: Batch.single(5, 24)}, res)  # the sum 1024 is fine
        before = [s.state()["table"].copy() for s in play.servers], play.problem.x.copy()
        with pytest.raises(StreamError, match="promise"):  # server 1's part breaks |x_i| <= M ...
            play.apply({0: Batch.single(7, 1), 1: Batch.single(9, 2000)}, res)
        with pytest.raises(StreamError, match="promise"):  # ... and here only the sum does
            play.apply({0: Batch.single(5, 24), 1: Batch.single(5, 1000)}, res)
        with pytest.raises(StreamError, match="not one of the 2 servers"):
            play.route({2: Batch.single(1, 1)}, 1)
        assert all(np.array_equal(s.state()["table"], t) for s, t in zip(play.servers, before[0]))
        assert np.array_equal(play.problem.x, before[1]) and res.updates == 2
    finally:
        play.close()


def test_bad_game_options_are_refused():
    with pytest.raises(SpecError, match="aggregation"):
        DistributedGame(PROBLEM, "countsketch", Peek, aggregation="paillier")
    with pytest.raises(SpecError, match="servers"):
        DistributedGame(PROBLEM, "countsketch", Peek, servers=0)
    with pytest.raises(SpecError, match="not mergeable"):
        DistributedGame(PROBLEM, "exact", Peek, executor="inline").play()


class ServerKernel(KernelInjection):
    """kernel-injection that reads server 0's state (white-box) and sends the batch to server 1."""

    name = "server-kernel"

    def act(self, obs):
        if self.done:
            return None

        class View:  # the single-stream view kernel-injection expects, from server 0's state
            params, algorithm = obs.params, obs.algorithm

            def state(self):
                return obs.server_state(0)
        batch = super().act(View())
        return None if batch is None else {1: batch}


@pytest.mark.skipif(not fpylll_available(), reason="needs fpylll")
def test_a_white_box_adversary_reading_a_servers_state_breaks_distributed_countsketch():
    r = DistributedGame(PROBLEM, "countsketch(rows=5, cols=16)", ServerKernel, servers=3, executor="inline").play()
    assert r.failed and r.failure_kind == "missed-not-sparse"


def test_a_plain_batch_is_split_by_coordinate_owner_so_single_stream_adversaries_play_unchanged():
    for adversary in ("random-sparse(rounds=6)", "dense(rounds=4, batch=64)"):
        r = DistributedGame(PROBLEM, "vandermonde", adversary, "oblivious", servers=3, executor="inline",
                            seed=2).play()
        assert r.stop_reason == "adversary-stopped" and not r.failed and r.rounds >= 4
    r = DistributedGame(PROBLEM, "countsketch(rows=5, cols=24)", "kernel-injection", "white-box", servers=3,
                        executor="inline", seed=0).play()  # reads the coordinator's keys through state()
    assert r.failed and r.failure_kind == "missed-not-sparse"


@pytest.mark.skipif(not fpylll_available(), reason="needs fpylll")
def test_a_white_box_adversary_that_simulates_plays_the_distributed_game():
    """kernel-split simulates the coordinator's sketch (obs.simulate) on both halves of a kernel vector."""
    r = DistributedGame("heavy-hitters(n=512, M=1024, eps=0.25)", "count-min(depth=2, width=8)", "kernel-split",
                        "white-box", servers=2, executor="inline", seed=0).play()
    assert r.failed and r.failure_kind == "false-heavy"


def test_servers_as_dask_actors_play_the_same_game_as_inline_servers():
    options = dict(servers=2, seed=5)
    dask = DistributedGame(PROBLEM, "fjw24", "random-sparse(rounds=3)", "white-box", executor="dask", **options).play()
    inline = DistributedGame(PROBLEM, "fjw24", "random-sparse(rounds=3)", "white-box", executor="inline",
                             **options).play()
    assert (dask.failed, dask.rounds, dask.updates, dask.comm_bits_per_server) == \
        (inline.failed, inline.rounds, inline.updates, inline.comm_bits_per_server)


def test_wbstream_play_runs_the_distributed_game():
    import json

    from click.testing import CliRunner

    from wbstream.cli import main

    result = CliRunner().invoke(main, ["play", "--problem", PROBLEM, "--algorithm", "countsketch(rows=5, cols=24)",
                                       "--adversary", "kernel-injection", "--servers", "3", "--trials", "2",
                                       "--executor", "inline", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["failures"] == 2 and summary["extra"]["servers"] == 3
    assert summary["extra"]["bits sent per server (median)"] > 0


def test_a_game_that_fails_to_start_leaves_no_server_process_behind():
    import multiprocessing

    from wbstream.crypto.he import HEError
    before = set(multiprocessing.active_children())
    with pytest.raises(HEError, match="poly_degree"):  # refused after the two server processes started
        DistributedGame(PROBLEM, "countsketch(rows=3, cols=8)", Peek, servers=2, aggregation="bfv",
                        poly_degree=1000).play()
    assert set(multiprocessing.active_children()) <= before


def test_messages_travel_as_npz_and_a_hostile_one_is_refused_without_running_anything():
    import pickle

    from wbstream.distributed.wire import WireError, read_bfv, read_plain

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle ran')",))

    for bad in (pickle.dumps(Boom()), b"", b"PK\x03\x04 not a zip", pickle.dumps({"fingerprint": "x"})):
        with pytest.raises(WireError, match="malformed"):
            read_plain(bad)
        with pytest.raises(WireError, match="malformed"):
            read_bfv(bad)
    game = DistributedGame(PROBLEM, "countsketch(rows=5, cols=24)", "random-sparse(rounds=2)", "white-box",
                           servers=2, executor="inline", seed=0)
    play = _Play(game)
    try:
        play.servers[0].update(np.array([3]), np.array([5]))
        fingerprint, values = read_plain(play.servers[0].message()[0])
        assert fingerprint == play.coordinator.merge_fingerprint()
        assert values["table"].sum() != 0 and values["table"].dtype == np.int64
    finally:
        play.close()


def test_a_batch_over_max_batch_is_refused_in_the_distributed_game():
    from wbstream.engine.game import Budget

    kw = dict(servers=2, executor="inline", seed=0)
    ok = DistributedGame(PROBLEM, "countsketch(rows=5, cols=24)", "dense(rounds=2, batch=8)",
                         budget=Budget(max_batch=8), **kw).play()
    assert ok.updates == 16 and ok.budget_max_batch == 8
    with pytest.raises(StreamError, match="round 1: a batch of 9 updates exceeds the budget's max_batch = 8"):
        DistributedGame(PROBLEM, "countsketch(rows=5, cols=24)", "dense(rounds=2, batch=9)",
                        budget=Budget(max_batch=8), **kw).play()


class Sabotage(Adversary):
    """Sends a batch touching every server each round; before round 2 it sends ``signal`` to server 1's process."""

    name = "sabotage"
    signal = None
    pids: list = []

    def act(self, obs):
        if obs.round == 2:
            pid = obs._g.servers[1]._proc.pid
            Sabotage.pids.append(pid)
            os.kill(pid, self.signal)
            if self.signal == signal.SIGKILL:
                obs._g.servers[1]._proc.join(10)
        return Batch(np.arange(4), np.array([1, -1, 2, -2])) if obs.round <= 3 else None


def _play_sabotaged(sig):
    """Play with ``sig`` sent to server 1 in round 2; the outcome (an exception or a result) within 60 s."""
    Sabotage.signal, Sabotage.pids = sig, []
    outcome = []

    def play():
        try:
            outcome.append(DistributedGame(PROBLEM, "countsketch(rows=3, cols=8)", Sabotage, "white-box",
                                           servers=2, executor="process").play())
        except Exception as exc:  # noqa: BLE001
            outcome.append(exc)

    worker = threading.Thread(target=play, daemon=True)
    worker.start()
    try:
        worker.join(60)  # the old 600 s request timeout would stall here
        return outcome
    finally:
        for pid in Sabotage.pids:  # let a stopped server go, then end it
            for s in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(pid, s)
                except ProcessLookupError:
                    pass
        worker.join(30)


def test_a_stopped_server_fails_the_game_at_once_naming_the_server():
    outcome = _play_sabotaged(signal.SIGSTOP)
    assert outcome, "the game stalled on a stopped server"
    assert isinstance(outcome[0], VoidGame)
    assert "server 1" in str(outcome[0]) and "is stopped" in str(outcome[0])


def test_a_server_dying_mid_batch_voids_the_game_instead_of_judging_partial_sketches():
    outcome = _play_sabotaged(signal.SIGKILL)
    assert outcome and isinstance(outcome[0], VoidGame), outcome
    text = str(outcome[0])
    assert "void" in text and "server 1" in text and "died" in text and "round 2" in text


def test_request_timeouts_scale_with_the_work():
    from wbstream.distributed.servers import BASE_TIMEOUT, request_timeout

    assert request_timeout(0) == BASE_TIMEOUT < 60 and request_timeout(10**7) > request_timeout(10**4)
