"""The decoding worker: ``python -m depaudit.services.decode_worker``, which
:class:`depaudit.services.registry_decode.Decoder` starts and feeds.

Bodies come in on its standard input, each as a frame (its length, its encoding, the cap on its
inflated size) and its bytes; each answer goes out in order as a length-prefixed pickle of what
a thread decoding it would have returned, or of the error it raised. This module holds only
what the worker runs, so each worker starts without the threads, futures and subprocesses of
the side that feeds it (registry_decode.py): a start on an empty input counted 156 M
instructions against 186 M, on the core the decoding needs.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import zlib
from typing import IO, Any

from depaudit.services.frames import read_exact, write_frame
from depaudit.services.packument_body import pack_body

#: the inflating module: ISA-L's, with zlib's interface, 1.4-2x faster on the registry's
#: bodies (benchmarks/README.md, "Cold scan against the registry itself"); the standard zlib
#: where isal has no wheel
INFLATING: Any = zlib
with contextlib.suppress(ImportError):
    from isal import isal_zlib

    INFLATING = isal_zlib

#: a body's frame to the worker: its length, its encoding, the cap on its inflated size
BODY_FRAME = struct.Struct("<QBQ")
#: how a body is encoded (the registry's Content-Encoding, as asked: gzip)
AS_IS, ZLIB = 0, 1
ENCODINGS = {"": AS_IS, "identity": AS_IS, "gzip": ZLIB, "x-gzip": ZLIB, "deflate": ZLIB}


def decode(body: bytes) -> dict[str, Any]:
    """The cached form of a packument body (ValueError: not JSON, not a packument):
    ``metrics.pack(metrics.extract_body(body))``, by :func:`pack_body`'s faster route."""
    return pack_body(body)


class TooLarge(Exception):
    """The body inflates past its cap: reading stopped there (a compression bomb)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body exceeds {limit} bytes")
        self.limit = limit


class Undecodable(Exception):
    """The body is not in the encoding it says (or in one depaudit did not ask for)."""


def inflate(body: bytes, encoding: int, limit: int) -> bytes:
    """``body`` as sent, inflated when it is gzip or zlib, never past ``limit`` bytes (a
    bounded piece at a time: a 200 MB bomb of 200 kB stops at the cap, as libcurl's did)."""
    if encoding == AS_IS:
        return body
    inflater = INFLATING.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or a zlib header
    try:
        out: bytes = inflater.decompress(body, limit + 1)
    except INFLATING.error:
        raise Undecodable from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(limit)
    if not inflater.eof:
        raise Undecodable  # cut short
    return out


def decode_frame(body: bytes, encoding: int, limit: int) -> tuple[dict[str, Any], int]:
    """:func:`decode` of the inflated body, and its inflated size."""
    data = inflate(body, encoding, limit)
    return decode(data), len(data)


def answer_for(body: bytes, encoding: int | None, limit: int) -> dict[str, Any]:
    """:func:`decode_frame` of a body as the answer a worker sends: ``{"ok": data, "size":
    inflated}``, or what it raised (``too_large``, ``undecodable``, ``value_error``,
    ``crash``). ``encoding`` None: one depaudit did not ask for (undecodable)."""
    if encoding is None:
        return {"undecodable": True}
    try:
        data, inflated = decode_frame(body, encoding, limit)
    except TooLarge:
        return {"too_large": limit}
    except Undecodable:
        return {"undecodable": True}
    except ValueError as exc:
        return {"value_error": str(exc)[:200]}
    except Exception as exc:  # noqa: BLE001 - handed to the scan, which raises it
        return {"crash": f"{type(exc).__name__}: {exc}"[:500]}
    return {"ok": data, "size": inflated}


def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """The worker: bodies in, answers out, until the input ends."""
    while (head := read_exact(source, BODY_FRAME.size)) is not None:
        size, encoding, limit = BODY_FRAME.unpack(head)
        body = read_exact(source, size)
        if body is None:
            return
        answer = answer_for(body, encoding, limit)
        del body
        write_frame(sink, answer)
        sink.flush()


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scan's; the pipe's end is ours
    serve(sys.stdin.buffer, sys.stdout.buffer)
    sys.stdout.flush()
    # nothing to tear down: the scan waits for this exit, and an interpreter's orderly
    # shutdown took tens of ms
    os._exit(0)
