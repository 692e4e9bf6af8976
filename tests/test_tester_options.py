"""Tester options out of range are refused in one line, naming the option (never a math or shift error)."""

from __future__ import annotations

import pytest

from wbstream.algorithms.sparse.fjw24 import FJW24
from wbstream.algorithms.sparse.fw23 import FW23
from wbstream.engine.coins import Coins
from wbstream.engine.errors import SpecError
from wbstream.engine.problems import SparseRecovery

PARAMS = SparseRecovery(n=256, k=2, M=100).params


@pytest.mark.parametrize("cls, options, message", [
    (FJW24, {"n_lwe": -4}, "fjw24: n_lwe must be >= 0, got n_lwe=-4"),
    (FJW24, {"base_bits": -2}, "fjw24: base_bits must be >= 0, got base_bits=-2"),
    (FJW24, {"L": -1}, "fjw24: L must be >= 0, got L=-1"),
    (FJW24, {"cache_levels": -1}, "fjw24: cache_levels must be >= 0, got cache_levels=-1"),
    (FW23, {"rows": -1}, "fw23: rows must be >= 0, got rows=-1"),
    (FW23, {"log2_q": -3}, "fw23: log2_q must be >= 0, got log2_q=-3"),
])
def test_a_negative_option_is_refused_by_name(cls, options, message):
    with pytest.raises(SpecError) as refused:
        cls(PARAMS, Coins.from_seed(0, "t"), **options)
    assert str(refused.value) == message
