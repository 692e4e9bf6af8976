"""Apache DataSketches as real peers: ``hll_sketch``, ``cpc_sketch`` and ``update_theta_sketch``.

Each adapter drives the ``datasketches`` package (extra ``peers``) through its
public Python API, one ``update(int)`` call per item, exactly as a user of that
package would, so its estimates are the package's own. The package hashes an
integer item as the 8 bytes of an int64 with MurmurHash3_x64_128 and a seed
that is fixed (9001 for HLL) or a public parameter (CPC, theta): nothing is
secret. The white-box state is the sketch's serialized image plus that seed;
the attacks read the image with the package itself (``deserialize``) and
recompute the hash with :func:`~wbstream.algorithms.distinct.murmur3.murmur3_int64`.

Each adapter offers the white-box hooks the hash attacks use:
``hash_items(params, state, items)`` and ``harmless(params, state, hashes)``
(HLL, theta), or ``harmless_items(params, state, items)`` (CPC, whose
compressed image the package can only replay, not expose).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from wbstream.algorithms.datasketches_lib import datasketches
from wbstream.algorithms.distinct import KeyedF0Sketch, require_insertion_only
from wbstream.algorithms.distinct.hll import clz64
from wbstream.algorithms.distinct.murmur3 import DEFAULT_SEED, murmur3_int64
from wbstream.algorithms.distinct.theta_replay import capacity, rebuild_theta
from wbstream.engine.algorithm import Space, StreamingAlgorithm, nbytes_of
from wbstream.engine.problems import DistinctElements, Params
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS

_ADDRESS_BITS = 26  # DataSketches HLL coupons: value << 26 | 26-bit address


class DataSketchesPeer(StreamingAlgorithm):
    """Shared adapter: insertion-only F0, one package call per item, the image as the state.

    Subclasses set ``lg_k_range`` and implement ``_new()`` (a fresh package sketch)
    and ``_image()`` (its serialized bytes).
    """

    problem = DistinctElements
    arena_problem = KeyedF0Sketch.arena_problem
    lg_k_range: ClassVar[tuple[int, int]]

    def __init__(self, params, coins, *, lg_k: int, seed: int = DEFAULT_SEED):
        require_insertion_only(params, self.name)
        super().__init__(params, coins)
        low, high = self.lg_k_range
        if not low <= lg_k <= high:
            raise ValueError(f"{self.name} needs {low} <= lg_k <= {high}, got lg_k={lg_k}")
        if not 0 <= seed < 2**63:
            raise ValueError(f"{self.name} needs a seed in [0, 2^63), got seed={seed}")
        self.ds, self.lg_k, self.seed = datasketches(), int(lg_k), int(seed)
        self.sketch = self._new()

    @abstractmethod
    def _new(self):
        """A fresh, empty package sketch."""

    @abstractmethod
    def _image(self) -> bytes:
        """The package's serialized image of the sketch."""

    def _saved(self):
        """What rebuilds the live package sketch exactly (for copies and pickles): its updatable image."""
        return self._image()

    def _restored(self, saved):
        """The live package sketch rebuilt from :meth:`_saved`."""
        raise NotImplementedError

    def __getstate__(self):  # the package's sketch and the module itself neither copy nor pickle
        state = {k: v for k, v in self.__dict__.items() if k not in ("ds", "sketch")}
        state["sketch"] = self._saved()
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.ds = datasketches()
        self.sketch = self._restored(state["sketch"])

    def update(self, indices, deltas):
        update = self.sketch.update
        for item in indices.tolist():  # the package's Python API takes one item per call
            update(item)

    def query(self) -> float:
        return float(self.sketch.get_estimate())

    def state(self):
        return {"image": self._image(), "seed": self.seed, "lg_k": self.lg_k}

    def space(self):
        state = self.state()
        # the seed is a public constant of the spec, so no key bits are stored
        return Space(8 * len(state["image"]), 0, nbytes_of(state))

    @classmethod
    def murmur(cls, state: Mapping, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The package's MurmurHash3 halves of ``items`` under the seed in ``state``."""
        return murmur3_int64(items, int(state["seed"]))


def hll8_cells(image: bytes, lg_k: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(coupons, registers)`` of a DataSketches HLL image, one of them None.

    In LIST and SET mode the sketch keeps exact 32-bit coupons, for every target
    type; in HLL mode an HLL_4 or HLL_6 image is first rebuilt as HLL_8 by a package
    union (lossless at the same lg_k), whose 40-byte preamble is followed by one
    byte per register.
    """
    mode, target = image[7] & 3, (image[7] >> 2) & 3  # mode 0 LIST, 1 SET, 2 HLL; target 2 = HLL_8
    if mode == 0:
        table = np.frombuffer(image, dtype="<u4", offset=8)
    elif mode == 1:
        table = np.frombuffer(image, dtype="<u4", offset=12)
    else:
        if target != 2:
            ds = datasketches()
            union = ds.hll_union(lg_k)
            union.update(ds.hll_sketch.deserialize(image))
            image = union.get_result(ds.HLL_8).serialize_updatable()
        return None, np.frombuffer(image, dtype=np.uint8, count=1 << lg_k, offset=40).astype(np.int64)
    table = table.astype(np.uint64)
    return table[table != 0], None


@algorithms.register
class DsHll(DataSketchesPeer):
    """DataSketches ``hll_sketch(lg_k, tgt_type)``; its hash seed is fixed at 9001 by the package.

    >>> from wbstream.engine.coins import Coins
    >>> p = DistinctElements(n=10**6, insertion_only=True)
    >>> a = DsHll(p.params, Coins.from_seed(0, "doc"), lg_k=10)
    >>> a.update(np.arange(5000), np.ones(5000, dtype=np.int64))
    >>> import datasketches as ds
    >>> direct = ds.hll_sketch(10, ds.HLL_4)
    >>> for i in range(5000): direct.update(i)
    >>> a.query() == direct.get_estimate(), a.state()["seed"]
    (True, 9001)
    """

    name = "ds-hll"
    claims = OBLIVIOUS
    guarantee = ("F0 within about 1 ± 3·1.04/sqrt(2^lg_k) against oblivious insertion-only streams "
                 "(Apache DataSketches); its hash seed is public, so a reader can hold the estimate down")
    lg_k_range = (4, 21)
    #: What of the state says how items hash (the Paterson–Raynal S2 adversary reads only this).
    hash_view = ("seed", "lg_k")
    TARGET_TYPES: ClassVar[tuple[str, ...]] = ("HLL_4", "HLL_6", "HLL_8")

    def __init__(self, params, coins, *, lg_k: int = 10, tgt_type: str = "HLL_4"):
        if tgt_type not in self.TARGET_TYPES:
            raise ValueError(f"ds-hll tgt_type must be one of {', '.join(self.TARGET_TYPES)}, got {tgt_type!r}")
        self.tgt_type = tgt_type
        super().__init__(params, coins, lg_k=lg_k)

    def _new(self):
        return self.ds.hll_sketch(self.lg_k, getattr(self.ds, self.tgt_type))

    def _image(self) -> bytes:
        return bytes(self.sketch.serialize_updatable())

    def _restored(self, saved):
        return self.ds.hll_sketch.deserialize(saved)

    @classmethod
    def cells(cls, params: Params, state: Mapping, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Register index and value (rho) of each item; reads only the seed and lg_k."""
        h1, h2 = cls.murmur(state, items)
        bucket = (h1 & np.uint64((1 << int(state["lg_k"])) - 1)).astype(np.int64)
        return bucket, np.minimum(clz64(h2), 62) + 1

    @classmethod
    def hash_items(cls, params: Params, state: Mapping, items: np.ndarray) -> np.ndarray:
        """Each item's coupon ``rho << 26 | low 26 bits of h1``, as the package computes it."""
        h1, h2 = cls.murmur(state, items)
        rho = (np.minimum(clz64(h2), 62) + 1).astype(np.uint64)
        return (rho << np.uint64(_ADDRESS_BITS)) | (h1 & np.uint64((1 << _ADDRESS_BITS) - 1))

    @classmethod
    def harmless(cls, params: Params, state: Mapping, hashes: np.ndarray) -> np.ndarray:
        """Coupons that change nothing: already kept (LIST/SET mode), or rho <= the register (HLL)."""
        lg_k = int(state["lg_k"])
        coupons, registers = hll8_cells(state["image"], lg_k)
        hashes = np.asarray(hashes, dtype=np.uint64)
        if registers is None:
            return np.isin(hashes, coupons)
        bucket = (hashes & np.uint64((1 << lg_k) - 1)).astype(np.int64)
        return (hashes >> np.uint64(_ADDRESS_BITS)).astype(np.int64) <= registers[bucket]


@algorithms.register
class DsCpc(DataSketchesPeer):
    """DataSketches ``cpc_sketch(lg_k)`` (Lang's compressed probabilistic counting), seed 9001.

    The seed is fixed at the package default because the package's Python
    ``cpc_sketch.deserialize`` accepts no seed: an image under any other seed could
    not be read back, by the adversary or by any user of the package.

    >>> from wbstream.engine.coins import Coins
    >>> p = DistinctElements(n=10**6, insertion_only=True)
    >>> a = DsCpc(p.params, Coins.from_seed(0, "doc"), lg_k=10)
    >>> a.update(np.arange(5000), np.ones(5000, dtype=np.int64))
    >>> 4500 < a.query() < 5500
    True
    """

    name = "ds-cpc"
    claims = OBLIVIOUS
    guarantee = ("F0 within about 1 ± 3·0.6/sqrt(2^lg_k) against oblivious insertion-only streams "
                 "(Apache DataSketches); its seed is public, so a reader can hold the estimate down")
    lg_k_range = (4, 26)

    def __init__(self, params, coins, *, lg_k: int = 10):
        super().__init__(params, coins, lg_k=lg_k)

    def _new(self):
        return self.ds.cpc_sketch(self.lg_k, self.seed)

    def _image(self) -> bytes:
        return bytes(self.sketch.serialize())

    def _restored(self, saved):
        return self.ds.cpc_sketch.deserialize(saved)

    @classmethod
    def harmless_items(cls, params: Params, state: Mapping, items: np.ndarray) -> np.ndarray:
        """Items whose insertion leaves the estimate unchanged, found by replaying the package.

        A CPC item changes the sketch exactly when its coupon is new, and a new coupon
        always moves the HIP estimate. The image is deserialized once and reloaded only
        after an item that changed it, so a run of harmless items costs one update each.
        """
        ds = datasketches()
        image = state["image"]
        sketch = ds.cpc_sketch.deserialize(image)
        before = sketch.get_estimate()
        out = np.zeros(len(items), dtype=bool)
        for j, item in enumerate(np.asarray(items, dtype=np.int64).tolist()):
            sketch.update(item)
            if sketch.get_estimate() == before:
                out[j] = True
            else:
                sketch = ds.cpc_sketch.deserialize(image)
        return out


@algorithms.register
class DsTheta(DataSketchesPeer):
    """DataSketches ``update_theta_sketch(lg_k, seed)``: a KMV-style sketch with threshold theta.

    >>> from wbstream.engine.coins import Coins
    >>> p = DistinctElements(n=10**6, insertion_only=True)
    >>> a = DsTheta(p.params, Coins.from_seed(0, "doc"), lg_k=10)
    >>> a.update(np.array([3, 3, 9]), np.array([1, 2, 1]))
    >>> a.query()
    2.0
    """

    name = "ds-theta"
    claims = OBLIVIOUS
    guarantee = ("F0 within about 1 ± 3/sqrt(2^lg_k) against oblivious insertion-only streams "
                 "(Apache DataSketches); its seed is public, so a reader can freeze the estimate")
    lg_k_range = (5, 26)

    def __init__(self, params, coins, *, lg_k: int = 10, seed: int = DEFAULT_SEED):
        super().__init__(params, coins, lg_k=lg_k, seed=seed)
        # one item per hash at or below theta: what a copy replays (the package loads no updatable image)
        self._kept_items, self._kept_hashes = np.zeros(0, np.int64), np.zeros(0, np.uint64)

    def _new(self):
        return self.ds.update_theta_sketch(lg_k=self.lg_k, seed=self.seed)

    def _image(self) -> bytes:
        return bytes(self.sketch.compact().serialize())

    def update(self, indices, deltas):
        super().update(indices, deltas)
        theta = np.uint64(self.sketch.theta64)
        items = np.asarray(indices, np.int64)
        hashes = self.hash_items(self.params, {"seed": self.seed}, items)
        new = hashes <= theta
        kept = self._kept_hashes
        if not new.any() and (not kept.size or kept.max() <= theta):
            return
        items = np.concatenate([self._kept_items, items[new]])
        hashes = np.concatenate([kept, hashes[new]])
        keep = hashes <= theta
        items, hashes = items[keep], hashes[keep]
        if len(hashes) > 2 * capacity(self.lg_k) + 64:  # repeated items: drop duplicates now and then
            hashes, first = np.unique(hashes, return_index=True)
            items = items[first]
        self._kept_items, self._kept_hashes = items, hashes

    def _saved(self):
        return self.sketch.theta64, self._kept_items, self._kept_hashes

    def _restored(self, saved):
        theta, items, hashes = saved
        return rebuild_theta(self.ds, self.lg_k, self.seed, theta, items, hashes)

    @classmethod
    def hash_items(cls, params: Params, state: Mapping, items: np.ndarray) -> np.ndarray:
        """The 63-bit theta hash ``h1 >> 1`` of each item."""
        return cls.murmur(state, items)[0] >> np.uint64(1)

    @classmethod
    def harmless(cls, params: Params, state: Mapping, hashes: np.ndarray) -> np.ndarray:
        """Hashes at or above theta (never kept) or already retained."""
        sketch = datasketches().compact_theta_sketch.deserialize(state["image"], int(state["seed"]))
        retained = np.fromiter(iter(sketch), dtype=np.uint64, count=sketch.num_retained)
        hashes = np.asarray(hashes, dtype=np.uint64)
        return (hashes >= np.uint64(sketch.theta64)) | np.isin(hashes, retained)
