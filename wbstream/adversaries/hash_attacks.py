"""White-box attacks on hash-based distinct counters whose hash key is in the state (docs/references.md#paterson-raynal-2022, #reviriego-2021).

The sketch's hash is public code keyed by a word the algorithm keeps, so a
white-box adversary evaluates it on candidate items (batched numpy search) and
inserts only the items it wants:

- ``reviriego-2021`` (KMV, and DataSketches' theta sketch ``ds-theta``):
  *deflate* inserts only items hashing above the current k-th minimum (theta),
  so the sketch never changes; *inflate* (KMV) inserts the k items of the
  universe with the smallest hashes, so k real items look like n.
- ``paterson-raynal-2022`` (``hll`` and DataSketches' ``ds-hll``): *S2* inserts
  only items with rho = 1, which can raise only an empty register; *S4* reads
  the registers and inserts only items with rho <= M[bucket], so nothing changes.
- ``hash-search``: the common core. Any algorithm whose class offers
  ``hash_items(params, state, items)`` and ``harmless(params, state, hashes)``,
  or ``harmless_items(params, state, items)`` (``ds-cpc``, whose image only the
  package can replay), is fed harmless items only: its state, hence its
  estimate, freezes while the true count grows.

Every attack preloads ``preload`` honest random items in round 1 (the paper's
"non-empty sketch" setting: an empty KMV or HLL has no harmless item), then
spends ``rounds - 1`` rounds of ``batch`` chosen distinct items each; with
``pool = P`` a round instead scans exactly P fresh candidates and sends every one
that passes (the published protocols: "of 2^20 candidate items, insert those
that ..."). A round in
which the search finds no usable item at all (the sketch is still too empty)
is topped up with ``batch`` honest items instead, and counted in ``warmups``.
Items are never repeated: every inserted item raises the true count by one.

All need an insertion-only distinct-elements problem with a universe large
enough to search (n of about 10^6 or more).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from wbstream.algorithms.distinct.hll import HyperLogLog
from wbstream.algorithms.distinct.kmv import KMV
from wbstream.algorithms.distinct.peers import DsHll, DsTheta
from wbstream.algorithms.distinct.redis_hll import RedisHll
from wbstream.adversaries.shadow import shadow_filter
from wbstream.engine.adversary import Adversary
from wbstream.engine.errors import NotApplicableError, at_least
from wbstream.engine.problems import DistinctElements
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch
from wbstream.engine.threat import WHITE_BOX

#: Candidate draws per round before a search gives up on filling its batch.
SEARCH_TRIES = 64
#: Largest prefix of the universe the inflation attack scans for small hashes.
SCAN_LIMIT = 1 << 24
_SCAN_CHUNK = 1 << 20


class _HashAttack(Adversary):
    """Shared machinery: option checks, problem gating, fresh items, batched hash search."""

    needs = WHITE_BOX

    def __init__(self, *, rounds: int = 20, batch: int = 500, preload: int = 1000, pool: int = 0):
        at_least(self.name, rounds=(rounds, 0), batch=(batch, 1), preload=(preload, 0), pool=(pool, 0))
        self.rounds, self.batch, self.preload, self.pool = rounds, batch, preload, pool

    #: The sketch classes a named attack targets, and how to call them in a refusal.
    target: ClassVar[tuple[type, ...]] = ()
    target_kind: ClassVar[str] = ""

    # -- gating ---------------------------------------------------------------------------------
    def _algorithm_ok(self, algorithm_cls) -> tuple[bool, str]:
        if not (isinstance(algorithm_cls, type) and issubclass(algorithm_cls, self.target)):
            return False, (f"it attacks {self.target_kind} sketches, and "
                           f"{getattr(algorithm_cls, 'name', algorithm_cls)!r} is not one")
        return True, ""

    def applies_to(self, algorithm_cls, problem_cls):
        if not (isinstance(problem_cls, type) and issubclass(problem_cls, DistinctElements)):
            name = getattr(problem_cls, "name", problem_cls)
            return False, f"it attacks distinct-elements counters, and {name!r} is not a distinct-elements problem"
        return self._algorithm_ok(algorithm_cls)

    def reset(self, params, rng):
        super().reset(params, rng)
        if not params.get("insertion_only", False):
            raise NotApplicableError(
                f"{self.name} needs an insertion-only distinct-elements problem (insertion_only=True): "
                f"it inserts fresh items, and the sketches it attacks cannot handle deletions")
        self.used = np.zeros(params.n, dtype=bool)
        self.inserted = 0        # distinct items sent (= the true count)
        self.hashed = 0          # hash evaluations spent searching
        self.warmups = 0         # rounds topped up with honest items
        self.chosen = 0          # items sent that the search selected

    # -- items ------------------------------------------------------------------------------------
    def _fresh(self, count: int) -> np.ndarray:
        """Up to ``count`` distinct items never sent before (not yet marked as used)."""
        n = self.params.n
        out = np.zeros(0, dtype=np.int64)
        for _ in range(8):
            need = count - len(out)
            if need <= 0:
                break
            cand = np.unique(self.rng.integers(0, n, size=need + need // 4 + 16, dtype=np.int64))
            cand = cand[~self.used[cand]]
            out = np.union1d(out, cand)
        return self.rng.permutation(out)[:count]

    def _send(self, items: np.ndarray) -> Batch | None:
        items = np.asarray(items, dtype=np.int64)
        self.used[items] = True
        self.inserted += len(items)
        return Batch(items, np.ones(len(items), dtype=np.int64))

    def _search(self, hash_of, accept, want: int) -> np.ndarray:
        """Up to ``want`` fresh items whose hashes ``accept`` approves, hashed in batches.

        With ``pool`` set: every item of ``pool`` fresh candidates that ``accept`` approves.
        """
        if self.pool:
            cand = self._fresh(self.pool)
            self.hashed += len(cand)
            return cand[accept(hash_of(cand))]
        found: list[np.ndarray] = []
        got = 0
        for _ in range(SEARCH_TRIES):
            cand = self._fresh(max(4 * (want - got), 256))
            if len(cand) == 0:
                break
            self.hashed += len(cand)
            keep = cand[accept(hash_of(cand))][:want - got]
            self.used[keep] = True  # reserved: never offered again in this round
            found.append(keep)
            got += len(keep)
            if got >= want:
                break
        items = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        self.used[items] = False  # _send marks them for good
        return items

    # -- the round --------------------------------------------------------------------------------
    def act(self, obs):
        if obs.round > self.rounds:
            return None
        if obs.round == 1 and self.preload:
            return self._send(self._fresh(self.preload))
        items = self._chosen(obs)
        if items is None:
            return None
        if len(items) == 0:
            self.warmups += 1
            return self._send(self._fresh(self.batch))
        self.chosen += len(items)
        return self._send(items)

    def _chosen(self, obs) -> np.ndarray | None:
        """This round's chosen items (empty: nothing found; None: stop)."""
        cls, params, state = obs.algorithm.cls, obs.params, obs.state()
        if hasattr(cls, "harmless_items"):
            return self._search(lambda items: items, lambda items: cls.harmless_items(params, state, items),
                                self.batch)
        return self._search(lambda items: cls.hash_items(params, state, items),
                            lambda hashes: cls.harmless(params, state, hashes), self.batch)


@adversaries.register
class HashSearch(_HashAttack):
    """Insert only items the algorithm's own ``harmless`` test says leave its state unchanged.

    Works on any algorithm class with classmethods ``hash_items(params, state, items) -> uint64``
    and ``harmless(params, state, hashes) -> bool array`` (kmv, hll, ds-hll, ds-theta and
    redis-hll have both), or ``harmless_items(params, state, items) -> bool array`` (ds-cpc). It
    generalises ``reviriego-2021(mode="deflate")`` and ``paterson-raynal-2022(variant="S4")``:
    the estimate freezes at its post-preload value while the true count grows by ``batch`` a round.

    >>> from wbstream.engine.game import Game
    >>> import wbstream.algorithms.distinct.hll  # registers "hll"
    >>> r = Game("distinct-elements(n=1000000, M=1024, eps=0.2, insertion_only=True)", "hll",
    ...          "hash-search(rounds=4)", "white-box", seed=1).play()
    >>> r.failed, r.failure_kind, r.first_failure_round
    (True, 'out-of-factor', 2)
    """

    name = "hash-search"

    def _algorithm_ok(self, algorithm_cls):
        if callable(getattr(algorithm_cls, "harmless_items", None)):
            return True, ""
        missing = [m for m in ("hash_items", "harmless") if not callable(getattr(algorithm_cls, m, None))]
        if missing:
            return False, (f"{getattr(algorithm_cls, 'name', algorithm_cls.__name__)!r} exposes no "
                           f"{' or '.join(missing)} classmethod, so its hash cannot be searched from its state")
        return True, ""


@adversaries.register
class Reviriego2021(_HashAttack):
    """Reviriego, Sánchez-Macián, Liu, Lombardi (IEEE TDSC 2021) against KMV and ``ds-theta``.

    ``mode="deflate"``: after the preload, insert only fresh items whose hash is above the
    current k-th minimum (theta for the DataSketches theta sketch, which keeps every hash
    below theta): the sketch never changes, the estimate is frozen, the truth grows.
    Until the sketch is full (KMV holds k values; theta has dropped below 1) no fresh item
    is harmless, and the round is topped up with honest items.
    ``mode="inflate"``: in round 1, scan the universe (its first ``2^24`` items at most, in
    batched chunks) for the k items with the smallest hashes and insert exactly those, then
    stop: k real items and an estimate of about n.

    Departures from the paper: the hash key is read from the white-box state (the paper's
    attacker knows the public hash of the library, or learns it by queries); inflation picks
    the k smallest hashes of the whole universe instead of items below a fixed threshold, so it
    needs no threshold parameter; ``preload`` and ``rounds`` do not apply to inflation.
    Inflation is KMV only: a theta sketch holding fewer than its nominal k entries counts
    them exactly, whatever their hashes.

    >>> from wbstream.engine.game import Game
    >>> r = Game("distinct-elements(n=1000000, M=1024, eps=0.2, insertion_only=True)", "kmv",
    ...          "reviriego-2021(mode='inflate')", "white-box", seed=0).play()
    >>> r.failed, r.failure_kind, r.updates
    (True, 'out-of-factor', 256)
    """

    name = "reviriego-2021"
    target, target_kind = (KMV, DsTheta), "KMV-style (k minimum values or theta)"

    def __init__(self, *, mode: str = "deflate", rounds: int = 20, batch: int = 500, preload: int = 1000,
                 pool: int = 0):
        if mode not in ("deflate", "inflate"):
            raise ValueError(f"reviriego-2021 mode must be 'deflate' or 'inflate', got {mode!r}")
        super().__init__(rounds=rounds, batch=batch, preload=preload, pool=pool)
        self.mode = mode

    def act(self, obs):
        if self.mode == "deflate":
            return super().act(obs)
        if obs.round > 1:
            return None
        state = obs.state()
        k = int(state["k"])
        best_h = np.zeros(0, dtype=np.uint64)
        best_i = np.zeros(0, dtype=np.int64)
        for start in range(0, min(self.params.n, SCAN_LIMIT), _SCAN_CHUNK):
            items = np.arange(start, min(start + _SCAN_CHUNK, self.params.n, SCAN_LIMIT), dtype=np.int64)
            h = KMV.hash_items(obs.params, state, items)
            self.hashed += len(items)
            h, items = np.r_[best_h, h], np.r_[best_i, items]
            if len(h) > k:
                part = np.argpartition(h, k - 1)[:k]
                h, items = h[part], items[part]
            best_h, best_i = h, items
        self.chosen += len(best_i)
        return self._send(self.rng.permutation(best_i))

    def _algorithm_ok(self, algorithm_cls):
        ok, why = super()._algorithm_ok(algorithm_cls)
        if ok and self.mode == "inflate" and not issubclass(algorithm_cls, KMV):
            return False, (f"inflation attacks KMV only: {algorithm_cls.name!r} counts its first "
                           f"k items exactly, whatever their hashes")
        return ok, why


@adversaries.register
class PatersonRaynal2022(_HashAttack):
    """Paterson & Raynal, "HyperLogLog: Exponentially Bad in Adversarial Settings" (EuroS&P 2022).

    ``variant="S2"``: the adversary knows the hash (the key) and m, not the registers. After the
    preload it inserts only fresh items with rho = 1, the least possible: such an item raises a
    register only if it is 0. While registers are still empty, linear counting follows the truth
    (up to ``m ln m``); once none is empty the estimate settles near ``2·alpha_m·m`` (about 2,000
    for m = 1024) and stays there however many more arrive. With ``buckets = B`` (and usually
    ``preload = 0``) S2 is the paper's empty-sketch attack: only items landing in the first B
    registers are inserted, so linear counting stays at most ``m ln(m / (m - B))``.
    ``variant="S4"``: it also reads the registers each round and inserts only items with
    ``rho <= M[bucket]``: no register changes, the estimate is frozen.

    ``variant="S1"``: the adversary knows neither the hash nor the registers. It owns a shadow
    device running the same software (``redis-hll``: a Redis key of its own) that it may reset,
    insert into and count, and filters candidates through it (:mod:`~wbstream.adversaries.shadow`)
    until they all land in about ``buckets`` registers (default m/2); it inserts those. The
    count then stays near ``m ln(m / (m - B))`` whatever the true count. Each round scans
    ``pool`` fresh candidates (default ``batch·m/B``), filtered together with every item kept
    so far, so all rounds aim at the same registers; ``resets`` and ``probes`` count the work.

    S2 and S4 need WHITE_BOX here, because in this engine the key is part of the state: S2 reads
    only the sketch's ``hash_view`` (``hll``: the key and p; ``ds-hll``: the fixed seed 9001 and
    lg_k; ``redis-hll``: the fixed seed 0xadc83b19 and p = 14), never the registers. S1 reads
    nothing of the observation at all; it is declared white-box with the others, and applies only
    where the public software gives a shadow (``redis-hll``: Redis's hash is unkeyed, so a shadow
    is a perfect oracle; a keyed ``hll`` has none without its key). The attacks run unchanged
    against DataSketches' ``hll_sketch`` (``ds-hll``) and Redis (``redis-hll``), whose registers
    S4 reads from the serialized image or the string GET returns.
    Departures from the paper: for ``hll`` the key is read, not known from a library's fixed seed; the
    preload is ``preload`` random items (the paper: 1,000 honest items, m = 256); S1's probes
    are pipelined (same decisions, see :mod:`~wbstream.adversaries.shadow`); the S3 scenario
    (cardinality queries only) is not implemented.

    >>> from wbstream.engine.game import Game
    >>> r = Game("distinct-elements(n=1000000, M=1024, eps=0.2, insertion_only=True)", "hll",
    ...          "paterson-raynal-2022(rounds=5)", "white-box", seed=0).play()
    >>> r.failed, r.failure_kind, r.first_failure_round
    (True, 'out-of-factor', 2)
    """

    name = "paterson-raynal-2022"
    target, target_kind = (HyperLogLog, DsHll, RedisHll), "HyperLogLog"

    def __init__(self, *, variant: str = "S4", rounds: int = 20, batch: int = 500, preload: int = 1000,
                 pool: int = 0, buckets: int = 0):
        if variant not in ("S1", "S2", "S4"):
            raise ValueError(f"paterson-raynal-2022 variant must be 'S1', 'S2' or 'S4', got {variant!r}")
        if buckets < 0 or (buckets and variant == "S4"):
            raise ValueError(f"paterson-raynal-2022 buckets = B > 0 is the empty-sketch attack of S1 or S2, "
                             f"got variant={variant!r}, buckets={buckets}")
        super().__init__(rounds=rounds, batch=batch, preload=preload, pool=pool)
        self.variant, self.buckets = variant, buckets

    def _algorithm_ok(self, algorithm_cls):
        ok, why = super()._algorithm_ok(algorithm_cls)
        if ok and self.variant == "S1" and not callable(getattr(algorithm_cls, "shadow_device", None)):
            return False, (f"S1 needs a shadow device running the same software, and {algorithm_cls.name!r} "
                           f"offers none (its hash is keyed, so a shadow would need the key)")
        return ok, why

    def reset(self, params, rng):
        super().reset(params, rng)
        self.shadow, self.kept = None, np.zeros(0, dtype=np.int64)
        self.resets = self.probes = 0

    def _shadow_round(self, obs) -> np.ndarray:
        """S1: this round's candidates and every item kept so far, filtered through the shadow."""
        if self.shadow is None:
            self.shadow = obs.algorithm.cls.shadow_device()
            m = self.shadow.m
            self.buckets = self.buckets or m // 2
            if not 1 <= self.buckets <= 0.7 * m:
                raise ValueError(f"S1 needs 1 <= buckets <= 0.7 m (hit counting must stay active), "
                                 f"got buckets={self.buckets} for m={m}")
        cand = self._fresh(self.pool or max(1, self.batch * self.shadow.m // self.buckets))
        self.used[cand] = True  # scanned: never offered again, kept or not
        kept, resets, probes = shadow_filter(self.shadow, np.concatenate((self.kept, cand)), self.buckets,
                                              clean=len(self.kept))
        self.resets, self.probes = self.resets + resets, self.probes + probes
        new = kept[len(self.kept):] if np.array_equal(kept[:len(self.kept)], self.kept) else \
            np.setdiff1d(kept, self.kept)
        self.kept = kept
        return new

    def _chosen(self, obs):
        if self.variant == "S1":
            return self._shadow_round(obs)
        if self.variant == "S4":
            return super()._chosen(obs)  # the registers' own harmless test: rho <= M[bucket]
        cls, state = obs.algorithm.cls, obs.state()
        public = {key: state[key] for key in cls.hash_view}  # the hash and m, never the registers
        if self.buckets:  # the empty-sketch attack: only buckets below B ever get touched
            return self._search(lambda items: cls.cells(obs.params, public, items)[0],
                                lambda bucket: bucket < self.buckets, self.batch)
        return self._search(lambda items: cls.cells(obs.params, public, items)[1],
                            lambda rho: rho == 1, self.batch)
