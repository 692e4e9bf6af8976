"""Read-only memory-mapped files whose arrays travel as the file's name, not its bytes.

A key of tens of GiB (:mod:`wbstream.crypto.keycache`) is a :class:`MappedFile`; an
array viewing it pickles, or crosses to an isolated adversary, as ``(path, offset)``
(:func:`mapped_origin`), and is re-mapped read-only on the other side
(:func:`map_array`). Nothing is copied and nothing can be written.

>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     path = os.path.join(d, "k")
...     _ = open(path, "wb").write(np.arange(12, dtype="<u8").tobytes())
...     a = np.frombuffer(MappedFile(path), "<u8").reshape(3, 4)
...     where = mapped_origin(a[1])
...     b = map_array(*where, "<u8", (4,))
...     where[1], b.tolist(), b.flags.writeable
(32, [4, 5, 6, 7], False)
"""

from __future__ import annotations

import mmap
import os
import weakref

import numpy as np

_OPEN: weakref.WeakSet = weakref.WeakSet()


class MappedFile(mmap.mmap):
    """A read-only mapping of a whole file that pickles as its path (it is re-mapped on load)."""

    def __new__(cls, path):
        with open(path, "rb") as f:
            self = super().__new__(cls, f.fileno(), 0, access=mmap.ACCESS_READ)
        self.path = str(path)
        _OPEN.add(self)
        return self

    def __reduce__(self):
        return (MappedFile, (self.path,))


def open_paths() -> tuple[str, ...]:
    """The files this process maps as :class:`MappedFile` right now (the keys an isolated child may be sent)."""
    return tuple(sorted({os.path.realpath(m.path) for m in list(_OPEN) if not m.closed}))


def mapped_origin(array) -> tuple[str, int] | None:
    """``(path, byte offset)`` of a C-contiguous array that views a :class:`MappedFile`, else None."""
    if not isinstance(array, np.ndarray) or not array.flags.c_contiguous:
        return None
    source = array
    while isinstance(source, np.ndarray):
        source = source.base
    if isinstance(source, memoryview):
        source = source.obj
    if not isinstance(source, MappedFile):
        return None
    return source.path, array.ctypes.data - np.frombuffer(source, np.uint8).ctypes.data


def map_array(path: str, offset: int, dtype: str, shape: tuple) -> np.ndarray:
    """A read-only array over ``path`` from byte ``offset``: the inverse of :func:`mapped_origin`."""
    count = int(np.prod(shape, dtype=object))
    return np.frombuffer(MappedFile(path), np.dtype(dtype), count, int(offset)).reshape(shape)
