"""Refusing parameters outside a robust construction's guarantee (``allow_outside_guarantee``).

A robust construction's guarantee holds only under a stated bound (enough copies for the flip
number, enough rows for the query budget, a privacy budget that composes). Parameters that
violate the bound are refused with the bound named; ``allow_outside_guarantee=True`` builds them
anyway, and :func:`claims_waived` tells the arena's verdicts that such a spec claims nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from wbstream.engine.errors import OutsideGuaranteeError

#: The option that plays parameters outside the guarantee anyway.
OPTION = "allow_outside_guarantee"


def check_guarantee(owner: str, allow: bool, violated: list[str]) -> None:
    """Refuse (unless ``allow``) when any bound in ``violated`` (one phrase each) does not hold.

    >>> check_guarantee("switching-f2", True, ["copies=3 < the flip number 29"])
    >>> check_guarantee("switching-f2", False, [])
    >>> check_guarantee("switching-f2", False, ["copies=3 < the flip number 29"])
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.OutsideGuaranteeError: switching-f2: outside its guarantee: copies=3 < the flip number 29 (allow_outside_guarantee=True plays it anyway, with no claim)
    """
    if violated and not allow:
        raise OutsideGuaranteeError(f"{owner}: outside its guarantee: {'; '.join(violated)} "
                                    f"({OPTION}=True plays it anyway, with no claim)")


def claims_waived(options: Mapping) -> bool:
    """Whether a spec's options waive the algorithm's claim.

    >>> claims_waived({"allow_outside_guarantee": True}), claims_waived({"rows": 3})
    (True, False)
    """
    return bool(options.get(OPTION, False))
