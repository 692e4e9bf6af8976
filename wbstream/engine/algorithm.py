"""The protocol every streaming algorithm implements.

All randomness comes from the engine's :class:`~wbstream.engine.coins.Coins`;
``state()`` returns everything the algorithm keeps; ``space()`` counts bits by
declared word width, split into working state and stored key/randomness.
"""

from __future__ import annotations

import copy
import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .chunking import DEFAULT_CHUNK, bounded_update
from .coins import Coins, DetachedCoins
from .errors import DetachedCoinsError, MergeError
from .problems import Params, Problem
from .threat import ThreatModel


@dataclass(frozen=True, slots=True)
class Space:
    """Bits of working state, bits of stored key/randomness, and bytes actually held.

    >>> Space(state_bits=640, key_bits=124, nbytes=96).total_bits
    764
    """

    state_bits: int
    key_bits: int
    nbytes: int

    @property
    def total_bits(self) -> int:
        return self.state_bits + self.key_bits


def bits_for_range(low: int, high: int) -> int:
    """Bits of a word holding any integer in ``[low, high]``.

    >>> bits_for_range(-1024, 1024), bits_for_range(0, 1)
    (12, 1)
    """
    return max(1, math.ceil(math.log2(high - low + 1)))


def nbytes_of(state: Mapping) -> int:
    """Bytes held by the arrays and byte strings of a state mapping."""
    total = 0
    for v in state.values():
        if isinstance(v, np.ndarray):
            total += v.nbytes
        elif isinstance(v, (bytes, bytearray)):
            total += len(v)
        elif isinstance(v, Mapping):
            total += nbytes_of(v)
        else:
            total += 8
    return total


def add_mod(a: np.ndarray, b: np.ndarray, modulus: int | None) -> np.ndarray:
    """``a + b`` reduced mod ``modulus`` (a new array); ``None`` means exact int64 sums.

    int64 arrays hold residues in ``[0, modulus)`` (moduli below 2^62); uint64 arrays
    hold residues mod any ``modulus <= 2^64`` (2^64 itself is plain wrap-around), or
    mod 2^128 as (lo, hi) pairs on a trailing axis of length 2. An int64 sum that
    would overflow raises :class:`MergeError`.

    >>> add_mod(np.array([5, 6]), np.array([4, 1]), 7).tolist()
    [2, 0]
    >>> add_mod(np.array([2**64 - 1], np.uint64), np.array([3], np.uint64), 2**64).tolist()
    [2]
    >>> add_mod(np.array([[2**64 - 1, 5]], np.uint64), np.array([[3, 0]], np.uint64), 2**128).tolist()
    [[2, 6]]
    >>> add_mod(np.array([2**63 - 1]), np.array([1]), None)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.MergeError: the merged int64 sum overflows
    """
    a, b = np.asarray(a), np.asarray(b)
    if modulus == 1 << 128:  # uint64 (lo, hi) pairs on a trailing axis (the FJW'24 hash at q = 2^128)
        if a.dtype != np.uint64 or a.shape[-1:] != (2,):
            raise MergeError(f"entries mod 2^128 must be uint64 (lo, hi) pairs, got {a.dtype} {a.shape}")
        lo = a[..., 0] + b[..., 0]
        return np.stack([lo, a[..., 1] + b[..., 1] + (lo < a[..., 0])], axis=-1)
    if a.dtype == np.uint64:
        s = a + b  # wraps mod 2^64
        if modulus is None or modulus == 1 << 64:
            return s
        q = np.uint64(modulus)
        return np.where((s < a) | (s >= q), s - q, s)  # a, b < q: one subtraction reduces
    s = a + b
    if modulus is not None:
        return np.remainder(s, modulus)
    if (((a ^ s) & (b ^ s)) < 0).any():
        raise MergeError("the merged int64 sum overflows")
    return s


#: The merge kind of a state entry whose merge is the entry-wise maximum (HyperLogLog registers,
#: Redis's PFMERGE): a mergeable but not linear sketch. Other kinds are moduli (int, or None for
#: exact integer sums).
MAX = "max"


def merge_values(mine: np.ndarray, theirs: np.ndarray, kind: int | str | None) -> np.ndarray:
    """One merged entry: the entry-wise maximum for :data:`MAX`, else the sum mod ``kind``.

    >>> merge_values(np.array([3, 0, 5]), np.array([1, 4, 5]), MAX).tolist()
    [3, 4, 5]
    >>> merge_values(np.array([3, 0]), np.array([5, 4]), 7).tolist()
    [1, 4]
    """
    if kind == MAX:
        return np.maximum(np.asarray(mine), np.asarray(theirs))
    return add_mod(mine, theirs, kind)


def _fingerprint_update(h, value) -> None:
    if isinstance(value, np.ndarray):
        h.update(f"array:{value.dtype.str}:{value.shape}:".encode())
        h.update(np.ascontiguousarray(value).data)  # no copy: a mapped key of GiBs is hashed in place
    elif isinstance(value, (bytes, bytearray)):
        h.update(b"bytes:" + bytes(value))
    elif isinstance(value, Mapping):
        for key in sorted(value):
            h.update(f"key:{key}:".encode())
            _fingerprint_update(h, value[key])
    else:
        h.update(f"value:{value!r}".encode())


@dataclass(frozen=True)
class SecurityEstimate:
    """The security of a cryptographic algorithm's parameters: its preset's name and an estimate in bits.

    ``unproven`` names why the proof does not cover the instance (e.g. a binding inequality
    that fails, played with ``allow_unproven=True``): the bits are then no security claim.

    >>> SecurityEstimate("toy", 0.0).label
    'toy, λ ≈ 0 bits'
    >>> SecurityEstimate("sec64", 65.1, "binding fails").label
    'sec64, λ ≈ 65 bits, unproven: binding fails'
    """

    preset: str
    bits: float
    unproven: str = ""

    @property
    def label(self) -> str:
        return f"{self.preset}, λ ≈ {self.bits:.0f} bits" + (f", unproven: {self.unproven}" if self.unproven else "")


class StreamingAlgorithm(ABC):
    """Base class: a streaming algorithm answering one problem.

    Subclasses declare ``name`` (registry name), ``problem`` (the Problem class
    they answer; ``Problem`` itself means any), ``guarantee`` (the claim, in
    words), and take their options as keyword-only ``__init__`` parameters.

    >>> from wbstream.engine.problems import F2Estimation
    >>> class Zero(StreamingAlgorithm):
    ...     name, problem = "zero", F2Estimation
    ...     def update(self, indices, deltas): return None
    ...     def query(self): return 0.0
    ...     def state(self): return {}
    ...     def space(self): return Space(0, 0, 0)
    >>> Zero.supports(F2Estimation), Zero(None, None).query()
    (True, 0.0)
    """

    name: ClassVar[str]
    problem: ClassVar[type[Problem]] = Problem
    guarantee: ClassVar[str] = ""
    #: The strongest threat model ``guarantee`` claims to hold against (None: no claim, e.g. a negative
    #: control or a decoder without detection); reports check it against the measured failures.
    claims: ClassVar[ThreatModel | None] = None
    #: True when ``guarantee`` bounds each answer's failure probability (delta per query) rather than
    #: every answer of a stream at once: the arena's verdict then judges the rate of failed queries.
    per_query: ClassVar[bool] = False
    #: Options whose default (0) means "computed from the problem": name -> the formula, which
    #: ``wbstream list`` shows as ``name=auto (formula)``, e.g. ``{"cols": "max(8, 8k)"}``.
    computed_defaults: ClassVar[dict[str, str]] = {}
    #: The small problem the arena plays this algorithm on by default (a spec string).
    arena_problem: ClassVar[str] = "sparse-recovery(n=512, k=2, M=1024)"
    #: Options the built-in arena suites play it with (e.g. ``"preset='toy'"`` where the default is slow).
    arena_options: ClassVar[str] = ""
    #: Updates one ``update`` call processes at a time, so its working set does not grow with the
    #: batch (:mod:`wbstream.engine.chunking`); an instance may set its own.
    update_chunk: ClassVar[int] = DEFAULT_CHUNK

    @classmethod
    def arena_spec(cls) -> str:
        """The spec the built-in arena suites play: the name, with ``arena_options`` if any."""
        return f"{cls.name}({cls.arena_options})" if cls.arena_options else cls.name

    def __init__(self, params: Params, coins: Coins):
        self.params = params
        self.coins = coins

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "update" in cls.__dict__:  # every algorithm's update runs in bounded chunks
            cls.update = bounded_update(cls.__dict__["update"])

    def update_unit(self) -> int:
        """Entries in one row of a row-insertion stream (chunks hold whole rows), else 1."""
        return int(self.params.cols) if getattr(self.problem, "stream_kind", "entries") == "rows" else 1

    @classmethod
    def supports(cls, problem_cls: type[Problem]) -> bool:
        return issubclass(problem_cls, cls.problem)

    @classmethod
    def security_for(cls, params: Params, **options) -> SecurityEstimate | None:
        """The security estimate of the instance these problem parameters and options would build,
        without building it (keys can be gigabytes); None for algorithms that rest on no assumption."""
        return None

    def security(self) -> SecurityEstimate | None:
        """This instance's preset and security estimate in bits (None: no cryptographic parameters)."""
        return None

    @abstractmethod
    def update(self, indices: np.ndarray, deltas: np.ndarray) -> None:
        """Apply a batch of updates (int64 arrays of equal length)."""

    @abstractmethod
    def query(self):
        """The current answer."""

    @abstractmethod
    def state(self) -> Mapping[str, np.ndarray | int | bytes]:
        """Everything the algorithm stores, hash seeds and keys included."""

    @abstractmethod
    def space(self) -> Space:
        """Declared bits of state and key, and bytes actually held."""

    # -- detached copies (simulation) -----------------------------------------
    def detached_copy(self) -> StreamingAlgorithm:
        """A deep copy whose ``coins`` are :class:`DetachedCoins`: the past coin log, no key.

        The copy shares nothing with this algorithm, pickles (members that wrap native
        objects serialize themselves to bytes), and draws nothing until it is given
        coins with :meth:`attach_coins`.

        >>> from wbstream.engine.problems import SparseRecovery
        >>> from wbstream.algorithms.sparse.countsketch import CountSketchRecovery as CS
        >>> alg = CS(SparseRecovery(n=64, k=2, M=8).params, Coins.from_seed(0, "doc"), rows=3, cols=8)
        >>> twin = alg.detached_copy()
        >>> twin.coins, twin.update(np.array([3]), np.array([1])), alg.query()
        (DetachedCoins(draws=2), None, SparseVector(indices=[], values=[]))
        >>> twin.attach_coins(Coins.from_rng(np.random.default_rng(0))); twin.query()
        SparseVector(indices=[3], values=[1])
        """
        coins = self.coins
        if coins is None:
            return copy.deepcopy(self)
        return copy.deepcopy(self, {id(coins): DetachedCoins(coins.log)})

    def attach_coins(self, coins) -> None:
        """Give a detached copy its coins (nested algorithms that shared the detached coins get them too)."""
        detached = self.coins
        if not isinstance(detached, DetachedCoins):
            raise DetachedCoinsError("attach_coins is for a detached copy (see detached_copy); "
                                     "this algorithm has coins of its own")
        for alg in _nested_algorithms(self):
            if alg.coins is detached:
                alg.coins = coins

    # -- merging (linear sketches) --------------------------------------------
    def merge_moduli(self) -> Mapping[str, int | None]:
        """The state entries that merge when two sketches merge, each with its merge kind.

        ``{}`` (the default) means the algorithm cannot be merged. A linear sketch
        returns e.g. ``{"table": None}`` (exact int64 sums) or ``{"syndromes": p}`` (sums
        mod p); a max-mergeable one (HyperLogLog) ``{"registers": MAX}``.
        Every other ``state()`` entry is a parameter or key and must be identical in
        both sketches (see :meth:`merge_fingerprint`).
        """
        return {}

    def merge_fingerprint(self) -> str:
        """SHA-256 of the class, the parameters, every state entry that is not merged, and the
        shape and dtype of every merged one.

        Two sketches can merge exactly when their fingerprints are equal: same
        problem parameters, same options, same coin-derived keys and seeds. The
        shapes matter: two CountSketches from the same coins with 8 and 9 columns
        hold the same hash keys, and differ only in the table's shape.
        """
        moduli = self.merge_moduli()
        state = self.state()
        h = hashlib.sha256(f"{type(self).__module__}.{type(self).__qualname__}".encode())
        _fingerprint_update(h, dict(self.params) if self.params is not None else {})
        _fingerprint_update(h, {k: v for k, v in state.items() if k not in moduli})
        _fingerprint_update(h, {k: f"{v!r} {np.shape(state[k])} {np.asarray(state[k]).dtype}"
                                for k, v in moduli.items()})
        return h.hexdigest()

    def merge(self, other: StreamingAlgorithm) -> None:
        """Add ``other``'s sketch into this one: afterwards this sketch is that of ``x + x'``.

        Driven by :meth:`merge_moduli`: each listed state entry is replaced by the
        sum of both (mod its modulus); arrays are written in place, a scalar entry
        is stored in the attribute of the same name. Refuses, with a
        :class:`MergeError` and both sketches unchanged: an algorithm that declares
        nothing to merge, another class, different parameters or keys (compared by
        :meth:`merge_fingerprint`), and the sketch itself (or one sharing its arrays).

        >>> from wbstream.engine.coins import Coins
        >>> from wbstream.engine.problems import SparseRecovery
        >>> from wbstream.algorithms.sparse.countsketch import CountSketchRecovery as CS
        >>> p = SparseRecovery(n=100, k=2, M=10)
        >>> a, b = (CS(p.params, Coins.from_seed(3, "alg"), rows=3, cols=8) for _ in range(2))
        >>> a.update(np.array([4]), np.array([2])); b.update(np.array([9]), np.array([-1]))
        >>> a.merge(b); a.query()
        SparseVector(indices=[4, 9], values=[2, -1])
        >>> a.merge(CS(p.params, Coins.from_seed(4, "alg"), rows=3, cols=8))
        Traceback (most recent call last):
        ...
        wbstream.engine.errors.MergeError: cannot merge countsketch sketches with different parameters or keys
        """
        moduli = self.merge_moduli()
        name = getattr(self, "name", type(self).__name__)
        if not moduli:
            raise MergeError(f"{name} is not a mergeable sketch")
        if other is self:
            raise MergeError(f"cannot merge a {name} sketch with itself")
        if type(other) is not type(self):
            raise MergeError(f"cannot merge a {name} sketch with a {type(other).__name__}")
        if self.merge_fingerprint() != other.merge_fingerprint():
            raise MergeError(f"cannot merge {name} sketches with different parameters or keys")
        mine, theirs = self.state(), other.state()
        for key in moduli:
            if isinstance(mine[key], np.ndarray) and np.shares_memory(mine[key], theirs[key]):
                raise MergeError(f"cannot merge a {name} sketch with itself (they share {key!r})")
        self.add_merged({key: theirs[key] for key in moduli})

    def add_merged(self, values: Mapping[str, np.ndarray | int]) -> None:
        """Add the merged entries of another sketch, given as values (e.g. a received message).

        The caller has checked that they come from a sketch with the same
        :meth:`merge_fingerprint`. Every sum is computed before anything changes.
        """
        moduli, mine = self.merge_moduli(), self.state()
        if set(values) != set(moduli):
            raise MergeError(f"expected the merged entries {sorted(moduli)}, got {sorted(values)}")
        for key in moduli:
            value = np.asarray(values[key])
            if value.shape != np.shape(mine[key]) or value.dtype.kind not in "iu":
                raise MergeError(f"{key!r} must be integers of shape {np.shape(mine[key])}, "
                                 f"got {value.dtype} of shape {value.shape}")
        merged = {key: merge_values(np.asarray(mine[key]), np.asarray(values[key], dtype=np.asarray(mine[key]).dtype),
                                    kind) for key, kind in moduli.items()}
        self.load_merged(merged)

    def merge_entry_bound(self) -> int:
        """A bound on ``|entry|`` of an integer merged entry for one sketch of a vector in ``[-M, M]^n``.

        The default ``n M`` holds for every 0/±1 sketch matrix (CountSketch, AMS,
        Count-Min). Encrypted aggregation uses it to choose parameters that never wrap.
        """
        return self.params.n * self.params.M

    def load_merged(self, values: Mapping[str, np.ndarray]) -> None:
        """Overwrite the merged entries (:meth:`merge_moduli`) with ``values`` (arrays in place, scalars by name)."""
        mine = self.state()
        moduli = self.merge_moduli()
        for key, value in values.items():
            if key not in moduli:
                raise MergeError(f"{key!r} is not a merged entry of {getattr(self, 'name', type(self).__name__)}")
            if isinstance(mine[key], np.ndarray) and np.shape(value) != mine[key].shape:
                raise MergeError(f"{key!r} has shape {mine[key].shape}, got {np.shape(value)}")
        for key, value in values.items():
            if isinstance(mine[key], np.ndarray):
                mine[key][...] = value
            else:
                setattr(self, key, int(value))


def _nested_algorithms(root: StreamingAlgorithm):
    """``root`` and every algorithm reachable from its attributes (through lists, tuples and dicts)."""
    seen, todo = set(), [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, StreamingAlgorithm):
            yield obj
            todo.extend(getattr(obj, "__dict__", {}).values())
        elif isinstance(obj, (list, tuple)):
            todo.extend(obj)
        elif isinstance(obj, dict):
            todo.extend(obj.values())


class TestedRecovery(StreamingAlgorithm):
    """Relaxed recovery plus a linear hash tester (FW'23, FJW'24), both rebuildable from the state.

    A white-box collision attack needs both matrices: the relaxed recovery's
    (so the decoder returns its chosen vector) and the tester's (so the hashes
    agree). Each classmethod returns ``(matrix, modulus)`` for the given columns.
    """

    #: The name of the deterministic relaxed recovery inside (e.g. "vandermonde").
    relaxed_recovery: ClassVar[str]

    @classmethod
    @abstractmethod
    def recovery_columns(cls, params: Params, state: Mapping, columns: np.ndarray) -> tuple[np.ndarray, int]:
        """The relaxed recovery's matrix on ``columns`` and its modulus."""

    @classmethod
    @abstractmethod
    def tester_columns(cls, params: Params, state: Mapping, columns: np.ndarray) -> tuple[np.ndarray, int]:
        """The tester's matrix on ``columns`` and its modulus."""


class LinearSketch(StreamingAlgorithm):
    """A sketch ``y = S x`` whose matrix ``S`` a reader of ``state()`` can rebuild.

    ``sketch_columns`` is a classmethod on purpose: an adversary computes columns
    from the state it was shown and the public code, not from the live object.
    """

    #: None for sketches over the integers; q for sketches mod a fixed q.
    modulus: ClassVar[int | None] = None

    @classmethod
    def sketch_modulus(cls, params: Params, state: Mapping) -> int | None:
        """The modulus of ``S`` as a reader of the state sees it (override if it is per instance)."""
        return cls.modulus

    @classmethod
    @abstractmethod
    def sketch_columns(cls, params: Params, state: Mapping, columns: np.ndarray) -> np.ndarray:
        """The integer matrix ``S[:, columns]`` (rows = sketch coordinates)."""

    @abstractmethod
    def sketch(self) -> np.ndarray:
        """The current sketch vector ``S x``, flattened."""
