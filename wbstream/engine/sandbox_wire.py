"""The bytes an isolated adversary sends its referee, decoded strictly: never unpickled.

Each message is one tag byte and a fixed little-endian layout; a message whose
length does not match its header exactly, or that exceeds the cap on updates, is
an :class:`~wbstream.engine.errors.AdversaryError`. What the referee decodes is
plain int64 (or float64 rows) arrays; it then checks them as it checks any batch.

>>> from wbstream.engine.stream import Batch
>>> data = encode_batch(Batch.single(5, -2))
>>> kind, batch = decode(data, cap=10)
>>> kind, batch.indices.tolist(), batch.deltas.tolist()
('batch', [5], [-2])
>>> decode(data[:-1], cap=10)
Traceback (most recent call last):
...
wbstream.engine.errors.AdversaryError: the isolated adversary sent a malformed message (a batch of 1 updates needs 25 bytes, got 24)
"""

from __future__ import annotations

import os
import select
import struct
import time

import numpy as np

from .errors import AdversaryError
from .stream import Batch, RowBatch, as_batch  # noqa: F401  (as_batch: for the child)

BATCH, ROWS, STOP, ERROR, REQUEST, BLOCK, NOTES = b"B", b"W", b"N", b"E", b"Q", b"K", b"O"
#: What a request may ask for: the state, the coins, a detached copy.
REQUESTS = {b"S": "state", b"C": "coins", b"D": "copy"}
#: How a block of rounds ended: more may follow, the adversary stopped, the adversary raised.
MORE, STOPPED, RAISED = 0, 1, 2
_Q, _QQ, _BLOCK = struct.Struct("<q"), struct.Struct("<qq"), struct.Struct("<qqqB")
_I64 = np.dtype("<i8")
_F64 = np.dtype("<f8")
#: Characters of an adversary's error message that are kept.
MESSAGE_CHARS = 400
#: The most characters of an adversary's notes (longer notes are refused, not cut).
NOTES_CHARS = 4096


def encode_batch(batch) -> bytes:
    """A batch (or ``None``) as bytes, in the child."""
    if batch is None:
        return STOP
    if isinstance(batch, RowBatch):
        m, w = batch.rows.shape
        return ROWS + _QQ.pack(m, w) + np.ascontiguousarray(batch.rows, _F64).tobytes()
    return (BATCH + _Q.pack(len(batch.indices)) + np.ascontiguousarray(batch.indices, _I64).tobytes()
            + np.ascontiguousarray(batch.deltas, _I64).tobytes())


def encode_block(batches: list, stop: int, message: str = "") -> bytes:
    """Consecutive rounds' entry batches as one message: per-round lengths, then every index, then every delta."""
    lengths = np.fromiter((len(b) for b in batches), _I64, count=len(batches))
    total = int(lengths.sum())
    head = _BLOCK.pack(len(batches), total, 0, stop)
    idx = np.concatenate([b.indices for b in batches]) if batches else np.zeros(0, _I64)
    dlt = np.concatenate([b.deltas for b in batches]) if batches else np.zeros(0, _I64)
    return (BLOCK + head + lengths.tobytes() + np.ascontiguousarray(idx, _I64).tobytes()
            + np.ascontiguousarray(dlt, _I64).tobytes() + message.encode()[:4 * MESSAGE_CHARS])


def encode_notes(notes) -> bytes:
    """The adversary's notes (a string of at most ``NOTES_CHARS`` characters, or None) as bytes, in the child.

    >>> decode(encode_notes("3 rounds"), cap=0), decode(encode_notes(None), cap=0)
    (('notes', '3 rounds'), ('notes', None))
    """
    if notes is None:
        return NOTES + b"\x00"
    return NOTES + b"\x01" + check_notes(notes).encode("utf-8")


def check_notes(notes):
    """``notes`` if it is None or a string of at most ``NOTES_CHARS`` characters, else TypeError (in either mode)."""
    if notes is not None and (not isinstance(notes, str) or len(notes) > NOTES_CHARS):
        raise TypeError(f"notes() must return None or a string of at most {NOTES_CHARS:,} characters, "
                        f"got {type(notes).__name__}" + (f" of {len(notes):,}" if isinstance(notes, str) else ""))
    return notes


def encode_error(exc: BaseException) -> bytes:
    return ERROR + f"{type(exc).__name__}: {exc}".encode()[:4 * MESSAGE_CHARS]


def _bad(why: str) -> AdversaryError:
    return AdversaryError(f"the isolated adversary sent a malformed message ({why})")


def _text(data) -> str:
    return bytes(data).decode("utf-8", errors="replace")[:MESSAGE_CHARS]


def decode(data: bytes, cap: int, max_rounds: int = 0):
    """``(kind, value)`` of a message from the child; anything malformed or over ``cap`` updates raises."""
    if not data:
        raise _bad("an empty message")
    tag, body = data[:1], memoryview(data)[1:]
    if tag == BATCH:
        if len(body) < 8:
            raise _bad("a batch without its length")
        (count,) = _Q.unpack_from(body)
        if not 0 <= count <= cap:
            raise AdversaryError(f"the isolated adversary sent a batch of {count} updates; the cap is {cap}")
        if len(body) != 8 + 16 * count:
            raise _bad(f"a batch of {count} updates needs {9 + 16 * count} bytes, got {len(data)}")
        both = np.frombuffer(body, _I64, 2 * count, 8).astype(np.int64)  # one private copy: indices, then deltas
        return "batch", Batch(both[:count], both[count:])
    if tag == ROWS:
        if len(body) < 16:
            raise _bad("rows without their shape")
        m, w = _QQ.unpack_from(body)
        if m < 0 or w < 0 or m * w > cap:
            raise AdversaryError(f"the isolated adversary sent {m} x {w} rows; the cap is {cap} entries")
        if len(body) != 16 + 8 * m * w:
            raise _bad(f"{m} x {w} rows need {17 + 8 * m * w} bytes, got {len(data)}")
        return "batch", RowBatch(np.frombuffer(body, _F64, m * w, 16).reshape(m, w))
    if tag == STOP:
        if len(body):
            raise _bad("bytes after a stop")
        return "stop", None
    if tag == ERROR:
        return "error", _text(body)
    if tag == REQUEST:
        what = REQUESTS.get(bytes(body))
        if what is None:
            raise _bad(f"an unknown request {_text(body)[:20]!r}")
        return "request", what
    if tag == BLOCK:
        return "block", _decode_block(body, cap, max_rounds)
    if tag == NOTES:
        return "notes", _decode_notes(body)
    raise _bad(f"an unknown tag {tag!r}")


def _decode_block(body, cap: int, max_rounds: int):
    if len(body) < _BLOCK.size:
        raise _bad("a block without its header")
    m, total, _, stop = _BLOCK.unpack_from(body)
    if not 0 <= m <= max_rounds or stop not in (MORE, STOPPED, RAISED):
        raise _bad(f"a block of {m} rounds (at most {max_rounds} were asked for), end code {stop}")
    if not 0 <= total <= cap:
        raise AdversaryError(f"the isolated adversary sent a block of {total} updates; the cap is {cap}")
    at = _BLOCK.size
    need = at + 8 * m + 16 * total
    if len(body) < need or (stop != RAISED and len(body) != need):
        raise _bad(f"a block of {m} rounds and {total} updates needs {1 + need} bytes, got {1 + len(body)}")
    lengths = np.frombuffer(body, _I64, m, at)
    if (lengths < 0).any() or (lengths > total).any() or int(lengths.sum()) != total:  # no int64 wrap
        raise _bad("block lengths that do not add up")
    both = np.frombuffer(body, _I64, 2 * total, at + 8 * m).astype(np.int64)
    idx, dlt = both[:total], both[total:]
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    batches = [Batch(idx[a:b], dlt[a:b]) for a, b in zip(starts, ends)]
    return batches, stop, _text(body[need:])


def _decode_notes(body):
    if len(body) == 1 and body[0] == 0:
        return None
    if not len(body) or body[0] != 1 or len(body) > 1 + 4 * NOTES_CHARS:
        raise _bad("notes that are neither None nor a bounded string")
    try:
        text = bytes(body[1:]).decode("utf-8")  # strict: invalid bytes are refused, not replaced
    except UnicodeDecodeError:
        raise _bad("notes that are not UTF-8") from None
    if len(text) > NOTES_CHARS:
        raise _bad(f"notes of {len(text):,} characters; at most {NOTES_CHARS:,}")
    return text


_HEAD, _LONG = struct.Struct("!i"), struct.Struct("!Q")


class WriteTimeout(TimeoutError):
    """The reader did not take a message before the deadline (its pipe stayed full)."""


def send(fd: int, data: bytes, deadline: float | None = None) -> None:
    """``data`` framed as ``Connection.send_bytes`` frames it, in one ``write`` when it fits.

    On a non-blocking ``fd``, a full pipe is waited on only until ``deadline``
    (``time.perf_counter()``), then :class:`WriteTimeout`: a reader that stops
    reading cannot hold the writer.
    """
    n = len(data)
    if n <= 1 << 16:
        msg = _HEAD.pack(n) + data
        try:
            sent = os.write(fd, msg)
        except BlockingIOError:
            sent = 0
        if sent != len(msg):
            _write_all(fd, memoryview(msg)[sent:], deadline)
        return
    _write_all(fd, memoryview(_HEAD.pack(n) if n <= 0x7FFFFFFF else _HEAD.pack(-1) + _LONG.pack(n)), deadline)
    _write_all(fd, memoryview(data), deadline)


def _write_all(fd: int, view: memoryview, deadline: float | None = None) -> None:
    poll = None
    while view:
        try:
            view = view[os.write(fd, view):]
            continue
        except BlockingIOError:
            pass
        if poll is None:
            poll = select.poll()
            poll.register(fd, select.POLLOUT)
        wait = None if deadline is None else deadline - time.perf_counter()
        if wait is not None and (wait <= 0 or not poll.poll(wait * 1000.0)):
            raise WriteTimeout(f"the reader took no bytes for {len(view):,} more before the deadline")
        if wait is None:
            poll.poll()


class TooLong(ValueError):
    """A message announced more bytes than the reader accepts."""


class FrameReader:
    """Messages in :mod:`multiprocessing`'s framing (what ``Connection.send_bytes`` writes), read
    straight from the descriptor: one ``read`` usually brings a whole small message, where
    ``recv_bytes`` makes two, and a partial message never blocks the reader.

    >>> r, w = os.pipe()
    >>> _ = os.write(w, _HEAD.pack(3) + b"abc" + _HEAD.pack(2) + b"de")
    >>> reader = FrameReader(r, limit=8)
    >>> reader.message() is None, reader.fill(), reader.message(), reader.message()
    (True, None, b'abc', b'de')
    >>> _ = os.write(w, _HEAD.pack(9)); reader.fill(); reader.message()
    Traceback (most recent call last):
    ...
    wbstream.engine.sandbox_wire.TooLong: a message of 9 bytes; at most 8
    >>> os.close(r), os.close(w)
    (None, None)
    """

    __slots__ = ("fd", "limit", "buf")

    def __init__(self, fd: int, limit: int | None = None):
        self.fd, self.limit, self.buf = fd, limit, bytearray()

    def message(self) -> bytes | None:
        """The next whole message in the buffer, or None until more bytes arrive."""
        buf = self.buf
        if len(buf) < 4:
            return None
        (n,) = _HEAD.unpack_from(buf)
        start = 4
        if n == -1:  # multiprocessing's header of a message over 2 GiB
            if len(buf) < 12:
                return None
            (n,) = _LONG.unpack_from(buf, 4)
            start = 12
        if n < 0 or (self.limit is not None and n > self.limit):
            raise TooLong(f"a message of {n} bytes; at most {self.limit}")
        end = start + n
        if len(buf) < end:
            return None
        with memoryview(buf) as view:
            data = bytes(view[start:end])
        del buf[:end]
        return data

    def fill(self) -> None:
        """One ``read`` (blocking if nothing is there); EOFError at the end of the stream."""
        chunk = os.read(self.fd, max(1 << 16, self._missing()))
        if not chunk:
            raise EOFError("the other end closed the channel")
        self.buf += chunk

    def _missing(self) -> int:
        if len(self.buf) < 4:
            return 0
        (n,) = _HEAD.unpack_from(self.buf)
        return n + 4 - len(self.buf) if n >= 0 and (self.limit is None or n <= self.limit) else 0

    def receive(self) -> bytes:
        """The next message, blocking until it is whole (for the child, which trusts its referee)."""
        while (data := self.message()) is None:
            self.fill()
        return data
