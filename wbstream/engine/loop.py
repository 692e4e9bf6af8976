"""The round loop of a game: act -> validate -> update (timed) -> commit -> query -> judge.

This is plain Python and the only implementation. Where Cython is installed at
build time, ``setup.py`` also compiles this same file, with the C types declared
in ``_cloop.pxd``, into the extension ``wbstream.engine._cloop``.
:func:`select_play_rounds` picks the compiled one when it exists and is not older
than this file, so an edit here is never shadowed by a stale build.

Rounds run in segments that end at the round budget or at the end of the fully
timed prefix; within a segment the body checks little but the round itself.
The first ``TIMED_PREFIX`` rounds are all timed, then one in ``TIMING_STRIDE``
(a clock read costs about as much as a cheap round). Batches of more than one
update are always timed.
"""

from __future__ import annotations

import time

from .errors import StreamError
from .stream import Batch, as_batch

COMPILED = not __file__.endswith(".py")  # True in the extension module built from this file

TIMED_PREFIX = 1024
TIMING_STRIDE = 8


def play_rounds(obs, act, update, problem, query, judge_and_record, transcript, every,
                max_rounds, max_updates, max_batch, deadline, stop_on_failure):
    """Play rounds until something stops the game.

    Anything but a :class:`Batch` or a ``RowBatch`` goes through :func:`as_batch`
    (a subclass of either is rebuilt by the checking constructor). A batch of more
    than ``max_batch`` updates is refused with a :class:`StreamError` before
    anything changes.

    Returns ``(rounds, updates, queries, last_query_round, timed_rounds, adversary_ns,
    stop_reason, update_ns, query_ns)``; the referee's ``nnz`` and ``sumsq`` are up to date.
    """
    now = time.perf_counter_ns
    validate, commit, validate_one = problem.validate, problem.commit, problem.validate_one
    xview, n, M = problem.xview, problem.n, problem.M
    positive_only, sumsq = problem.insertion_only, problem.tracks_sumsq
    update_ns: list = []
    query_ns: list = []
    record = update_ns.append
    r = last_query_round = queries = updates = timed_rounds = adv_ns = 0
    dnnz = dsq = 0  # changes to the referee's nnz and sumsq, folded in before each judgement
    next_query = every
    t3 = now()
    stop = None
    while stop is None:
        if r >= max_rounds:
            stop = "round-budget"
            break
        if r < TIMED_PREFIX:
            seg_end, mask = min(TIMED_PREFIX, max_rounds), 0
        else:
            seg_end, mask = max_rounds, TIMING_STRIDE - 1
        for r in range(r + 1, seg_end + 1):
            obs.round = r
            timed = not r & mask
            if timed:
                t0 = now()
                batch = act(obs)
                adv_ns += now() - t0
                timed_rounds += 1
            else:
                batch = act(obs)
            if batch is None:
                stop = "adversary-stopped"
                break
            if type(batch) is not Batch:
                batch = as_batch(batch)
            indices, deltas = batch.indices, batch.deltas
            size = len(indices)
            if size > max_batch:
                raise StreamError(f"round {r}: a batch of {size:,} updates exceeds the budget's "
                                  f"max_batch = {max_batch:,}; send it over several rounds")
            updates += size
            if updates > max_updates:
                updates -= size
                stop = "update-budget"
                break
            if size == 1:  # the common single update, on plain integers
                i = indices.item()
                d = deltas.item()
                if i < 0 or i >= n or d > 2 * M or d < -2 * M:
                    validate_one(i, d)  # raises, naming the rule
                old = xview[i]
                new = old + d
                if new > M or new < -M or (positive_only and d <= 0):
                    validate_one(i, d)  # raises, naming the rule
                if timed:
                    t2 = now()
                    update(indices, deltas)
                    t3 = now()
                    record(t3 - t2)
                else:
                    update(indices, deltas)
                xview[i] = new
                if (new == 0) != (old == 0):
                    dnnz += 1 if old == 0 else -1
                if sumsq:
                    dsq += new * new - old * old
            else:
                plan = validate(batch)
                t2 = now()
                update(indices, deltas)
                t3 = now()
                commit(plan)
                if size:
                    record((t3 - t2) / size)
            if transcript is not None:
                transcript.batches.append((r, indices.tolist(), deltas.tolist()))
            if r == next_query:
                next_query += every
                last_query_round = r
                queries += 1
                if timed:
                    t0 = now()
                    answer = query()
                    query_ns.append(now() - t0)
                else:
                    answer = query()
                if dnnz or dsq:
                    problem.nnz += dnnz
                    problem.sumsq += dsq
                    dnnz = dsq = 0
                if not judge_and_record(r, answer) and stop_on_failure:
                    stop = "failure"
                    break
            if deadline is not None and timed and t3 > deadline:
                stop = "time-budget"
                break
        if stop == "adversary-stopped" or stop == "update-budget":
            r -= 1  # that round sent nothing
    problem.nnz += dnnz
    problem.sumsq += dsq
    return r, updates, queries, last_query_round, timed_rounds, adv_ns, stop, update_ns, query_ns


def select_play_rounds():
    """The compiled :func:`play_rounds` if it is built and up to date, else this module's."""
    import os
    import warnings

    try:
        from . import _cloop
    except ImportError:
        return play_rounds
    if os.path.getmtime(_cloop.__file__) < os.path.getmtime(__file__):
        warnings.warn("wbstream.engine._cloop is older than loop.py; using the pure-Python loop "
                      "(rebuild with: pip install -e .)", RuntimeWarning, stacklevel=2)
        return play_rounds
    return _cloop.play_rounds
