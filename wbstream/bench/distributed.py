"""Performance figures of the distributed model and of BFV encrypted aggregation (``wbstream bench distributed``).

* :func:`he_costs`: server encrypt time, aggregator add time per server, and the key
  holder's decrypt-plus-report time, against the number of servers s and the sketch
  size; ciphertext bytes against the plain message and the declared sketch bytes.
* :func:`communication_vs_k`: bits each server sends in a distributed game against
  the Õ(k) bound ``k ceil(log2 n) ceil(log2(nM))`` (k words of an index and a value),
  and the coordinator's time, against k.
"""

from __future__ import annotations

import math
import time

import numpy as np

from wbstream.crypto.he import BfvKeyHolder, BfvParams
from wbstream.distributed.encrypted import EncryptedAggregation
from wbstream.distributed.game import DistributedGame
from wbstream.distributed.wire import plain_message

from .common import make_algorithm, random_batch


def _sketches(spec: str, problem: str, servers: int, k: int):
    """``servers`` sketches with the same keys, each fed its own random k-sparse part."""
    out = []
    for i in range(servers):
        alg, p = make_algorithm(spec, problem)
        b = random_batch(p.n, k, p.M, seed=i)
        alg.update(b.indices, b.deltas)
        out.append(alg)
    return out


def _best(fn, repeats: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def he_costs(servers=(2, 8, 32), cols=(16, 200, 1600), n: int = 1 << 16, M: int = 1 << 10, k: int = 4,
             poly_degree: int = 4096, repeats: int = 3) -> list[dict]:
    """One row per (s, CountSketch size): BFV times and bytes, against the plain merge (best of ``repeats``)."""
    keys = BfvKeyHolder.generate(BfvParams(poly_degree))
    problem = f"sparse-recovery(n={n}, k={k}, M={M})"
    rows = []
    for c in cols:
        spec = f"countsketch(rows=5, cols={c})"
        pool = _sketches(spec, problem, max(servers), 1)
        for s in servers:
            parts = pool[:s]
            pipeline = EncryptedAggregation(parts[0], s, keys)
            encrypt_s = _best(lambda: pipeline.encrypt(parts[0]), repeats)[0]
            messages = [pipeline.encrypt(a) for a in parts]

            def add_all():
                aggregate = pipeline.start()
                for m in messages:
                    pipeline.add(aggregate, m)
                return aggregate
            add_s, aggregate = _best(add_all, repeats)
            add_s /= s
            coordinator, _ = make_algorithm(spec, problem)
            report_s = _best(lambda: pipeline.decrypt_into(aggregate, coordinator).query(), repeats)[0]

            def plain_report():
                plain, _ = make_algorithm(spec, problem)
                for a in parts:
                    plain.merge(a)
                return plain.query()
            plain_report_s = _best(plain_report, repeats)[0]
            plan = pipeline.plans["table"]
            ct_bytes = pipeline.ciphertext_bytes(messages[0])
            rows.append({"servers": s, "entries": 5 * c, "limbs": plan.limbs, "digit_bits": plan.digit_bits,
                         "ciphertexts": plan.ciphertexts, "encrypt_s": encrypt_s, "add_s": add_s,
                         "report_s": report_s, "plain_report_s": plain_report_s, "ciphertext_bytes": ct_bytes,
                         "plain_bytes": len(plain_message(parts[0])),
                         "declared_bytes": parts[0].space().state_bits / 8,
                         "t": keys.params.plain_modulus})
    return rows


def kbound_bits(n: int, k: int, M: int) -> int:
    """The Õ(k) yardstick: k entries, each an index (ceil log2 n bits) and a value (ceil log2 nM bits)."""
    return k * (math.ceil(math.log2(n)) + math.ceil(math.log2(n * M)))


#: The sketches whose communication is measured against k (``{c}``: see :func:`communication_vs_k`).
#: fjw24 on Vandermonde syndromes: its expander default sends 2m words (docs/sparse-recovery.md), not O(k).
COMM_SPECS = {"countsketch": "countsketch(rows=7, cols={c})", "vandermonde": "vandermonde",
              "fjw24": "fjw24(preset='toy', recovery='vandermonde')"}


def communication_vs_k(ks=(1, 4, 16, 64), n: int = 1 << 16, M: int = 1 << 10, servers: int = 4,
                       specs=tuple(COMM_SPECS.values())) -> list[dict]:
    """Bits per server and coordinator seconds in a plain distributed game on a k-sparse sum, per k.

    ``{c}`` in a spec becomes 32 k: CountSketch's default 8k columns make its report
    flag false candidates at n = 2^16 (a median over 5 rows of 8 buckets collides
    for about 2% of the universe).
    """
    rows = []
    for k in ks:
        problem = f"sparse-recovery(n={n}, k={k}, M={M})"
        for template in specs:
            spec = template.format(c=32 * k)
            r = DistributedGame(problem, spec, f"random-sparse(rounds={servers}, sparsity={k})", "oblivious",
                                servers=servers, query_every=1 << 30, seed=k).play()
            rows.append({"algorithm": spec.split("(")[0], "k": k, "failed": r.failed,
                         "message_bits": r.message_bits, "declared_bits": r.declared_bits_per_server,
                         "bound_bits": kbound_bits(n, k, M), "ratio": r.message_bits / kbound_bits(n, k, M),
                         "coordinator_s": r.coordinator_seconds, "server_s": float(np.mean(r.server_seconds))})
    return rows
