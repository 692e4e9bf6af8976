"""Moved to :mod:`wbstream.linalg.fp`; this name stays so that older imports keep working.

>>> from wbstream.crypto.fp_linalg import integer_rank
>>> integer_rank([[1, 2], [2, 4]])
1
"""

from wbstream.linalg.fp import (  # noqa: F401
    P_LIMIT, integer_rank, kernel_mod_p, rank_exceeds, rank_mod_p, row_echelon, solve_mod_p,
)
