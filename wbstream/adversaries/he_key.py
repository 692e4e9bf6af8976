"""Against an encrypted CountSketch: read the key-generation coins, decrypt, inject a kernel vector.

Round 1 streams a k-sparse target; its answer fills the aggregator's ciphertexts.
Round 2 depends on what the threat model shows:

* ``white-box``: the coin log holds the BFV secret context (label
  ``he/secret-context``) and the CountSketch hash keys. The adversary rebuilds the
  key holder, decrypts the aggregate (``decrypted``: the sketch the aggregator was
  meant never to learn), rebuilds the sketch matrix and streams a short kernel
  vector z: the sketch is unchanged, so the answer is the target for a vector
  that is not k-sparse.
* ``state-only``: only the public context and the ciphertexts. Decryption fails
  (``decrypt_error``), and the hash keys must be guessed; the guessed matrix's
  kernel vector is not in the real kernel, and CountSketch's verification answers
  ``NOT_SPARSE``, correctly.
"""

from __future__ import annotations

import numpy as np

from wbstream.adversaries.injection import lattice_ready, sparse_target
from wbstream.adversaries.reduction import short_kernel_vectors
from wbstream.algorithms.hashing import PRIME
from wbstream.algorithms.sparse.countsketch import CountSketchRecovery
from wbstream.algorithms.sparse.encrypted_countsketch import SECRET_LABEL, EncryptedCountSketch
from wbstream.crypto.he import BfvKeyHolder, BfvParams, HEError, SlotPlan
from wbstream.engine.adversary import Adversary
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch
from wbstream.engine.threat import STATE_ONLY


def logged(coins, label: str):
    """The values of the first coin draw under ``label``."""
    return next(d.values for d in coins if d.label == label)


def decrypt_table(obs, view, problem_params, entries: int, servers: int, bfv: BfvParams) -> np.ndarray:
    """The plaintext sum of ``servers`` CountSketch tables from an aggregator's view (``public_context``, ``aggregate``).

    Decrypts with the BFV secret context from the coin log when the threat model shows
    coins; otherwise only the public context is at hand, and :class:`HEError` says it
    holds no secret key. Entries travel shifted by the public ``n M``.
    """
    offset = problem_params.n * problem_params.M
    plan = SlotPlan(entries, 2 * offset + 1, servers, bfv)
    secret = bytes(logged(obs.coins, SECRET_LABEL)) if obs.threat.grants("coins") else view["public_context"]
    keys = BfvKeyHolder.from_secret_bytes(secret, bfv)
    totals = keys.decrypt(tuple(view["aggregate"][f"table/{j}"] for j in range(plan.ciphertexts)), plan)
    return np.array([int(v) - servers * offset for v in totals], dtype=np.int64)


@adversaries.register
class HEKeyRecovery(Adversary):
    """Decrypt the aggregate with the logged secret key and inject a kernel vector (white-box); guess (state-only).

    >>> from wbstream.engine.game import Game
    >>> g = "sparse-recovery(n=512, k=2, M=1024)", "encrypted-countsketch(rows=5, cols=16)", "he-key-recovery"
    >>> Game(*g, "white-box", seed=0).play().failure_kind, Game(*g, "state-only", seed=0).play().failed
    ('missed-not-sparse', False)
    """

    name = "he-key-recovery"
    needs = STATE_ONLY

    def applies_to(self, algorithm_cls, problem_cls):
        if not issubclass(algorithm_cls, EncryptedCountSketch):
            return False, "it attacks the encrypted CountSketch's key coins only"
        return lattice_ready()

    def reset(self, params, rng):
        super().reset(params, rng)
        self.decrypted: np.ndarray | None = None
        self.decrypt_error: str | None = None
        self.kernel_vector: np.ndarray | None = None

    def _decrypt(self, obs, state) -> None:
        """Decrypt the aggregate table with the secret context from the coins, or try the public one."""
        params = BfvParams(int(state["poly_degree"]), int(state["plain_modulus"]))
        try:
            self.decrypted = decrypt_table(obs, state, self.params, int(state["rows"]) * int(state["cols"]),
                                           int(state["servers"]), params)
        except HEError as exc:
            self.decrypt_error = str(exc)

    def act(self, obs):
        if obs.round == 1:
            self.support, self.values = sparse_target(self.rng, self.params)
            return Batch(self.support, self.values)
        if obs.round > 2:
            return None
        state = obs.state()
        self._decrypt(obs, state)
        rows, cols = int(state["rows"]), int(state["cols"])
        if obs.threat.grants("coins"):
            buckets, signs = logged(obs.coins, "countsketch/buckets"), logged(obs.coins, "countsketch/signs")
        else:  # keys are coins: a state-only adversary can only guess them
            buckets = self.rng.integers(0, PRIME, size=(rows, 2))
            signs = self.rng.integers(0, PRIME, size=(rows, 4))
        sketch_state = {"table": np.zeros((rows, cols), np.int64), "bucket_coefficients": np.asarray(buckets),
                        "sign_coefficients": np.asarray(signs)}
        free = np.setdiff1d(np.arange(self.params.n, dtype=np.int64), self.support)
        d = min(len(free), int(1.25 * rows * cols) + 8)
        columns = np.sort(self.rng.choice(free, size=d, replace=False))
        A = CountSketchRecovery.sketch_columns(self.params, sketch_state, columns)
        good = [z for z in short_kernel_vectors(A[np.any(A != 0, axis=1)]) if np.abs(z).max() <= self.params.M]
        if not good:
            return None
        self.kernel_vector = good[0]
        nz = np.flatnonzero(good[0])
        return Batch(columns[nz], good[0][nz])
