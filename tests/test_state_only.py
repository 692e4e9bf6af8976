"""The lesson of state-only vs white-box: an encrypted CountSketch held by an untrusted aggregator
resists an adversary who sees states and ciphertexts, and falls to one who reads the key-generation
coins; fjw24 has no secret to read and holds at both levels. The column probe shows it is the
encryption that protects: the same state-only adversary, without any key, breaks the plain aggregate."""

from __future__ import annotations

import numpy as np
import pytest

from wbstream.adversaries.he_key import HEKeyRecovery, decrypt_table
from wbstream.adversaries.injection import sparse_target, target_plus
from wbstream.adversaries.reduction import fpylll_available, short_kernel_vectors
from wbstream.algorithms.sparse.countsketch import CountSketchRecovery
from wbstream.algorithms.sparse.encrypted_countsketch import SECRET_LABEL
from wbstream.crypto.he import BfvParams, HEError
from wbstream.distributed.game import DistributedGame
from wbstream.engine.adversary import Adversary
from wbstream.engine.coins import Coins
from wbstream.engine.errors import ThreatModelError
from wbstream.engine.game import Game
from wbstream.engine.observation import AlgorithmInfo, Observation
from wbstream.engine.registry import algorithms
from wbstream.engine.stream import Batch
from wbstream.engine.threat import STATE_ONLY, WHITE_BOX

pytestmark = pytest.mark.skipif(not fpylll_available(), reason="the attack needs fpylll (wbstream[attacks])")

PROBLEM = "sparse-recovery(n=512, k=2, M=1024)"
ENCRYPTED = "encrypted-countsketch(rows=5, cols=16)"
SEEDS = range(4)
SEEN: list[HEKeyRecovery] = []


class Recording(HEKeyRecovery):
    """he-key-recovery that leaves itself behind for the test to inspect."""

    def reset(self, params, rng):
        super().reset(params, rng)
        SEEN.append(self)


def play(threat, seed):
    SEEN.clear()
    result = Game(PROBLEM, ENCRYPTED, Recording, threat, seed=seed, record_transcript=True).play()
    return result, SEEN[-1]


def true_sketch(result, seed):
    """The plaintext CountSketch table of the game's final vector, under the game's hash keys."""
    from wbstream.engine.problems import SparseRecovery
    p = SparseRecovery(n=512, k=2, M=1024)
    cs = CountSketchRecovery(p.params, Coins.for_game(bytes.fromhex(result.game_key)), rows=5, cols=16)
    for _, idx, dlt in result.transcript.batches[:1]:  # the aggregate was last filled after round 1
        cs.update(np.array(idx, np.int64), np.array(dlt, np.int64))
    return cs.table.reshape(-1)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_white_box_adversary_reads_the_key_coins_decrypts_and_breaks_it(seed):
    result, adv = play("white-box", seed)
    assert result.failed and result.failure_kind == "missed-not-sparse" and result.first_failure_round == 2
    assert adv.decrypt_error is None
    assert np.array_equal(adv.decrypted, true_sketch(result, seed))  # the aggregator's secret, in the clear


@pytest.mark.parametrize("seed", SEEDS)
def test_a_state_only_adversary_sees_ciphertexts_only_and_the_sketch_holds(seed):
    result, adv = play("state-only", seed)
    assert not result.failed and result.rounds == 2
    assert adv.decrypted is None and "secret key" in adv.decrypt_error
    assert adv.kernel_vector is not None  # it did stream its best guess at a kernel vector


def test_state_only_shows_the_ciphertexts_but_not_the_coins():
    from wbstream.engine.problems import SparseRecovery
    p = SparseRecovery(n=512, k=2, M=1024)
    cls = algorithms.get("encrypted-countsketch")
    alg = cls(p.params, Coins.from_seed(0, "algorithm"), rows=5, cols=16)
    alg.update(np.array([1]), np.array([2]))
    alg.query()
    info = AlgorithmInfo(cls.name, ENCRYPTED, cls)
    state = Observation(STATE_ONLY, p.params, info, alg).state()
    assert set(state["aggregate"]) == {"table/0"} and isinstance(state["public_context"], bytes)
    assert "bucket_coefficients" not in state  # the hash keys are coins, not state
    with pytest.raises(ThreatModelError, match="state-only threat model does not reveal the algorithm's coins"):
        _ = Observation(STATE_ONLY, p.params, info, alg).coins
    labels = [d.label for d in Observation(WHITE_BOX, p.params, info, alg).coins]
    assert labels == ["countsketch/buckets", "countsketch/signs", SECRET_LABEL]


def test_fjw24_has_no_secret_the_white_box_view_adds_nothing_to_the_state():
    from wbstream.engine.problems import SparseRecovery
    p = SparseRecovery(n=1024, k=2, M=1 << 20)
    cls = algorithms.get("fjw24")
    alg = cls(p.params, Coins.from_seed(0, "algorithm"), preset="toy")
    info = AlgorithmInfo(cls.name, "fjw24", cls)
    state = Observation(STATE_ONLY, p.params, info, alg).state()
    (draw,) = Observation(WHITE_BOX, p.params, info, alg).coins
    assert draw.label == "fjw24/key" and np.array_equal(draw.values, state["key"])  # every coin is already state


@pytest.mark.parametrize("threat, adversary, preset, seeds", [
    ("state-only", "finite-difference", "toy", 2), ("white-box", "finite-difference", "toy", 2),
    ("white-box", "lattice(seconds=1)", "moderate", 1)])
def test_fjw24_holds_at_both_levels(threat, adversary, preset, seeds):
    """The toy preset is labelled breakable by lattice reduction (docs/sparse-recovery.md): moderate for lattice.
    Vandermonde, so the finite difference does fool the recovery and only the tester stands."""
    for seed in range(seeds):
        r = Game("sparse-recovery(n=1024, k=2, M=1048576)", f"fjw24(preset='{preset}', recovery='vandermonde')",
                 adversary, threat,
                 seed=seed).play()
        assert not r.failed, (threat, adversary, seed, r.failure_kind)


# -- the encryption, not the missing keys, is what stops a state-only adversary -------------------

ROWS, COLS = 4, 12

class ColumnProbe(Adversary):
    """A distributed-game adversary that needs no key coin when the aggregate is in the clear.

    Round r streams ``e_{c_r}`` (and takes back ``e_{c_{r-1}}``), so after its report the
    aggregate is column ``c_r`` of the sketch matrix. Reading d columns (plain entries, or
    ciphertexts it decrypts with whatever its view holds), it streams a k-sparse target
    plus a short kernel vector on the probed columns: the sketch of the target, for a
    vector that is not k-sparse.
    """

    name = "column-probe"
    needs = STATE_ONLY

    def reset(self, params, rng):
        super().reset(params, rng)
        self.read_error, self.columns_read, self.z = None, [], None
        self.probes = rng.choice(params.n, size=int(1.25 * ROWS * COLS) + 8, replace=False).astype(np.int64)

    def _table(self, obs):
        """The merged table, read in the clear or decrypted with the key the view holds (else HEError)."""
        view = obs.aggregate()
        if "table" in view:
            return np.array(view["table"]).reshape(-1)  # a copy: the view is live
        return decrypt_table(obs, view, self.params, ROWS * COLS, obs.servers, BfvParams(4096))

    def act(self, obs):
        r, d = obs.round, len(self.probes)
        if 1 < r <= d + 1:
            try:
                self.columns_read.append(self._table(obs))
            except HEError as exc:
                self.read_error = str(exc)
                return None
        if r <= d:
            idx, dlt = [self.probes[r - 1]], [1]
            if r > 1:
                idx, dlt = idx + [self.probes[r - 2]], dlt + [-1]
            return Batch(np.array(idx, np.int64), np.array(dlt, np.int64))
        if r > d + 1:
            return None
        A = np.stack(self.columns_read, axis=1)
        good = [z for z in short_kernel_vectors(A[np.any(A != 0, axis=1)]) if np.abs(z).max() <= self.params.M]
        free = np.setdiff1d(np.arange(self.params.n), self.probes)
        support, values = sparse_target(self.rng, self.params)
        support = free[support % len(free)]
        self.z = good[0]
        batch = target_plus(self.rng, support, values, self.probes, self.z)
        return Batch(np.r_[batch.indices, self.probes[-1]], np.r_[batch.deltas, -1])  # and take back the last probe


def probe_game(aggregation, threat):
    SEEN.clear()
    rec = type("RecordingProbe", (ColumnProbe,), {"reset": lambda self, p, rng: (ColumnProbe.reset(self, p, rng),
                                                                                   SEEN.append(self))})
    r = DistributedGame(PROBLEM, f"countsketch(rows={ROWS}, cols={COLS})", rec, threat, servers=2, aggregation=aggregation,
                        executor="inline", seed=3).play()
    return r, SEEN[-1]


def test_without_encryption_a_state_only_adversary_reads_the_sketch_and_needs_no_key():
    """The plain aggregate shows no key, yet probing it column by column breaks CountSketch."""
    r, adv = probe_game("plain", "state-only")
    assert len(adv.columns_read) == len(adv.probes) and adv.read_error is None
    assert r.failed and r.failure_kind == "missed-not-sparse" and r.first_failure_round == len(adv.probes) + 1


def test_with_bfv_the_same_state_only_adversary_reads_nothing_and_the_sketch_holds():
    r, adv = probe_game("bfv", "state-only")
    assert adv.columns_read == [] and "secret key" in adv.read_error
    assert not r.failed and r.stop_reason == "adversary-stopped"


def test_with_bfv_a_white_box_adversary_decrypts_with_the_logged_key_and_breaks_it():
    r, adv = probe_game("bfv", "white-box")
    assert len(adv.columns_read) == len(adv.probes) and adv.read_error is None
    assert r.failed and r.failure_kind == "missed-not-sparse"


def test_encrypted_countsketch_servers_stay_within_the_plan_on_any_valid_stream():
    """+M and -M batches on one coordinate: the sum stays 0, and no server's part leaves [-M, M]."""
    from wbstream.engine.problems import SparseRecovery
    p = SparseRecovery(n=4, k=2, M=2)
    alg = algorithms.get("encrypted-countsketch")(p.params, Coins.from_seed(0, "algorithm"), rows=3, cols=4)
    for r in range(12):
        alg.update(np.array([1]), np.array([2 if r % 2 == 0 else -2]))
    alg.update(np.array([3, 2]), np.array([1, -1]))
    assert alg.query().indices.tolist() == [2, 3]
