"""Exact algebra shared by the engine, the algorithms and the crypto layer.

:mod:`.primes` tests primality; :mod:`.fp` does linear algebra mod a prime and finds
the exact rank of an integer matrix. Nothing here imports from the rest of wbstream,
so the engine's referees can use it without depending on the crypto layer.
"""
