"""Game keys: every coin of a game follows from a secret, never from its seed.

A run draws a 256-bit **secret** from the OS (:func:`new_secret`), or reads one
back for an exact re-run. Each game's **game key** is HMAC-SHA256 of that secret
over the matchup and the seed (:func:`game_key`); the algorithm's Coins key and
the adversary's generator are two further HMACs of the game key under different
labels (:func:`derive`), so holding one of them (an adversary holds its own
generator) tells nothing of the other. The seed stays public: it names the game,
and the secret makes its coins unpredictable. The game key is written into the
record only when the game ends, so a recorded game replays exactly.

>>> secret = bytes(32)
>>> k = game_key(secret, "f2(n=8)|exact|dense|oblivious", 3)
>>> k == game_key(secret, "f2(n=8)|exact|dense|oblivious", 3), len(k)
(True, 32)
>>> k == game_key(bytes(31) + b"\\x01", "f2(n=8)|exact|dense|oblivious", 3)
False
>>> derive(k, "algorithm") != derive(k, "adversary")
True
>>> read_secret_hex("00" * 31)
Traceback (most recent call last):
...
wbstream.engine.errors.SpecError: a secret is 64 hexadecimal digits (256 bits), got 62 characters
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string
from pathlib import Path

import numpy as np

from .errors import SpecError

SECRET_BYTES = 32


def new_secret() -> bytes:
    """A fresh 256-bit run secret from the OS's CSPRNG."""
    return secrets.token_bytes(SECRET_BYTES)


def game_key(secret: bytes, matchup: str, seed: int) -> bytes:
    """The key of one game: a PRF (HMAC-SHA256) of the run secret over the matchup and the seed."""
    if not isinstance(secret, bytes) or len(secret) != SECRET_BYTES:
        raise SpecError(f"a secret is {SECRET_BYTES} bytes")
    message = b"wbstream/game\x00" + matchup.encode() + b"\x00" + str(int(seed)).encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def secret_id(secret: bytes) -> str:
    """A public name of a secret (16 hex digits of a labelled SHA-256): tells secrets apart, reveals nothing."""
    return hashlib.sha256(b"wbstream/secret-id\x00" + secret).hexdigest()[:16]


def derive(key: bytes, label: str) -> bytes:
    """A 32-byte subkey of a game key for one party (``"algorithm"``, ``"adversary"``)."""
    return hmac.new(key, b"wbstream/derive\x00" + label.encode(), hashlib.sha256).digest()


def adversary_rng(key: bytes) -> np.random.Generator:
    """The adversary's own generator for the game with this key (its seed is a separate subkey)."""
    return np.random.default_rng(np.frombuffer(derive(key, "adversary"), dtype="<u4").astype(np.uint32))


def read_secret_hex(text: str) -> bytes:
    """A secret written as 64 hex digits (whitespace around it ignored)."""
    text = text.strip()
    if len(text) != 2 * SECRET_BYTES:
        raise SpecError(f"a secret is {2 * SECRET_BYTES} hexadecimal digits (256 bits), got {len(text)} characters")
    if any(c not in string.hexdigits for c in text):
        raise SpecError(f"a secret is {2 * SECRET_BYTES} hexadecimal digits (256 bits); this one has other characters")
    return bytes.fromhex(text)


def read_secret_file(path: str | Path) -> bytes:
    """The secret stored in ``path`` (64 hex digits), as written by :func:`write_secret_file`."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the secret file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return read_secret_hex(text)


def write_secret_file(path: str | Path, secret: bytes) -> None:
    """Write ``secret`` as hex to a new file readable only by its owner (mode 0600)."""
    reserve_secret_file(path)
    fill_secret_file(path, secret)


def reserve_secret_file(path: str | Path) -> None:
    """Create ``path`` empty, new and owner-only (mode 0600): a bad path fails now, before any game plays."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def fill_secret_file(path: str | Path, secret: bytes) -> None:
    """Write ``secret`` as hex into the file :func:`reserve_secret_file` made (once no game plays)."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret.hex() + "\n")


