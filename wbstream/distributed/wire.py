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
import math
import re

import numpy as np

from wbstream.crypto.he import EncryptedMessage
from wbstream.engine.coins import CoinDraw
from wbstream.engine.errors import WbstreamError

MAGIC = b"WBM1"
#: The array dtypes a message may declare: booleans, integers, unsigned integers and floats, by numpy's
#: own spelling (``<i8``); anything else (sub-arrays, records, objects) is refused before numpy parses it.
DTYPE = re.compile(r"[<>|=]?(b1|[iu][1248]|f[248])")
#: Dimensions an array may declare (numpy's own limit).
MAX_DIMS = 32


class WireError(WbstreamError, ValueError):
    """A message that cannot be decoded (truncated, corrupt, or not a message at all)."""


def encode(meta: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """``meta`` (JSON) and named numeric arrays as one byte string."""
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    layout = [[name, a.dtype.newbyteorder("<").str, list(a.shape)] for name, a in arrays.items()]
    header = json.dumps({"meta": meta, "arrays": layout}, sort_keys=True).encode()
    body = b"".join(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes() for a in arrays.values())
    return MAGIC + len(header).to_bytes(4, "little") + header + body


def _array_layout(entry, names: set) -> tuple[str, np.dtype, tuple[int, ...], int]:
    """``(name, dtype, shape, nbytes)`` of one declared array, checked before numpy sees any of it."""
    if not isinstance(entry, list) or len(entry) != 3:
        raise ValueError("an array entry is not [name, dtype, shape]")
    name, dtype_str, shape = entry
    if not isinstance(name, str) or name in names:
        raise ValueError(f"array name {name!r} is not a new string")
    if not isinstance(dtype_str, str) or not DTYPE.fullmatch(dtype_str):
        raise ValueError(f"array {name!r}: dtype {dtype_str!r} is not a numeric dtype")
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or any(type(d) is not int or d < 0 for d in shape)):
        raise ValueError(f"array {name!r}: shape {shape!r} is not a list of at most {MAX_DIMS} sizes")
    dtype = np.dtype(dtype_str)
    return name, dtype, tuple(shape), dtype.itemsize * math.prod(shape)  # Python ints: no overflow


def decode(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The ``(meta, arrays)`` of a message from :func:`encode`; anything else is a :class:`WireError`."""
    try:
        data = bytes(data)
        if data[:4] != MAGIC or len(data) < 8:
            raise ValueError("no WBM1 magic")
        size = int.from_bytes(data[4:8], "little")
        if 8 + size > len(data):
            raise ValueError(f"a header of {size} bytes runs past the end of the message")
        header = json.loads(data[8:8 + size])
        if not isinstance(header, dict) or not isinstance(header.get("meta"), dict) \
                or not isinstance(header.get("arrays"), list):
            raise ValueError("the header is not {meta: object, arrays: list}")
        offset, arrays = 8 + size, {}
        for entry in header["arrays"]:
            name, dtype, shape, nbytes = _array_layout(entry, set(arrays))
            if nbytes > len(data) - offset:
                raise ValueError(f"array {name!r} runs past the end of the message")
            arrays[name] = np.frombuffer(data, dtype=dtype, count=nbytes // dtype.itemsize,
                                         offset=offset).reshape(shape).astype(dtype.newbyteorder("="))
            offset += nbytes
        if offset != len(data):
            raise ValueError(f"{len(data) - offset} trailing bytes")
    except WireError:
        raise
    except Exception as exc:  # noqa: BLE001  whatever a hostile message trips on is a WireError
        raise WireError(f"a malformed message ({type(exc).__name__}: {str(exc)[:200]})") from None
    return header["meta"], arrays


# -- values: a server's replies (states, coin logs) as JSON plus arrays ----------------------------

def encode_value(value) -> bytes:
    """A reply value (None, numbers, strings, bytes, numeric arrays, CoinDraws, and lists and
    string-keyed dicts of these) as one message; :func:`decode_value` rebuilds it.

    >>> import numpy as np
    >>> back = decode_value(encode_value({"t": np.arange(3), "p": 2**70, "k": b"ab", "v": [1.5, None]}))
    >>> back["t"].tolist(), back["p"], back["k"], back["v"]
    ([0, 1, 2], 1180591620717411303424, b'ab', [1.5, None])
    """
    arrays: dict[str, np.ndarray] = {}

    def tree(v):
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return float(v)
        if isinstance(v, (bytes, bytearray, memoryview)):
            arrays[str(len(arrays))] = np.frombuffer(bytes(v), dtype=np.uint8)
            return {"$bytes": str(len(arrays) - 1)}
        if isinstance(v, CoinDraw):
            return {"$coin": [v.round, v.label, v.offset, v.nbytes, tree(v.values)]}
        if isinstance(v, np.ndarray):
            if v.dtype.kind == "O":  # big integers: exact, as JSON numbers
                return {"$ints": [int(x) for x in v.reshape(-1)], "shape": list(v.shape)}
            arrays[str(len(arrays))] = v
            return {"$array": str(len(arrays) - 1)}
        if isinstance(v, (list, tuple)):
            return [tree(x) for x in v]
        if isinstance(v, dict) or hasattr(v, "items"):
            return {"$dict": [[str(k), tree(x)] for k, x in v.items()]}
        raise TypeError(f"a {type(v).__name__} cannot travel in a message")

    return encode({"value": tree(value)}, arrays)


def decode_value(data: bytes):
    """The value of a message from :func:`encode_value`; anything else is a :class:`WireError`."""
    meta, arrays = decode(data)

    def build(v, depth=0):
        if depth > 64:
            raise ValueError("nested too deeply")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return [build(x, depth + 1) for x in v]
        if not isinstance(v, dict) or len(v) not in (1, 2):
            raise ValueError("an unknown value")
        if "$array" in v:
            return arrays[v["$array"]]
        if "$bytes" in v:
            return arrays[v["$bytes"]].tobytes()
        if "$ints" in v:
            flat, shape = v["$ints"], v["shape"]
            if not isinstance(flat, list) or any(type(x) is not int for x in flat) \
                    or not isinstance(shape, list) or any(type(d) is not int or d < 0 for d in shape) \
                    or math.prod(shape) != len(flat):
                raise ValueError("a malformed integer array")
            ints = np.empty(len(flat), dtype=object)
            ints[:] = flat
            return ints.reshape(shape)
        if "$coin" in v:
            r, label, offset, nbytes, values = v["$coin"]
            values = build(values, depth + 1)
            if not isinstance(values, np.ndarray) or not all(type(x) is int for x in (r, offset, nbytes)):
                raise ValueError("a malformed coin draw")
            return CoinDraw.of(r, str(label), offset, nbytes, values)
        if "$dict" in v:
            return {str(k): build(x, depth + 1) for k, x in v["$dict"]}
        raise ValueError("an unknown value")

    try:
        return build(meta.get("value"))
    except Exception as exc:  # noqa: BLE001
        raise WireError(f"a malformed value ({type(exc).__name__}: {str(exc)[:200]})") from None


def plain_message(alg) -> bytes:
    """A server's plain message: its merge fingerprint and merged entries (arrays, or integers)."""
    state = alg.state()
    arrays = {k: np.asarray(state[k]) for k in alg.merge_moduli() if isinstance(state[k], np.ndarray)}
    scalars = {k: int(state[k]) for k in alg.merge_moduli() if k not in arrays}
    return encode({"fingerprint": alg.merge_fingerprint(), "scalars": scalars}, arrays)


def read_plain(data: bytes) -> tuple[str, dict]:
    """``(fingerprint, merged entries)`` of a plain message."""
    meta, arrays = decode(data)
    scalars = meta.get("scalars")
    if not isinstance(meta.get("fingerprint"), str) or not isinstance(scalars, dict) \
            or any(type(v) is not int for v in scalars.values()):
        raise WireError("a malformed plain message (no fingerprint, or scalars that are not integers)")
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
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise WireError(f"a malformed encrypted message ({type(exc).__name__}: {exc})") from None
