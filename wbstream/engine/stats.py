"""Small statistics used in summaries."""

from __future__ import annotations

import math


def wilson_interval(failures: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default).

    >>> lo, hi = wilson_interval(0, 40)
    >>> lo, round(hi, 4)
    (0.0, 0.0876)
    >>> wilson_interval(40, 40)[1], wilson_interval(0, 3)[0]
    (1.0, 0.0)
    """
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= failures <= trials:
        raise ValueError(f"failures must be in [0, {trials}], got {failures}")
    p = failures / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    # exact at the ends: the interval of 0 failures starts at 0, of all failures ends at 1
    low = 0.0 if failures == 0 else max(0.0, centre - half)
    high = 1.0 if failures == trials else min(1.0, centre + half)
    return low, high
