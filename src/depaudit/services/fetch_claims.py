"""How the fetch workers of one spawn share their jobs: each claims the next one through a pipe
they all read (the claims pipe), each time its fetch has room for a transfer, so a worker
whose documents are bigger, or that is slower, takes fewer.

Every worker is given every job (``fetch_worker.FetchWorkers.send``); the scan then writes
each job's index once on the claims pipe (:class:`Claims`), and a worker fetches the jobs
whose index it reads (:func:`claimed`). Shared out in turn instead (every other name), the
bigger documents can fall to one worker (theia's recorded ones: 115 MB against 96 MB), and a
worker that died or was slow left the rest of its share to the scan's own fetch, after the
other had ended (benchmarks/README.md, "Jobs claimed").

A claim is 8 bytes: the index and its complement (:data:`CLAIM`). Every write is whole
claims, at most ``PIPE_BUF`` bytes, which a pipe takes at once; every read is one claim. A
read that is short or whose halves do not match (which no pipe here makes) ends that
worker's claiming, and what it did not fetch is the scan's (as for a worker that dies).
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Iterator, Sequence
from typing import Any

#: one claim: a job's index and its complement
CLAIM = struct.Struct("<II")
_MASK = 0xFFFFFFFF


def claimed(jobs: Sequence[tuple[Any, str, dict[str, str]]], claims: int) -> Iterator[Any]:
    """A worker's jobs, ``(tag, url, headers)`` as :class:`~depaudit.http_bulk.Job` s, one
    each time it asks (its fetch draws its jobs lazily, when it has room for a transfer): the
    job whose index it reads from the claims pipe's read end ``claims``, until the pipe ends
    (every job claimed) or a claim does not read whole and matching."""
    from depaudit.http_bulk import Job

    while True:
        try:
            data = os.read(claims, CLAIM.size)
        except OSError:
            return
        if len(data) != CLAIM.size:
            return
        index, check = CLAIM.unpack(data)
        if check != index ^ _MASK or index >= len(jobs):
            return
        tag, url, headers = jobs[index]
        yield Job(tag, url, headers)


class Claims:
    """The scan's end of a claims pipe: :meth:`post` the claims of a number of jobs, which go
    into the pipe as it has room (:meth:`offer`, from the answers' ``select`` loop once the
    pipe is full), and the pipe is closed once all are in (the workers then claim to its end).
    Its descriptor does not block: a full pipe never holds up the reading of the answers
    that lets the workers go on."""

    def __init__(self, fd: int) -> None:
        from depaudit.services.registry_decode import widen_pipe

        os.set_blocking(fd, False)
        widen_pipe(fd)  # (theia's 1,766 names take 14 kB of claims; 131,072 fit in 1 MB)
        self.fd: int | None = fd
        self._pending = memoryview(b"")
        self._offset = 0

    def post(self, count: int) -> None:
        """The claims of jobs ``0`` to ``count - 1``, in order: those the pipe takes now."""
        self._pending = memoryview(b"".join(CLAIM.pack(i, i ^ _MASK) for i in range(count)))
        self._offset = 0
        self.offer()

    def offer(self) -> bool:
        """Write what the pipe takes now; close it once every claim is in (or no worker
        reads it any more). True while some are left to write."""
        import select

        step = max(1, select.PIPE_BUF // CLAIM.size) * CLAIM.size
        while self._offset < len(self._pending) and self.fd is not None:
            try:
                written = os.write(self.fd, self._pending[self._offset : self._offset + step])
            except BlockingIOError:
                return True
            except OSError:  # no worker reads it any more
                break
            self._offset += written
        self.close()
        return False

    def close(self) -> None:
        """Close the pipe (no more claims: the workers claim to its end)."""
        fd, self.fd = self.fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


class Crew(list[Any]):
    """Worker processes started together (``fetch_worker.spawn``) and the claims pipe they
    share: ``claims``, this process's end (None where there is none), and ``read_end``, the
    number of the pipe's read end in every worker."""

    claims: Claims | None = None
    read_end: int = -1

    def close_claims(self) -> None:
        if self.claims is not None:
            self.claims.close()
