"""B_eval measured in the proof world sits below the subgaussian figure, which sits below the worst case."""

from __future__ import annotations

import pytest

from wbstream.crypto.noise_check import measure_eval_noise
from wbstream.crypto.params import FJW24_PRESETS
from wbstream.engine.errors import SpecError


@pytest.mark.parametrize("preset", list(FJW24_PRESETS))
@pytest.mark.parametrize("seed", [0, 1])
def test_the_measured_noise_sits_below_both_bounds_at_every_preset(preset, seed):
    check = measure_eval_noise(preset, n_lwe=4, n=256, seed=seed)
    assert 0 < check.measured_log2 <= check.subgaussian_log2 <= check.worst_log2
    assert check.describe().startswith(f"fjw24 {preset}: B_eval measured 2^")


def test_the_same_seed_measures_the_same_noise():
    assert measure_eval_noise("sec64", n_lwe=3, n=64, seed=5) == measure_eval_noise("sec64", n_lwe=3, n=64, seed=5)


@pytest.mark.parametrize("options, words", [({"preset": "nosuch"}, "preset must be one of"),
                                            ({"preset": "toy", "n_lwe": 0}, "n_lwe must be in"),
                                            ({"preset": "toy", "n": 1}, "n must be in"),
                                            ({"preset": "toy", "n": 1 << 20}, "n must be in")])
def test_bad_shapes_are_refused_in_one_line(options, words):
    preset = options.pop("preset")
    with pytest.raises(SpecError, match=words):
        measure_eval_noise(preset, **options)
