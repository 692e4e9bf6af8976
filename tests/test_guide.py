"""The Python examples of docs/guide.md run as printed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from wbstream import Game, adversary_registry, algorithm_registry

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
EXAMPLES = {"zero": algorithm_registry, "first-two": algorithm_registry, "poke": adversary_registry}


@pytest.fixture
def guide_namespace():
    ns: dict = {}
    try:
        for block in BLOCKS:
            exec(compile(block, str(GUIDE), "exec"), ns)  # noqa: S102 - the guide's own examples
        yield ns
    finally:
        for name, registry in EXAMPLES.items():
            registry.unregister(name)


def test_every_example_block_runs_and_registers(guide_namespace):
    assert len(BLOCKS) >= 4
    for name, registry in EXAMPLES.items():
        assert registry.get(name).name == name


def test_the_linear_sketch_example_is_its_matrix_times_x(guide_namespace):
    from wbstream.engine.coins import Coins
    from wbstream.engine.problems import SparseRecovery

    cls = guide_namespace["FirstTwo"]
    p = SparseRecovery(n=32, k=2, M=16)
    alg = cls(p.params, Coins(bytes(32)))
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 32, 50).astype(np.int64)
    dlt = rng.integers(-3, 4, 50).astype(np.int64)
    alg.update(idx, dlt)
    x = np.zeros(32, dtype=np.int64)
    np.add.at(x, idx, dlt)
    np.testing.assert_array_equal(cls.sketch_columns(p.params, alg.state(), np.arange(32)) @ x, alg.sketch())
    Game("sparse-recovery(n=32, k=2, M=16)", "first-two", "kernel-injection", "white-box")  # it applies
