"""The distributed wire format: whatever bytes a server sends, decoding ends in a value or a WireError."""

from __future__ import annotations

import json
import multiprocessing
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.distributed.servers import ProcessServer, ServerError
from wbstream.distributed.wire import MAGIC, WireError, decode, decode_value, encode, encode_value, read_bfv, read_plain

VALID = encode({"fingerprint": "ab", "scalars": {"m": 3}},
               {"table": np.arange(6, dtype=np.int64).reshape(2, 3), "w": np.ones(4, np.uint8)})


def message(header: object, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return MAGIC + len(raw).to_bytes(4, "little") + raw + body


def only_wire_errors(data: bytes) -> None:
    for read in (decode, decode_value, read_plain, read_bfv):
        try:
            read(data)
        except WireError:
            pass


@pytest.mark.parametrize("data, why", [
    (message({"meta": {}, "arrays": [["a", "(08,)i8", [1]]]}, bytes(8)), "dtype"),  # numpy's SyntaxError
    (message({"meta": {}, "arrays": [["a", "(2,)i8", [1]]]}, bytes(16)), "dtype"),  # a sub-array dtype
    (message({"meta": {}, "arrays": [["a", "|O", [1]]]}, bytes(8)), "dtype"),
    (message({"meta": {}, "arrays": [["a", "<i8", [2**100]]]}, bytes(8)), "past the end"),  # was OverflowError
    (message({"meta": {}, "arrays": [["a", "<i8", [2**62, 2**62]]]}, bytes(8)), "past the end"),
    (message({"meta": {}, "arrays": [["a", "<i8", [True]]]}, bytes(8)), "shape"),
    (message({"meta": {}, "arrays": [["a", "<i8", [1]], ["a", "<i8", [1]]]}, bytes(16)), "name"),
    (message(b"[" * 100_000 + b"]" * 100_000), "RecursionError"),  # deeply nested JSON
    (message({"meta": {}, "arrays": {"abc": 1}}), "header"),
    (MAGIC + (2**32 - 1).to_bytes(4, "little") + b"{}", "runs past"),
])
def test_hostile_headers_are_wire_errors(data, why):
    with pytest.raises(WireError, match=why):
        decode(data)


def test_a_value_round_trips_and_a_hostile_value_is_a_wire_error():
    from wbstream.engine.coins import Coins

    coins = Coins.from_seed(1, "x")
    coins.words("k", 3)
    big = np.array([2**80, -5], dtype=object)
    value = {"log": coins.log, "big": big, "raw": b"\x00\xff", "n": [1, 2.5, None, True, "s"]}
    back = decode_value(encode_value(value))
    assert back["log"][0].label == "k" and np.array_equal(back["log"][0].values, coins.log[0].values)
    assert back["big"].tolist() == [2**80, -5] and back["raw"] == b"\x00\xff" and back["n"] == value["n"]
    for bad in ({"value": {"$ints": [1, 2], "shape": [10**12]}}, {"value": {"$array": "9"}},
                {"value": {"$coin": [0, "k", 0, 8, {"$array": "0"}]}}, {"value": {"$weird": 1}}):
        with pytest.raises(WireError):
            decode_value(encode(bad, {}))


@given(st.binary(max_size=300))
def test_random_bytes_decode_to_a_value_or_a_wire_error(data):
    only_wire_errors(data)
    only_wire_errors(MAGIC + data)


@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=6),
       st.integers(0, len(VALID)))
def test_mutated_messages_decode_to_a_value_or_a_wire_error(flips, cut):
    data = bytearray(VALID)
    for at, byte in flips:
        data[at] = byte
    only_wire_errors(bytes(data))
    only_wire_errors(bytes(data[:cut]))


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                                          max_size=4), max_leaves=20)


@given(json_values, st.lists(st.lists(json_values, min_size=3, max_size=3), max_size=3), st.binary(max_size=64))
def test_arbitrary_json_headers_decode_to_a_value_or_a_wire_error(meta, arrays, body):
    only_wire_errors(message({"meta": meta, "arrays": arrays}, body))
    only_wire_errors(message({"meta": {"value": meta}, "arrays": []}, body))


def _hostile_server(conn, marker):
    class Boom:
        def __reduce__(self):
            return (exec, (f"open({marker!r}, 'w').close()",))

    conn.recv()
    conn.send(Boom())  # a pickle that would run code where it is unpickled
    conn.recv()


def test_a_pickle_from_a_server_process_is_refused_and_never_run(tmp_path):
    marker = str(tmp_path / "pickle-ran")
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_hostile_server, args=(child, marker), daemon=True)
    proc.start()
    child.close()
    server = ProcessServer.__new__(ProcessServer)  # a server process gone hostile
    server.name, server._conn, server._proc = "server 0", parent, proc
    try:
        with pytest.raises(ServerError, match="server 0 sent a malformed"):
            server.update(np.array([1]), np.array([1]))
        assert not os.path.exists(marker)
    finally:
        proc.kill()
        proc.join()
        parent.close()
