"""Encrypted aggregation of sketch vectors with TenSEAL BFV and SIMD batching (docs/references.md#bfv).

Servers encrypt their sketch vectors under a BFV public key; an untrusted
aggregator adds the ciphertexts slot-wise; the key holder decrypts the sum.

**No slot wraps.** BFV adds slots mod the plaintext modulus t. A sketch entry is
first mapped to a residue in ``[0, R)`` (an integer entry in ``[-B, B]`` is shifted
by B, so ``R = 2B + 1``; an entry mod q is already one, ``R = q``), and each
residue is split into ``limbs`` radix-``2^b`` digits, one slot each. ``s``
servers add up to ``s (2^b - 1)`` per slot, so :class:`SlotPlan` picks the largest
b with ``s (2^b - 1) < t``: every slot sum is then exact, and the key holder
recombines the digits with Python integers (then reduces mod q, or subtracts
``s B``). The plan refuses a (s+1)-th message for the same reason.

**Batching.** SIMD slots need t prime with ``t = 1 (mod 2N)``; :class:`BfvParams`
checks it (TenSEAL itself accepts other t and then encodes wrongly).

**No noise overflow.** Each addition adds the ciphertexts' noise, and BFV decrypts
correctly only while the noise stays below ``q / 2t``: past it, decryption returns
wrong slots *silently*. With SEAL's default moduli a sum of ``s`` fresh ciphertexts
decrypts exactly while ``log2 t + log2 s <= q_bits - 7`` (measured at N = 4096,
where ``q_bits = 72``: 65); :class:`SlotPlan` keeps 4 bits more headroom and
refuses ``bits(t) + bits(s) > q_bits - 11`` (:data:`NOISE_SLACK_BITS`).

**Integrity.** TenSEAL loads a ciphertext made under another key with the same
parameters, and many corrupted byte strings, without complaint. So a message
carries the key id (SHA-256 of the public context) and a SHA-256 digest per
ciphertext, and the aggregator checks both before adding anything.

>>> keys = BfvKeyHolder.generate(BfvParams(4096))
>>> plan = SlotPlan(length=3, residue_range=1000, servers=2, params=keys.params)
>>> agg = Aggregator(keys.public_bytes(), plan, tag="demo")
>>> for r in ([1, 2, 999], [5, 0, 999]):
...     agg.add(encrypt_vector(agg.context, keys.key_id, plan, np.array(r, np.uint64), tag="demo"))
>>> keys.decrypt(agg.aggregate(), plan).tolist()
[6, 2, 1998]
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import tenseal as ts

from wbstream.linalg.primes import is_prime

#: SEAL's limit on the plaintext modulus.
MAX_PLAIN_BITS = 60
#: TenSEAL contexts run one worker thread: no parallel speed-up is needed for slot additions, and
#: fewer live threads make forking (arena workers, server processes) safer.
THREADS = 1
#: Polynomial degrees SEAL supports with its default 128-bit coefficient moduli, and the bits of
#: their data-level modulus q (the default modulus without SEAL's special prime).
COEFF_BITS = {4096: 72, 8192: 174, 16384: 389, 32768: 825}
POLY_DEGREES = tuple(COEFF_BITS)
#: A sum of s fresh ciphertexts decrypts exactly while bits(t) + bits(s) <= q_bits - NOISE_SLACK_BITS:
#: 7 bits are what fresh encryption noise and rounding take (measured: N = 4096, t of 21..60 bits,
#: doubling a ciphertext until decryption fails), 4 more are headroom.
NOISE_SLACK_BITS = 11


class HEError(ValueError):
    """Bad homomorphic-encryption input: wrong parameters or key, a corrupt ciphertext, a wrap risk."""


def batching_prime(poly_degree: int, above: int) -> int:
    """The least prime ``t > above`` with ``t = 1 (mod 2N)``, so SIMD batching works.

    >>> batching_prime(4096, 1 << 20)
    1073153
    """
    step = 2 * poly_degree
    t = (above // step + 1) * step + 1
    while not is_prime(t):
        t += step
    return t


@dataclass(frozen=True)
class BfvParams:
    """Polynomial degree N (slots) and plaintext modulus t (0: the least batching prime above 2^20).

    >>> BfvParams(4096, 1000003)
    Traceback (most recent call last):
    ...
    wbstream.crypto.he.HEError: plaintext modulus t = 1000003 is not 1 mod 2N = 8192: SIMD batching needs it
    """

    poly_degree: int = 4096
    plain_modulus: int = 0

    def __post_init__(self):
        if self.poly_degree not in POLY_DEGREES:
            raise HEError(f"poly_degree must be one of {POLY_DEGREES}, got {self.poly_degree}")
        t = self.plain_modulus or batching_prime(self.poly_degree, 1 << 20)
        object.__setattr__(self, "plain_modulus", int(t))
        if t.bit_length() > MAX_PLAIN_BITS:
            raise HEError(f"plaintext modulus t = {t} has more than {MAX_PLAIN_BITS} bits (SEAL's limit)")
        if not is_prime(t):
            raise HEError(f"plaintext modulus t = {t} is not prime: SIMD batching needs a prime")
        if t % (2 * self.poly_degree) != 1:
            raise HEError(f"plaintext modulus t = {t} is not 1 mod 2N = {2 * self.poly_degree}: "
                          f"SIMD batching needs it")

    @property
    def slots(self) -> int:
        return self.poly_degree

    @property
    def noise_capacity_bits(self) -> int:
        """The largest ``bits(t) + bits(s)`` for which a sum of s ciphertexts still decrypts exactly."""
        return COEFF_BITS[self.poly_degree] - NOISE_SLACK_BITS

    def context(self) -> ts.Context:
        """A fresh TenSEAL context with new keys (TenSEAL draws them from the OS: it cannot be seeded)."""
        return ts.context(ts.SCHEME_TYPE.BFV, poly_modulus_degree=self.poly_degree,
                          plain_modulus=self.plain_modulus, n_threads=THREADS)


@dataclass(frozen=True)
class SlotPlan:
    """How ``length`` residues in ``[0, residue_range)`` from ``servers`` servers travel without wrapping.

    >>> plan = SlotPlan(length=10, residue_range=2**64, servers=4, params=BfvParams(4096))
    >>> plan.digit_bits, plan.limbs, plan.ciphertexts, plan.max_slot_sum < plan.params.plain_modulus
    (18, 4, 1, True)
    >>> SlotPlan(length=10, residue_range=2**64, servers=4, params=BfvParams(4096), digit_bits=19)
    Traceback (most recent call last):
    ...
    wbstream.crypto.he.HEError: slots could wrap: 4 servers x (2^19 - 1) = 2097148 >= t = 1073153
    """

    length: int
    residue_range: int
    servers: int
    params: BfvParams
    digit_bits: int = 0

    def __post_init__(self):
        if self.length < 1 or self.servers < 1 or self.residue_range < 2:
            raise HEError(f"a slot plan needs length >= 1, servers >= 1 and residue_range >= 2, got "
                          f"{self.length}, {self.servers}, {self.residue_range}")
        if self.residue_range > 1 << 64:
            raise HEError(f"residues must fit in 64 bits, got a range of {self.residue_range}")
        t = self.params.plain_modulus
        b = self.digit_bits
        if not b:  # the largest digit with s (2^b - 1) < t, no wider than the residues
            b = min((t // self.servers + 1).bit_length() - 1, (self.residue_range - 1).bit_length())
            while b > 1 and self.servers * ((1 << b) - 1) >= t:
                b -= 1
        if b < 1:
            raise HEError(f"slots could wrap: {self.servers} servers x (2^1 - 1) >= t = {t}; use a larger t")
        object.__setattr__(self, "digit_bits", b)
        if self.max_slot_sum >= t:
            raise HEError(f"slots could wrap: {self.servers} servers x (2^{b} - 1) = {self.max_slot_sum} >= t = {t}")
        if t.bit_length() + self.servers.bit_length() > self.params.noise_capacity_bits:
            raise HEError(f"noise could overflow: a sum of {self.servers} ciphertexts with a {t.bit_length()}-bit t "
                          f"needs bits(t) + bits(s) <= {self.params.noise_capacity_bits} at N = "
                          f"{self.params.poly_degree}; use a smaller t or a larger N")

    @property
    def limbs(self) -> int:
        return max(1, math.ceil((self.residue_range - 1).bit_length() / self.digit_bits))

    @property
    def max_slot_sum(self) -> int:
        return self.servers * ((1 << self.digit_bits) - 1)

    @property
    def ciphertexts(self) -> int:
        return math.ceil(self.length * self.limbs / self.params.slots)

    def encode(self, residues: np.ndarray) -> list[list[int]]:
        """Digit slots (limb-major), one list per ciphertext."""
        r = np.asarray(residues)
        if r.shape != (self.length,):
            raise HEError(f"expected {self.length} residues, got shape {r.shape}")
        r = r.astype(np.uint64)
        if self.residue_range < 1 << 64 and (r >= np.uint64(self.residue_range)).any():
            raise HEError(f"a residue is outside [0, {self.residue_range})")
        b, mask = np.uint64(self.digit_bits), np.uint64((1 << self.digit_bits) - 1)
        digits = np.concatenate([(r >> (b * np.uint64(j))) & mask for j in range(self.limbs)]).astype(np.int64)
        N = self.params.slots
        return [digits[i:i + N].tolist() for i in range(0, len(digits), N)]

    def decode(self, slot_sums: list[list[int]]) -> np.ndarray:
        """Totals of the residues (an object array of Python ints) from the decrypted digit sums."""
        t = self.params.plain_modulus
        d = np.concatenate([np.asarray(c, dtype=np.int64) for c in slot_sums]) % t  # BFV decrypts centred
        if len(d) != self.length * self.limbs:
            raise HEError(f"expected {self.length * self.limbs} slots, got {len(d)}")
        d = d.astype(object).reshape(self.limbs, self.length)
        return sum((d[j] << (self.digit_bits * j) for j in range(self.limbs)), np.zeros(self.length, dtype=object))

    def describe(self) -> str:
        return (f"N={self.params.poly_degree},t={self.params.plain_modulus},R={self.residue_range},"
                f"s={self.servers},b={self.digit_bits},len={self.length}")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class EncryptedMessage:
    """What a server sends: the key id and plan it encrypted under, its ciphertexts and their digests."""

    key_id: str
    tag: str
    plan: str
    ciphertexts: tuple[bytes, ...]
    digests: tuple[str, ...]

    @property
    def nbytes(self) -> int:
        """Bytes on the wire: ciphertexts plus the three ids and the digests."""
        return sum(map(len, self.ciphertexts)) + len(self.key_id) + len(self.tag) + len(self.plan) + \
            sum(map(len, self.digests))


def encrypt_vector(context: ts.Context, key_id: str, plan: SlotPlan, residues: np.ndarray,
                   tag: str = "") -> EncryptedMessage:
    """A server's message: its residues, digit-split by ``plan``, encrypted under the public ``context``."""
    cts = tuple(ts.bfv_vector(context, chunk).serialize() for chunk in plan.encode(residues))
    return EncryptedMessage(key_id, tag, plan.describe(), cts, tuple(map(_digest, cts)))


class Aggregator:
    """The untrusted aggregator: adds ciphertexts, holds only the public context.

    ``add`` checks a whole message first (key id, tag, plan, digests, that each
    ciphertext parses under this context and has the right size, and that the plan's
    server count is not exceeded) and raises :class:`HEError` with the aggregate
    unchanged if anything is wrong.
    """

    def __init__(self, public_bytes: bytes, plan: SlotPlan, tag: str = ""):
        try:
            self.context = ts.context_from(public_bytes, n_threads=THREADS)
        except (ValueError, RuntimeError, TypeError) as exc:
            raise HEError(f"not a serialized TenSEAL context: {exc}") from None
        self.key_id, self.plan, self.tag = _digest(public_bytes), plan, tag
        self.count = 0
        self._sum: list | None = None
        self._public = bytes(public_bytes)

    def __getstate__(self):  # TenSEAL objects do not pickle: keep their serialized bytes
        sums = None if self._sum is None else [v.serialize() for v in self._sum]
        return {**self.__dict__, "context": None, "_sum": sums}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.context = ts.context_from(self._public, n_threads=THREADS)
        if self._sum is not None:
            self._sum = [ts.bfv_vector_from(self.context, ct) for ct in self._sum]

    def load(self, message: EncryptedMessage) -> list:
        """Check a message and parse its ciphertexts, adding nothing (raises :class:`HEError`)."""
        if self.count >= self.plan.servers:
            raise HEError(f"slots could wrap: the plan allows {self.plan.servers} servers, "
                          f"and {self.count} messages are already in")
        if not isinstance(message, EncryptedMessage):
            raise HEError(f"expected an EncryptedMessage, got {type(message).__name__}")
        if message.key_id != self.key_id:
            raise HEError("the ciphertexts were made under another key (another context): key ids differ")
        if message.tag != self.tag:
            raise HEError(f"mismatched parameters or keys: the message is for {message.tag!r}, "
                          f"this aggregate for {self.tag!r}")
        if message.plan != self.plan.describe():
            raise HEError(f"mismatched slot plans: {message.plan} vs {self.plan.describe()}")
        if len(message.ciphertexts) != self.plan.ciphertexts or len(message.digests) != len(message.ciphertexts):
            raise HEError(f"expected {self.plan.ciphertexts} ciphertexts, got {len(message.ciphertexts)}")
        out = []
        sizes = [min(self.plan.params.slots, self.plan.length * self.plan.limbs - i * self.plan.params.slots)
                 for i in range(self.plan.ciphertexts)]
        for j, (ct, digest, size) in enumerate(zip(message.ciphertexts, message.digests, sizes)):
            if _digest(ct) != digest:
                raise HEError(f"ciphertext {j} is corrupt or truncated: its digest does not match")
            try:
                vec = ts.bfv_vector_from(self.context, ct)
            except (ValueError, RuntimeError, TypeError) as exc:
                raise HEError(f"ciphertext {j} does not parse under this context: {exc}") from None
            if vec.size() != size:
                raise HEError(f"ciphertext {j} holds {vec.size()} slots, expected {size}")
            out.append(vec)
        return out

    def add(self, message: EncryptedMessage) -> None:
        """Add one server's message into the aggregate (all checks first)."""
        self.add_loaded(self.load(message))

    def add_loaded(self, vecs: list) -> None:
        """Add ciphertexts returned by :meth:`load`."""
        self._sum = vecs if self._sum is None else [a + b for a, b in zip(self._sum, vecs)]
        self.count += 1

    def aggregate(self) -> tuple[bytes, ...]:
        """The serialized sum, for the key holder."""
        if self._sum is None:
            raise HEError("no message has been added")
        return tuple(v.serialize() for v in self._sum)


class BfvKeyHolder:
    """Holds the secret context: generates keys, publishes the public part, decrypts sums.

    TenSEAL cannot be seeded, so the secret key comes from SEAL's own randomness.
    :meth:`secret_bytes` is the whole secret context: whoever holds these bytes can
    decrypt (:meth:`from_secret_bytes`).
    """

    def __init__(self, context: ts.Context, params: BfvParams):
        if not context.is_private():
            raise HEError("a key holder needs a context with its secret key")
        self.params, self._context = params, context
        self._public = self._context.serialize(save_public_key=True, save_secret_key=False,
                                               save_galois_keys=False, save_relin_keys=False)
        self.key_id = _digest(self._public)

    def __getstate__(self):  # a TenSEAL context does not pickle: keep the secret context's bytes
        return {**self.__dict__, "_context": self.secret_bytes()}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._context = ts.context_from(state["_context"], n_threads=THREADS)

    @classmethod
    def generate(cls, params: BfvParams) -> BfvKeyHolder:
        return cls(params.context(), params)

    @classmethod
    def from_secret_bytes(cls, data: bytes, params: BfvParams) -> BfvKeyHolder:
        try:
            context = ts.context_from(bytes(data), n_threads=THREADS)
        except (ValueError, RuntimeError, TypeError) as exc:
            raise HEError(f"not a serialized TenSEAL context: {exc}") from None
        return cls(context, params)

    def secret_bytes(self) -> bytes:
        return self._context.serialize(save_public_key=True, save_secret_key=True,
                                       save_galois_keys=False, save_relin_keys=False)

    def public_bytes(self) -> bytes:
        return self._public

    def decrypt(self, aggregate: tuple[bytes, ...], plan: SlotPlan) -> np.ndarray:
        """The totals of the residues (Python ints) from a serialized aggregate."""
        if len(aggregate) != plan.ciphertexts:
            raise HEError(f"expected {plan.ciphertexts} ciphertexts, got {len(aggregate)}")
        try:
            sums = [ts.bfv_vector_from(self._context, ct).decrypt() for ct in aggregate]
        except (ValueError, RuntimeError, TypeError) as exc:
            raise HEError(f"the aggregate does not parse under this key: {exc}") from None
        return plan.decode(sums)
