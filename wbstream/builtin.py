"""The built-in catalogue: importing this registers every shipped problem, algorithm and adversary."""

from wbstream.adversaries import (finite_difference, hash_attacks, he_key, kernel, lattice,  # noqa: F401
                                  markelon, oblivious, wraparound)
from wbstream.algorithms import exact  # noqa: F401
from wbstream.algorithms.distinct import hll, kmv  # noqa: F401
from wbstream.algorithms.heavy import count_min, misra_gries  # noqa: F401
from wbstream.algorithms.norms import ams  # noqa: F401
from wbstream.algorithms.sparse import countsketch, encrypted_countsketch, fjw24, fw23, vandermonde  # noqa: F401
from wbstream.engine import problems  # noqa: F401
