"""Performance measurements, one module per family, shared by ``wbstream bench`` and the ASV suite.

* :mod:`~wbstream.bench.common` -- timing, and algorithms and batches built from specs;
* :mod:`~wbstream.bench.engine` -- the game's own overhead, process isolation, batching, first matchups;
* :mod:`~wbstream.bench.sparse` -- FW'23 and FJW'24 presets, update and query costs;
* :mod:`~wbstream.bench.distinct` -- distinct elements against Apache DataSketches;
* :mod:`~wbstream.bench.robust` -- space of the adaptive-robust F2 estimators against their bounds;
* :mod:`~wbstream.bench.lowrank` -- low-rank recovery and row sketches against the SVD;
* :mod:`~wbstream.bench.distributed` -- homomorphic aggregation and communication;
* :mod:`~wbstream.bench.offline` -- the ASV dashboard with its scripts vendored for offline viewing.

Each function measures both sides of a ratio in the same run.
"""
