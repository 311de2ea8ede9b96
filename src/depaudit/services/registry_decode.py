"""Packuments are decoded in a process of their own, beside the fetch the scan drives itself
(a big fetch runs in fetch workers first, which decode as they fetch: ``fetch_worker.py``;
what they do not answer, and every smaller fetch, comes here).

Decoding a packument (:func:`depaudit.services.packument_body.pack_body`) holds the
GIL for the whole body: 0.02-0.05 s for the 25 MB ``firebase`` one. In a thread of the scan's
process every transfer stalled meanwhile (libcurl's write callbacks need the GIL), and
decoding theia's 1,862 packuments (215 MB) took turns with the transport on one core
(benchmarks/README.md, "Cold scan"). In a process of its own it runs on another core while
the transfers go on. A big fetch starts a second one when the first falls behind
(:class:`Decoders`, where the scan may use two cores): with one, theia's last bodies from the
registry were still being decoded 0.26-0.6 s after the last answer came in.

:class:`Decoder` starts ``python -m depaudit.services.decode_worker`` (the same interpreter
and path; not ``multiprocessing``, whose ``spawn`` re-runs the caller's main script and whose
``fork`` would copy a process with threads; the worker's own module, so it starts without this
side's threads, futures and subprocesses) and speaks to it over its pipes: a length-prefixed
body in, a length-prefixed pickled answer out (exactly what a thread would have returned,
lone surrogates included), in order. A writer thread feeds it, a reader thread
settles the Futures. Where no process can be started, or when it dies, the bodies not answered
yet are decoded in a thread instead: results never depend on where they were decoded.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from queue import SimpleQueue
from typing import IO, Any

from depaudit.services.decode_worker import (
    BODY_FRAME,
    ENCODINGS,
    TooLarge,
    Undecodable,
    decode_frame,
)
from depaudit.services.frames import load, read_payload


class DecoderCrashed(RuntimeError):
    """The worker failed on a body with something other than ValueError (a bug)."""


#: the worker's input pipe, widened where the system allows: the bodies cross it 1 MB at a
#: time instead of Linux's 64 kB (theia's 215 MB through one worker: 0.49-0.57 s against
#: 0.61-0.74 s wall; benchmarks/README.md, "The decoding worker's pipe")
PIPE_BYTES = 1 << 20


def widen_pipe(descriptor: int, size: int = PIPE_BYTES) -> int:
    """At least ``size`` bytes for a pipe (Linux's ``F_SETPIPE_SZ``; never narrower): its
    size after, or 0 where the system cannot or will not (not a pipe, past
    ``/proc/sys/fs/pipe-max-size``, a user's pipe quota spent): the pipe is left as it was."""
    try:
        import fcntl

        now = int(fcntl.fcntl(descriptor, fcntl.F_GETPIPE_SZ))
        wider = min(size, 1 << 30)
        return now if now >= size else int(fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, wider))
    except (ImportError, AttributeError, OSError):  # not Linux
        return 0


#: the most buffers one ``writev`` takes (POSIX's ``IOV_MAX``; Linux's is 1024)
IOV_MAX = 1024


def write_all(stream: IO[bytes], parts: list[bytes]) -> None:
    """Every byte of ``parts``, in order, to ``stream`` (a pipe), never joined: ``os.writev``
    of up to :data:`IOV_MAX` of them at a time, the rest of a part cut short first in the
    next call; ``stream.write`` of each where there is no ``writev`` (not POSIX). OSError as
    ``write``'s (the worker died)."""
    stream.flush()  # (nothing is written through its buffer: a frame's bytes stay in order)
    writev = getattr(os, "writev", None)
    if writev is None:
        for part in parts:
            stream.write(part)
        stream.flush()
        return
    descriptor = stream.fileno()
    pending: list[bytes | memoryview] = list(parts)
    first = 0
    while first < len(pending):
        written = writev(descriptor, pending[first : first + IOV_MAX])
        while first < len(pending) and written >= len(pending[first]):
            written -= len(pending[first])
            first += 1
        if written:  # a part cut short: its rest goes first
            pending[first] = memoryview(pending[first])[written:]


def worker_argv() -> list[str]:
    """The worker's command: :mod:`depaudit.services.decode_worker`, run by this
    interpreter."""
    return [sys.executable, "-m", "depaudit.services.decode_worker"]


class Decoder:
    """``submit(body, encoding, limit)`` -> Future of :func:`decode_frame` (the body
    inflated here, under its cap, and decoded); a context manager that ends the worker."""

    def __init__(self, use_process: bool = True) -> None:
        self._thread: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._waiting: deque[tuple[Future[tuple[dict[str, Any], int]], _Job]] = deque()
        self._outbox: SimpleQueue[_Job | None] = SimpleQueue()
        self._worker: subprocess.Popen[bytes] | None = None  # kept to the end, to reap it
        self._live = False  # bodies go to the worker (False once it is gone)
        self._abandoned = False  # abandon(): what is not decoded yet never will be
        if use_process and sys.executable:
            with contextlib.suppress(OSError):
                self._worker = subprocess.Popen(
                    worker_argv(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
        self._feed: threading.Thread | None = None
        self._answers: threading.Thread | None = None
        if self._worker is not None:
            assert self._worker.stdin is not None
            widen_pipe(self._worker.stdin.fileno())
            self._live = True
            self._feed = threading.Thread(target=self._write, name="decode-feed", daemon=True)
            self._answers = threading.Thread(target=self._read, name="decode-answers", daemon=True)
            self._feed.start()
            self._answers.start()

    @property
    def started_process(self) -> bool:
        """Whether a worker process was started (it may have ended since)."""
        return self._worker is not None

    @property
    def in_process(self) -> bool:
        """Whether bodies go to the worker process (False: a thread decodes them)."""
        return self._live

    def submit(
        self, body: Body, encoding: str = "", limit: int = 0
    ) -> Future[tuple[dict[str, Any], int]]:
        """:func:`decode_frame` of a body sent with ``Content-Encoding: encoding``, inflated
        to at most ``limit`` bytes (TooLarge past it; Undecodable for an encoding not
        asked for or a body not in it; a body as it is has no cap here). The body is
        ``bytes``, or the chunks it came in (:class:`~depaudit.http.Pieces`' ``chunks``),
        which go to the worker as they are and are joined only for a thread."""
        code = ENCODINGS.get(encoding.strip().lower())
        if code is None:
            refused: Future[tuple[dict[str, Any], int]] = Future()
            refused.set_exception(Undecodable(encoding))
            return refused
        job = (body, code, limit)
        with self._lock:
            if self._live:
                result: Future[tuple[dict[str, Any], int]] = Future()
                self._waiting.append((result, job))
                self._outbox.put(job)
                return result
        return self._in_thread().submit(_decode_job, job)

    def _in_thread(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="registry-decode")
            return self._thread

    # -- the worker's pipes (threads) ----------------------------------------------------
    def _write(self) -> None:
        assert self._worker is not None and self._worker.stdin is not None
        stdin = self._worker.stdin
        try:
            while (job := self._outbox.get()) is not None:
                body, encoding, limit = job
                parts = [body] if isinstance(body, bytes) else list(body)
                frame = BODY_FRAME.pack(sum(map(len, parts)), encoding, limit)
                write_all(stdin, [frame, *parts])
                del job, body, parts
        except OSError:
            pass  # the worker died: the reader hands its bodies to a thread
        with contextlib.suppress(OSError):
            stdin.close()

    def _read(self) -> None:
        assert self._worker is not None and self._worker.stdout is not None
        stdout = self._worker.stdout
        try:
            while (raw := read_payload(stdout)) is not None:
                answer = _answer(raw)
                if answer is None:  # not an answer the worker writes: stop trusting it
                    break
                with self._lock:
                    future, _ = self._waiting.popleft()
                settle_future(future, answer)
        finally:
            # whatever ended the answers (the worker's exit, a broken frame, a bug here), the
            # worker goes, which ends a feed blocked on its input, and what it did not answer
            # is decoded in a thread: never a scan waiting on a worker nobody reads
            if self._worker.poll() is None:
                self._worker.kill()
            self._fail_over()

    def _fail_over(self) -> None:
        """The worker's output ended: what it did not answer is decoded in a thread (and so
        is everything submitted from now on); after :meth:`abandon`, nothing is."""
        with self._lock:
            left = list(self._waiting)
            self._waiting.clear()
            self._live = False
        self._outbox.put(None)  # the feed stops too, if the worker died under it
        if self._abandoned:
            return  # never settled: nobody waits on them, and their callbacks need not run
        for future, job in left:
            self._in_thread().submit(_decode_job, job).add_done_callback(
                partial(_copy, target=future)
            )

    def close(self) -> None:
        """Ends the worker after its last answer (and the thread, if one was used)."""
        self._outbox.put(None)  # the feed closes the worker's input: it answers and leaves
        if self._worker is not None:
            assert self._feed is not None and self._answers is not None
            self._feed.join()
            try:
                self._worker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._worker.kill()
                self._worker.wait()
            self._answers.join()  # its output ended with it
        if self._thread is not None:
            self._thread.shutdown(wait=True)

    def __enter__(self) -> Decoder:
        return self

    def abandon(self) -> None:
        """The fetch ended early (Ctrl-C, an error): the bodies not decoded yet are not
        wanted, so the worker is killed rather than left to decode them (up to 48 MB of
        gzip, seconds of work) while the scan waits to end."""
        with self._lock:
            self._abandoned = True
        if self._worker is not None and self._worker.poll() is None:
            self._worker.kill()

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            self.abandon()
        self.close()


#: bodies waiting on every worker before another starts (:class:`Decoders`)
BEHIND = 8


def decode_workers() -> int:
    """How many worker processes a big fetch may decode with: two where the scan may use two
    cores or more (the fetch loop takes little of one, and a single worker was still
    decoding 0.26-0.6 s after theia's last answer from the registry: benchmarks/README.md),
    else one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return 2 if cores >= 2 else 1


class Decoders:
    """Up to ``count`` :class:`Decoder` s side by side, one interface: a second starts when
    every one has ``behind`` bodies waiting (a fetch faster than one worker decodes: the
    registry's gzip bodies over HTTP/2; a registry far away never needs it), and each body
    goes to the one with the fewest bytes waiting (bodies differ in size by a thousand
    times). Every answer is the one a single decoder gives, wherever it was decoded."""

    def __init__(self, count: int = 1, use_process: bool = True, behind: int = BEHIND) -> None:
        self._use_process = use_process
        self._most = max(1, count) if use_process else 1
        self._behind = behind
        self._all = [Decoder(use_process)]
        self._waiting = [0]  # bytes
        self._queued = [0]  # bodies
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        """How many worker processes were started."""
        return sum(decoder.started_process for decoder in self._all)

    @property
    def in_process(self) -> bool:
        return any(decoder.in_process for decoder in self._all)

    def submit(
        self, body: Body, encoding: str = "", limit: int = 0
    ) -> Future[tuple[dict[str, Any], int]]:
        """:meth:`Decoder.submit` on the decoder with the fewest bytes waiting."""
        size = len(body) if isinstance(body, bytes) else sum(map(len, body))
        with self._lock:
            if len(self._all) < self._most and min(self._queued) >= self._behind:
                self._all.append(Decoder(self._use_process))
                self._waiting.append(0)
                self._queued.append(0)
            index = min(range(len(self._all)), key=self._waiting.__getitem__)
            self._waiting[index] += size
            self._queued[index] += 1
        future = self._all[index].submit(body, encoding, limit)
        future.add_done_callback(partial(self._answered, index, size))
        return future

    def _answered(self, index: int, size: int, _: object) -> None:
        with self._lock:
            self._waiting[index] -= size
            self._queued[index] -= 1

    def close(self) -> None:
        for decoder in self._all:
            decoder.close()

    def abandon(self) -> None:
        for decoder in self._all:
            decoder.abandon()

    def __enter__(self) -> Decoders:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            self.abandon()
        self.close()


def answer_result(
    answer: dict[str, Any],
) -> tuple[tuple[dict[str, Any], int] | None, Exception | None]:
    """A worker's answer (:func:`decode_worker.answer_for`) as what a thread decoding the
    body would have returned (the document and its inflated size) or raised: one of the two,
    the other None."""
    if "ok" in answer:
        return (answer["ok"], int(answer.get("size", 0))), None
    if "too_large" in answer:
        return None, TooLarge(int(answer["too_large"]))
    if "undecodable" in answer:
        return None, Undecodable()
    if "value_error" in answer:
        return None, ValueError(answer["value_error"])
    return None, DecoderCrashed(str(answer.get("crash", "")))


def settle_future(future: Future[tuple[dict[str, Any], int]], answer: dict[str, Any]) -> None:
    """``future`` set from a worker's answer (:func:`answer_result`)."""
    result, error = answer_result(answer)
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)


def _answer(raw: bytes) -> dict[str, Any] | None:
    """A frame from the worker as its answer, or None when it is not one."""
    answer = load(raw)
    if not isinstance(answer, dict) or not answer.keys() & _ANSWERS:
        return None
    return answer


_ANSWERS = frozenset({"ok", "value_error", "crash", "too_large", "undecodable"})
#: a body: whole, or the chunks it came in
Body = bytes | Sequence[bytes]
#: a body, its encoding (AS_IS, ZLIB), its cap once inflated
_Job = tuple[Body, int, int]


def _decode_job(job: _Job) -> tuple[dict[str, Any], int]:
    """:func:`decode_frame` of a job, its chunks joined (a thread decodes it)."""
    body, encoding, limit = job
    return decode_frame(body if isinstance(body, bytes) else b"".join(body), encoding, limit)


def _copy(source: Future[Any], *, target: Future[Any]) -> None:
    error = source.exception()
    if error is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())
