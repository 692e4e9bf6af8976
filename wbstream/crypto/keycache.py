"""Large FJW'24 keys: drawn once from the coins, cached on disk with a SHA-256 checksum, memory-mapped.

A key of ``L N^2 ℓ`` words reaches tens of GiB at the ~64-bit preset. A key at
least ``WBSTREAM_KEY_CACHE_MIN_BYTES`` (default 1 GiB) is not drawn into RAM:

* its file is named by :meth:`~wbstream.engine.coins.Coins.fingerprint` (the
  label, offset and first keystream bytes, so the same coins find the same file)
  and the key's shape;
* on a miss the keystream is written block by block, hashed on the way, and
  renamed into place with its ``.sha256`` beside it;
* on a hit the whole file is hashed again: a truncated or corrupt file fails
  its checksum, is deleted and regenerated, never used;
* the file is mapped read-only and logged as the coins' draw without a copy
  (:meth:`~wbstream.engine.coins.Coins.log_mapped`), so the white-box log still
  holds every past coin.

The directory is ``WBSTREAM_CACHE`` (default ``~/.cache/wbstream/keys``). After a
write, the oldest keys (by last use) are evicted until the cache holds at most
``WBSTREAM_CACHE_MAX_BYTES`` (default 40 GiB); the key in use is never evicted, and
the partial file of a writer that was killed (``*.<pid>.tmp`` of a process that is
gone) is deleted. Drawing and checking a key take minutes at the security-claiming
presets: both are announced on the ``wbstream.keycache`` logger (the command line
prints them on stderr).

>>> import tempfile
>>> from wbstream.engine.coins import Coins
>>> from wbstream.crypto.gsw import GswParams
>>> p = GswParams(n_lwe=2, base_bits=16, L=2, t_star=1)
>>> with tempfile.TemporaryDirectory() as d:
...     key = sample_key(p, Coins.from_seed(0, "doc"), "k", min_bytes=1, directory=d)
...     plain = sample_key(p, Coins.from_seed(0, "doc"), "k", min_bytes=10**9)
...     key.mapped, bool((key.C == plain.C).all()), key.C.flags.writeable, len(list(Path(d).glob("*.key")))
(True, True, False, 1)
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from wbstream.engine.errors import SpecError
from wbstream.engine.isolation import pid_alive
from wbstream.engine.mapped import MappedFile

CACHE_ENV = "WBSTREAM_CACHE"
MAX_BYTES_ENV = "WBSTREAM_CACHE_MAX_BYTES"
MIN_BYTES_ENV = "WBSTREAM_KEY_CACHE_MIN_BYTES"
DEFAULT_MIN_BYTES = 1 << 30
DEFAULT_MAX_BYTES = 40 << 30
_HASH_BLOCK = 1 << 24

log = logging.getLogger("wbstream.keycache")


def cache_dir(directory=None) -> Path:
    d = Path(directory or os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "wbstream" / "keys")
    d.mkdir(parents=True, exist_ok=True)
    return d


def _env_bytes(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SpecError(f"{name} must be a number of bytes, got {raw!r}") from None
    if value < 0:
        raise SpecError(f"{name} must be >= 0, got {value}")
    return value


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_BLOCK):
            h.update(chunk)
    return h.hexdigest()


def _valid(path: Path, sums: Path, nbytes: int) -> bool:
    """The cached file exists, has the right size and matches its recorded checksum."""
    try:
        if path.stat().st_size != nbytes:
            return False
        recorded = sums.read_text().split()
    except OSError:
        return False
    return len(recorded) == 2 and recorded[1] == str(nbytes) and recorded[0] == file_sha256(path)


def _generate(coins, label: str, count: int, path: Path, sums: Path) -> int:
    """Write the next ``count`` words under ``label`` to ``path`` (atomically) and record their checksum."""
    offset = coins.skip(label, 0)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as f:
            for block in coins.stream_words(label, count):
                raw = block.astype("<u8", copy=False).tobytes()
                h.update(raw)
                f.write(raw)
        sums.write_text(f"{h.hexdigest()} {8 * count}\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return offset


def _writer_gone(tmp: Path) -> bool:
    """Whether the process named in ``<key>.<pid>.tmp`` no longer exists (its partial file is garbage)."""
    try:
        pid = int(tmp.suffixes[-2].lstrip("."))
    except (IndexError, ValueError):
        return False
    return pid != os.getpid() and not pid_alive(pid)


def sweep_partial(directory: Path) -> list[Path]:
    """Delete the partial key files whose writer was killed before it could clean up."""
    gone = [tmp for tmp in directory.glob("*.key.*.tmp") if _writer_gone(tmp)]
    for tmp in gone:
        tmp.unlink(missing_ok=True)
    return gone


def evict(directory: Path, keep: Path, max_bytes: int) -> list[Path]:
    """Delete the least recently used keys (never ``keep``) until the cache holds at most ``max_bytes``."""
    keys = sorted(directory.glob("*.key"), key=lambda f: f.stat().st_mtime)
    total = sum(f.stat().st_size for f in keys)
    gone = []
    for f in keys:
        if total <= max_bytes:
            break
        if f == keep:
            continue
        total -= f.stat().st_size
        f.unlink(missing_ok=True)
        f.with_suffix(".sha256").unlink(missing_ok=True)
        gone.append(f)
    return gone


def cached_words(coins, label: str, shape: tuple, directory=None, max_bytes: int | None = None) -> np.ndarray:
    """The next ``prod(shape)`` words under ``label``, from the cache (checked) or drawn and cached; read-only, mapped."""
    d = cache_dir(directory)
    count = int(np.prod(shape))
    nbytes = 8 * count
    stem = f"{coins.fingerprint(label)[:40]}-{'x'.join(map(str, shape))}"
    path, sums = d / f"{stem}.key", d / f"{stem}.sha256"
    sweep_partial(d)
    size = f"{nbytes / 2**30:.2f} GiB"
    if path.exists():
        log.info("checking the cached %s key %s (SHA-256)", size, path)
    if _valid(path, sums, nbytes):
        offset = coins.skip(label, nbytes)
        os.utime(path)  # last use, for eviction
    else:
        if path.exists():
            log.warning("the cached key %s failed its checksum: it is deleted and drawn again", path)
        path.unlink(missing_ok=True)
        log.info("drawing a %s key into %s (once: a game with the same coins maps it)", size, d)
        offset = _generate(coins, label, count, path, sums)
    evict(d, path, _env_bytes(MAX_BYTES_ENV, DEFAULT_MAX_BYTES) if max_bytes is None else max_bytes)
    return coins.log_mapped(label, offset, MappedFile(path), "<u8", tuple(shape))


def sample_key(gsw, coins, label: str, *, min_bytes: int | None = None, directory=None):
    """The tester's key under ``label``: drawn into RAM when small, through the disk cache from ``min_bytes`` up."""
    from wbstream.crypto.gsw import GswKey

    shape = gsw.key_shape
    threshold = _env_bytes(MIN_BYTES_ENV, DEFAULT_MIN_BYTES) if min_bytes is None else min_bytes
    if 8 * int(np.prod(shape)) < threshold:
        return GswKey.sample(gsw, lambda s: coins.words(label, s))
    return GswKey(gsw, cached_words(coins, label, shape, directory), mapped=True)
