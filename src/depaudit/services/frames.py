"""The frames the registry's worker processes answer in (``decode_worker``, ``fetch_worker``)
and the fetch workers are given their set-up and jobs in: a pickle, after its length as 8
bytes. Every worker is this interpreter running depaudit, started by the scan, so the
pickles are the scan's own; a frame that does not unpickle to what is expected makes the
scan stop trusting the worker that wrote it."""

from __future__ import annotations

import pickle
import struct
from collections.abc import Iterator
from typing import IO, Any

LENGTH = struct.Struct("<Q")


def encode_frame(value: object) -> bytes:
    """``value`` as one frame's bytes."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return LENGTH.pack(len(data)) + data


def write_frame(stream: IO[bytes], value: object) -> None:
    """``value`` as one frame (not flushed)."""
    stream.write(encode_frame(value))


def read_exact(stream: IO[bytes], size: int) -> bytes | None:
    """The next ``size`` bytes, or None where the stream ends before them."""
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def read_payload(stream: IO[bytes]) -> bytes | None:
    """The next frame's pickle, or None where the stream ends (or ends inside a frame)."""
    head = read_exact(stream, LENGTH.size)
    return None if head is None else read_exact(stream, LENGTH.unpack(head)[0])


def read_frame(stream: IO[bytes]) -> Any:
    """The next frame's value, or None where the stream ends (or the frame is damaged)."""
    data = read_payload(stream)
    return None if data is None else load(data)


def load(payload: bytes) -> Any:
    """A frame's value; None for a damaged one, whatever pickle makes of it."""
    try:
        return pickle.loads(payload)  # noqa: S301 - written by the scan or its own worker
    except Exception:  # noqa: BLE001 - (pickle raises many kinds on damaged input)
        return None


def payloads_in(buffer: bytearray) -> Iterator[bytes]:
    """The whole frames' pickles at the start of ``buffer`` (bytes read as they came), each
    taken out of it; what is left is a frame still cut short."""
    while len(buffer) >= LENGTH.size:
        size = LENGTH.unpack_from(buffer)[0]
        if len(buffer) < LENGTH.size + size:
            return
        payload = bytes(buffer[LENGTH.size : LENGTH.size + size])
        del buffer[: LENGTH.size + size]
        yield payload
