"""What travels from a server to the coordinator: a JSON header and raw numeric arrays, never pickle.

A message may come from a party the coordinator does not control, so nothing in
it is executed or unpickled: the header is JSON, and each array is a declared
numeric dtype and shape over raw little-endian bytes. A malformed or hostile
message is a clear :class:`WireError`. The format (``WBM1``, a 4-byte header
length, the header, the array bytes) costs a few hundred bytes beyond the data.

>>> import numpy as np
>>> data = encode({"fingerprint": "ab12", "scalars": {"m": 7}}, {"table": np.arange(4)})
>>> meta, arrays = decode(data)
>>> meta["scalars"], arrays["table"].tolist(), len(data)  # 32 bytes of data, the rest header
({'m': 7}, [0, 1, 2, 3], 129)
>>> decode(data[:40])
Traceback (most recent call last):
...
wbstream.distributed.wire.WireError: a malformed message (...)
"""

from __future__ import annotations

import json

import numpy as np

from wbstream.crypto.he import EncryptedMessage
from wbstream.engine.errors import WbstreamError

MAGIC = b"WBM1"
#: Array dtypes a message may declare: integers, unsigned integers and floats (numpy kinds).
NUMERIC_KINDS = "iuf"


class WireError(WbstreamError, ValueError):
    """A message that cannot be decoded (truncated, corrupt, or not a message at all)."""


def encode(meta: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """``meta`` (JSON) and named numeric arrays as one byte string."""
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    layout = [[name, a.dtype.newbyteorder("<").str, list(a.shape)] for name, a in arrays.items()]
    header = json.dumps({"meta": meta, "arrays": layout}, sort_keys=True).encode()
    body = b"".join(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes() for a in arrays.values())
    return MAGIC + len(header).to_bytes(4, "little") + header + body


def decode(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The ``(meta, arrays)`` of a message from :func:`encode`; anything else is a :class:`WireError`."""
    try:
        if bytes(data[:4]) != MAGIC:
            raise ValueError("no WBM1 magic")
        size = int.from_bytes(data[4:8], "little")
        header = json.loads(bytes(data[8:8 + size]))
        meta, layout, offset, arrays = header["meta"], header["arrays"], 8 + size, {}
        if not isinstance(meta, dict):
            raise ValueError("the metadata is not a JSON object")
        for name, dtype_str, shape in layout:
            dtype = np.dtype(str(dtype_str))
            if dtype.kind not in NUMERIC_KINDS or any(not isinstance(d, int) or d < 0 for d in shape):
                raise ValueError(f"array {name!r}: {dtype_str} {shape} is not a numeric array")
            nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
            if offset + nbytes > len(data):
                raise ValueError(f"array {name!r} runs past the end of the message")
            arrays[str(name)] = np.frombuffer(data, dtype=dtype, count=nbytes // dtype.itemsize,
                                              offset=offset).reshape(shape).astype(dtype.newbyteorder("="))
            offset += nbytes
        if offset != len(data):
            raise ValueError(f"{len(data) - offset} trailing bytes")
    except (ValueError, TypeError, KeyError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WireError(f"a malformed message ({type(exc).__name__}: {exc})") from None
    return meta, arrays


def plain_message(alg) -> bytes:
    """A server's plain message: its merge fingerprint and merged entries (arrays, or integers)."""
    state = alg.state()
    arrays = {k: np.asarray(state[k]) for k in alg.merge_moduli() if isinstance(state[k], np.ndarray)}
    scalars = {k: int(state[k]) for k in alg.merge_moduli() if k not in arrays}
    return encode({"fingerprint": alg.merge_fingerprint(), "scalars": scalars}, arrays)


def read_plain(data: bytes) -> tuple[str, dict]:
    """``(fingerprint, merged entries)`` of a plain message."""
    meta, arrays = decode(data)
    if not isinstance(meta.get("fingerprint"), str) or not isinstance(meta.get("scalars"), dict):
        raise WireError("a malformed plain message (no fingerprint or scalars)")
    return meta["fingerprint"], {**arrays, **meta["scalars"]}


def bfv_message(fields: dict[str, EncryptedMessage]) -> bytes:
    """A server's encrypted message: per field, its ids and digests (JSON) and ciphertexts (bytes)."""
    meta = {name: {"key_id": m.key_id, "tag": m.tag, "plan": m.plan, "digests": list(m.digests),
                   "count": len(m.ciphertexts)} for name, m in fields.items()}
    arrays = {f"{name}:{j}": np.frombuffer(ct, dtype=np.uint8)
              for name, m in fields.items() for j, ct in enumerate(m.ciphertexts)}
    return encode(meta, arrays)


def read_bfv(data: bytes) -> dict[str, EncryptedMessage]:
    """The encrypted fields of a message from :func:`bfv_message`."""
    meta, arrays = decode(data)
    try:
        return {name: EncryptedMessage(str(m["key_id"]), str(m["tag"]), str(m["plan"]),
                                       tuple(arrays[f"{name}:{j}"].tobytes() for j in range(int(m["count"]))),
                                       tuple(str(d) for d in m["digests"]))
                for name, m in meta.items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"a malformed encrypted message ({type(exc).__name__}: {exc})") from None
