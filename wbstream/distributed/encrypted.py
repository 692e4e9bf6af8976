"""Encrypted aggregation of mergeable sketches: servers encrypt, an untrusted aggregator adds, the key holder decrypts.

A sketch's merged entries (``merge_moduli``) travel as residues: an integer entry
``v`` with ``|v| <= B`` (``merge_entry_bound``) as ``v + B`` in ``[0, 2B]``, an
entry mod q as itself. One :class:`~wbstream.crypto.he.SlotPlan` per entry keeps
every slot sum below t, so the decrypted totals are exact; the key holder turns
them back into the merged sketch (``total - c B`` for c messages, or ``total mod q``)
and loads it into its own copy of the sketch, which answers the query.

>>> from wbstream.engine.coins import Coins
>>> from wbstream.engine.problems import SparseRecovery
>>> from wbstream.algorithms.sparse.countsketch import CountSketchRecovery as CS
>>> from wbstream.crypto.he import BfvKeyHolder, BfvParams
>>> p = SparseRecovery(n=100, k=2, M=10)
>>> servers = [CS(p.params, Coins.from_seed(0, "alg"), rows=3, cols=8) for _ in range(3)]
>>> for i, s in enumerate(servers):
...     s.update(np.array([10 * i]), np.array([i - 1]))
>>> agg = EncryptedAggregation(servers[0], 3, BfvKeyHolder.generate(BfvParams(4096)))
>>> state = agg.start()
>>> for s in servers:
...     agg.add(state, agg.encrypt(s))
>>> coordinator = CS(p.params, Coins.from_seed(0, "alg"), rows=3, cols=8)
>>> agg.decrypt_into(state, coordinator).query()
SparseVector(indices=[0, 20], values=[-1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wbstream.crypto.he import Aggregator, BfvKeyHolder, EncryptedMessage, HEError, SlotPlan, encrypt_vector
from wbstream.engine.algorithm import MAX, StreamingAlgorithm

#: The coin label under which a key holder's BFV secret context is logged (``Coins.adopt``).
SECRET_LABEL = "he/secret-context"


@dataclass(frozen=True)
class Field:
    """One merged entry: its name, shape, modulus (None: integers) and residue offset."""

    name: str
    shape: tuple[int, ...]
    modulus: int | None
    offset: int

    @property
    def residue_range(self) -> int:
        return self.modulus if self.modulus is not None else 2 * self.offset + 1


def sketch_fields(alg: StreamingAlgorithm) -> list[Field]:
    """The merged entries of ``alg`` as residue fields."""
    moduli = alg.merge_moduli()
    if not moduli:
        raise HEError(f"{alg.name} declares no merged entries: it cannot be aggregated")
    if MAX in moduli.values():
        raise HEError(f"{alg.name} merges by maximum (HyperLogLog registers), which additive encryption "
                      f"cannot compute: aggregate it in the plain")
    state = alg.state()
    bound = alg.merge_entry_bound()
    return [Field(name, np.shape(state[name]), mod, 0 if mod is not None else bound) for name, mod in moduli.items()]


def residues(alg: StreamingAlgorithm, field: Field) -> np.ndarray:
    """The entry as uint64 residues in ``[0, residue_range)``."""
    v = np.asarray(alg.state()[field.name]).reshape(-1)
    if field.modulus is not None:
        return v.astype(np.uint64)
    if v.size and np.abs(v).max() > field.offset:
        raise HEError(f"{field.name} has an entry of size {int(np.abs(v).max())} > the bound {field.offset}: "
                      f"the slot plan would not hold it")
    return (v.astype(np.int64) + field.offset).astype(np.uint64)


class ServerEncryptor:
    """What a server needs to encrypt: the public context, key id, slot plans and sketch fingerprint (no secret)."""

    def __init__(self, public: bytes, key_id: str, fields: list[Field], plans: dict[str, SlotPlan], tag: str):
        self.public, self.key_id, self.fields, self.plans, self.tag = public, key_id, fields, plans, tag
        self._context = None

    def __getstate__(self):  # a TenSEAL context does not pickle: rebuild it from the public bytes
        return {**self.__dict__, "_context": None}

    def encrypt(self, alg: StreamingAlgorithm) -> dict[str, EncryptedMessage]:
        """A server's message: each merged entry encrypted under the public key."""
        if alg.merge_fingerprint() != self.tag:
            raise HEError(f"mismatched parameters or keys: this {alg.name} sketch is not the one the "
                          f"aggregation was set up for")
        if self._context is None:
            self._context = Aggregator(self.public, self.plans[self.fields[0].name]).context
        return {f.name: encrypt_vector(self._context, self.key_id, self.plans[f.name], residues(alg, f), self.tag)
                for f in self.fields}


class EncryptedAggregation:
    """The BFV pipeline for one sketch layout and ``servers`` servers; ``keys`` is the key holder.

    The aggregator's whole state (``start()``) is one :class:`Aggregator` per field:
    ciphertexts and the public context, nothing secret.
    """

    def __init__(self, template: StreamingAlgorithm, servers: int, keys: BfvKeyHolder):
        self.keys, self.servers = keys, servers
        self.tag = template.merge_fingerprint()
        self.fields = sketch_fields(template)
        self.plans = {f.name: SlotPlan(int(np.prod(f.shape)), f.residue_range, servers, keys.params)
                      for f in self.fields}
        self.public = keys.public_bytes()
        self.encryptor = ServerEncryptor(self.public, keys.key_id, self.fields, self.plans, self.tag)

    def start(self) -> dict[str, Aggregator]:
        """A fresh, empty aggregate (it holds the public context only)."""
        return {f.name: Aggregator(self.public, self.plans[f.name], self.tag) for f in self.fields}

    def encrypt(self, alg: StreamingAlgorithm) -> dict[str, EncryptedMessage]:
        """A server's message (see :class:`ServerEncryptor`)."""
        return self.encryptor.encrypt(alg)

    def add(self, aggregate: dict[str, Aggregator], message: dict[str, EncryptedMessage]) -> None:
        """Add one server's message; every field is checked before any is added (else unchanged)."""
        if not isinstance(message, dict) or set(message) != set(aggregate):
            raise HEError(f"a message must carry the fields {sorted(aggregate)}")
        loaded = {name: aggregate[name].load(message[name]) for name in aggregate}
        for name, vecs in loaded.items():
            aggregate[name].add_loaded(vecs)

    @staticmethod
    def serialized(aggregate: dict[str, Aggregator]) -> dict[str, bytes]:
        """The aggregate's ciphertexts as the aggregator stores them: ``{"field/j": bytes}``."""
        return {f"{name}/{j}": ct for name, a in aggregate.items() for j, ct in enumerate(a.aggregate())}

    def decrypt_into(self, aggregate: dict[str, Aggregator], alg: StreamingAlgorithm) -> StreamingAlgorithm:
        """Decrypt the sums into ``alg`` (an empty sketch with the same keys) and return it."""
        if alg.merge_fingerprint() != self.tag:
            raise HEError("mismatched parameters or keys: the coordinator's sketch is not the servers'")
        values = {}
        for f in self.fields:
            count = aggregate[f.name].count
            totals = self.keys.decrypt(aggregate[f.name].aggregate(), self.plans[f.name])
            if f.modulus is not None:
                flat = np.array([int(v) % f.modulus for v in totals], dtype=object)
            else:
                flat = np.array([int(v) - count * f.offset for v in totals], dtype=object)
            dtype = np.asarray(alg.state()[f.name]).dtype
            values[f.name] = flat.astype(dtype).reshape(f.shape) if f.shape else flat.astype(dtype)[0]
        alg.load_merged(values)
        return alg

    def ciphertext_bytes(self, message: dict[str, EncryptedMessage]) -> int:
        return sum(m.nbytes for m in message.values())
