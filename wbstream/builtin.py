"""The built-in catalogue: importing this registers every shipped problem, algorithm and adversary."""

from wbstream.adversaries import (alignment, cohen2022, cohen2023, copy_attacks, finite_difference, hardt_woodruff, hash_attacks, he_key, kernel, kernel_split,  # noqa: F401
                                  lattice, lowrank_attacks, lowrank_streams, markelon, oblivious, starver,
                                  wraparound)
from wbstream.algorithms import exact  # noqa: F401
from wbstream.algorithms.distinct import hll, kmv, peers, redis_hll, robust_l0, switching_f0  # noqa: F401
from wbstream.algorithms.heavy import (bucket_countsketch, count_min, countsketch_hh, countsketch_l2, ds_count_min,  # noqa: F401
                                       misra_gries, robust_sampler)
from wbstream.algorithms.lowrank import frequent_directions, projections, rank_approx, robust  # noqa: F401
from wbstream.algorithms.norms import ams, dp_f2, switching  # noqa: F401
from wbstream.algorithms.sparse import countsketch, encrypted_countsketch, fjw24, fw23, vandermonde  # noqa: F401
from wbstream.engine import l2_problems, matrix_problems, problems  # noqa: F401
