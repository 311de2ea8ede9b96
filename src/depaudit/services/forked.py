"""Worker processes forked from the scan, each running a function on a pair of pipes of its
own (``fetch_worker.spawn`` on Linux, where the scan runs one thread, and the seed of
``fetch_seed``), with how many a big fetch may use (:func:`decode_workers`) and the widening
of their pipes (:func:`widen_pipe`).

A forked worker is ready at once: what it runs is imported by the scan before the fork,
once, where a new interpreter would import it again (~0.13 s of CPU for a fetch worker),
and its pages are the scan's until either writes them. Its end is its own: it never
returns into the scan's code it was forked from, runs none of the scan's exit handlers and
flushes none of its buffers (``os._exit``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import IO

#: what a worker runs: its input and its output
Serve = Callable[[IO[bytes], IO[bytes]], None]

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


def decode_workers() -> int:
    """How many worker processes a big fetch may decode with (fetch workers, or decoding
    workers beside the scan's own fetch: ``registry_decode``): two where the scan may use
    two cores or more (the fetch loop takes little of one, and a single worker was still
    decoding 0.26-0.6 s after theia's last answer from the registry: benchmarks/README.md),
    else one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return 2 if cores >= 2 else 1


def start(count: int, serve: Serve) -> list[Forked]:
    """``count`` workers forked from this process (fewer where the system refuses), each
    running ``serve`` on its pipes (:func:`_child`), then ending."""
    ends: list[int] = []  # the pipes' ends this process keeps, every worker's
    workers: list[Forked] = []
    for _ in range(count):
        try:
            in_read, in_write = os.pipe()
        except OSError:
            break
        try:
            out_read, out_write = os.pipe()
        except OSError:
            os.close(in_read)
            os.close(in_write)
            break
        widen_pipe(in_write)
        try:
            pid = os.fork()
        except OSError:
            for fd in (in_read, in_write, out_read, out_write):
                os.close(fd)
            break
        if pid == 0:
            _child(serve, in_read, out_write, [in_write, out_read, *ends])
        os.close(in_read)
        os.close(out_write)
        ends += [in_write, out_read]
        # (their files are the worker's: closed by FetchWorkers, or fetch_worker.end)
        stdin, stdout = open(in_write, "wb"), open(out_read, "rb", buffering=0)  # noqa: SIM115
        workers.append(Forked(pid, stdin, stdout))
    return workers


def _child(
    serve: Serve,
    source_fd: int,
    sink_fd: int,
    others: list[int],
    then: Callable[[], None] | None = None,
) -> None:
    """A forked worker: ``serve`` on its pipes, then ``then()`` once they are closed, then
    its end, whatever happens (it never returns). It closes the other workers' ends of their
    pipes (each would otherwise never see its input end), holds none of the scan's standard
    streams (a pipe the scan writes its report to ends with the scan), leaves Ctrl-C to the
    scan, and keeps the scan's objects out of its collections (``gc.freeze``: no collection
    walks, nor copies, the pages it shares with the scan)."""
    code = 1
    try:
        import gc
        import signal

        for fd in others:
            os.close(fd)
        quiet = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # (a reader of the scan's output waits for no worker's end)
            os.dup2(quiet, fd)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        gc.freeze()
        gc.enable()
        with open(source_fd, "rb") as source, open(sink_fd, "wb") as sink:
            serve(source, sink)
            sink.flush()
        if then is not None:
            then()
        code = 0
    finally:
        os._exit(code)


class Forked:
    """A forked worker, with what of :class:`subprocess.Popen` the scan uses: its pipes
    (``stdin``, ``stdout``), ``poll``, ``kill``, ``wait``."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # (reaped already)
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        import signal

        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        import subprocess
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
            time.sleep(0.002)
        return code
