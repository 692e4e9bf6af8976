"""Redis's HyperLogLog as data: its hash, its two string encodings, and PFADD on the wire (all numpy).

Redis (``src/hyperloglog.c``, versions 5 to 7) keeps a HyperLogLog as a string:
a 16-byte header (``HYLL``, the encoding byte, three unused bytes, an 8-byte
cached cardinality whose top bit marks it stale) and then either

* **dense** (encoding 0): 2^14 six-bit registers packed least significant bit
  first, 12,288 bytes; or
* **sparse** (encoding 1): run-length opcodes, ``ZERO`` (``00xxxxxx``: 1 to 64
  empty registers), ``XZERO`` (``01xxxxxx yyyyyyyy``: 1 to 16,384) and ``VAL``
  (``1vvvvvxx``: 1 to 4 registers of value 1 to 32).

An element is hashed with MurmurHash64A under the fixed seed ``0xadc83b19``;
the low p = 14 bits pick the register and the register takes the count of
trailing zeros of the remaining 50 bits plus one (at most 51). Nothing is keyed:
anyone with the item can compute where it lands.

wbstream sends stream index ``i`` as the 8 bytes of ``i`` as a little-endian
int64, so Redis hashes exactly those 8 bytes.

>>> murmur64a(np.array([0, 1], dtype=np.int64)).dtype
dtype('uint64')
>>> int(parse(dense_string(np.arange(P_REGISTERS) % 52)).max())
51
"""

from __future__ import annotations

import numpy as np

from wbstream.engine.errors import WbstreamError

#: MurmurHash64A seed and register-index bits of Redis's HyperLogLog (compile-time constants in Redis).
SEED = 0xADC83B19
P = 14
P_REGISTERS = 1 << P
Q = 64 - P
HEADER = 16
DENSE_BYTES = HEADER + (P_REGISTERS * 6 + 7) // 8
DENSE, SPARSE = 0, 1

_M = np.uint64(0xC6A4A7935BD1E995)
_R = np.uint64(47)
_BIT_WEIGHTS = (1 << np.arange(6)).astype(np.uint16)


class RedisHllFormatError(WbstreamError, ValueError):
    """A string that is not a Redis HyperLogLog of a known encoding."""


def murmur64a(items: np.ndarray, seed: int = SEED) -> np.ndarray:
    """MurmurHash64A of each item's 8 little-endian int64 bytes, as Redis's ``MurmurHash64A`` computes it.

    >>> hex(int(murmur64a(np.array([0], dtype=np.int64))[0]))
    '0x396f86b121d9c351'
    """
    k = np.asarray(items, dtype="<i8").view(np.uint64)
    h = np.uint64((seed ^ (8 * 0xC6A4A7935BD1E995)) & (2**64 - 1))
    k = k * _M
    k ^= k >> _R
    k *= _M
    h = (k ^ h) * _M
    h ^= h >> _R
    h *= _M
    h ^= h >> _R
    return h


def cells(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Register index (low 14 bits) and count (trailing zeros of the other 50 bits, plus one) of each hash.

    >>> idx, rho = cells(np.array([5, 3 << 14, 1 << 63, 0], dtype=np.uint64))
    >>> idx.tolist(), rho.tolist()
    ([5, 0, 0, 0], [51, 1, 50, 51])
    """
    h = np.asarray(hashes, dtype=np.uint64)
    index = (h & np.uint64(P_REGISTERS - 1)).astype(np.int64)
    rest = (h >> np.uint64(P)) | np.uint64(1 << Q)
    lowest = rest & (~rest + np.uint64(1))  # the lowest set bit, a power of two up to 2^50: exact in float64
    return index, (np.frexp(lowest.astype(np.float64))[1]).astype(np.int64)


def parse(raw: bytes | None) -> np.ndarray:
    """The 2^14 registers (uint8) of a Redis HLL string; ``None`` or ``b""`` (no key) is all zeros.

    >>> parse(b"HYLL" + bytes([7]) + bytes(11))
    Traceback (most recent call last):
    ...
    wbstream.algorithms.distinct.redis_format.RedisHllFormatError: unknown Redis HLL encoding 7 (known: 0 dense, 1 sparse)
    """
    if not raw:
        return np.zeros(P_REGISTERS, dtype=np.uint8)
    if len(raw) < HEADER or raw[:4] != b"HYLL":
        raise RedisHllFormatError(f"not a Redis HyperLogLog string (it starts {bytes(raw[:8])!r})")
    encoding = raw[4]
    if encoding == DENSE:
        if len(raw) != DENSE_BYTES:
            raise RedisHllFormatError(f"a dense Redis HLL has {DENSE_BYTES} bytes, got {len(raw)}")
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8, offset=HEADER), bitorder="little")
        return (bits[:P_REGISTERS * 6].reshape(P_REGISTERS, 6) @ _BIT_WEIGHTS).astype(np.uint8)
    if encoding == SPARSE:
        return _parse_sparse(raw)
    raise RedisHllFormatError(f"unknown Redis HLL encoding {encoding} (known: 0 dense, 1 sparse)")


def _parse_sparse(raw: bytes) -> np.ndarray:
    values, lengths = [], []
    i, end = HEADER, len(raw)
    while i < end:  # at most hll-sparse-max-bytes opcodes (3,000 by default)
        op = raw[i]
        if op & 0xC0 == 0:
            values.append(0), lengths.append((op & 0x3F) + 1)
            i += 1
        elif op & 0xC0 == 0x40:
            if i + 1 >= end:
                raise RedisHllFormatError("a sparse Redis HLL ends inside an XZERO opcode")
            values.append(0), lengths.append(((op & 0x3F) << 8 | raw[i + 1]) + 1)
            i += 2
        else:
            values.append(((op >> 2) & 0x1F) + 1), lengths.append((op & 3) + 1)
            i += 1
    if sum(lengths) != P_REGISTERS:
        raise RedisHllFormatError(f"a sparse Redis HLL must cover {P_REGISTERS} registers, "
                                  f"its opcodes cover {sum(lengths)}")
    return np.repeat(np.array(values, dtype=np.uint8), lengths)


def dense_string(registers: np.ndarray) -> bytes:
    """The dense Redis HLL string of ``registers`` (each in [0, 63]), its cached cardinality marked stale."""
    regs = np.asarray(registers).astype(np.uint8)
    bits = ((regs[:, None] >> np.arange(6, dtype=np.uint8)) & 1).astype(np.uint8).ravel()
    return b"HYLL" + bytes([DENSE]) + bytes(3) + bytes(7) + b"\x80" + \
        np.packbits(bits, bitorder="little").tobytes()


_ITEM_PREFIX = np.frombuffer(b"$8\r\n", dtype=np.uint8)
_CRLF = np.frombuffer(b"\r\n", dtype=np.uint8)


def pfadd_commands(key: bytes, items: np.ndarray, chunk: int = 1 << 14) -> tuple[bytes, int]:
    """RESP2 bytes of PFADD commands adding ``items`` (8-byte little-endian each) to ``key``, and how many.

    >>> payload, count = pfadd_commands(b"k", np.array([1], dtype=np.int64))
    >>> payload, count
    (b'*3\\r\\n$5\\r\\nPFADD\\r\\n$1\\r\\nk\\r\\n$8\\r\\n\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\r\\n', 1)
    """
    items = np.ascontiguousarray(items, dtype="<i8")
    body = np.empty((len(items), 14), dtype=np.uint8)
    body[:, :4] = _ITEM_PREFIX
    body[:, 4:12] = items.view(np.uint8).reshape(-1, 8)
    body[:, 12:] = _CRLF
    parts = []
    for start in range(0, len(items), chunk):
        size = min(chunk, len(items) - start)
        parts.append(b"*%d\r\n$5\r\nPFADD\r\n$%d\r\n%s\r\n" % (size + 2, len(key), key))
        parts.append(body[start:start + size].tobytes())
    return b"".join(parts), len(parts) // 2


def pfadd_pfcount_pairs(key: bytes, items: np.ndarray) -> bytes:
    """RESP2 bytes of ``PFADD key item; PFCOUNT key`` for each item in turn (a shadow device's probe)."""
    items = np.ascontiguousarray(items, dtype="<i8")
    head = b"*3\r\n$5\r\nPFADD\r\n$%d\r\n%s\r\n$8\r\n" % (len(key), key)
    tail = b"\r\n*2\r\n$7\r\nPFCOUNT\r\n$%d\r\n%s\r\n" % (len(key), key)
    record = np.empty((len(items), len(head) + 8 + len(tail)), dtype=np.uint8)
    record[:, :len(head)] = np.frombuffer(head, dtype=np.uint8)
    record[:, len(head):len(head) + 8] = items.view(np.uint8).reshape(-1, 8)
    record[:, len(head) + 8:] = np.frombuffer(tail, dtype=np.uint8)
    return record.tobytes()
