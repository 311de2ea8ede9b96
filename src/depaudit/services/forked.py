"""Worker processes forked from the scan, each running a function on a pair of pipes of its
own (``fetch_worker.spawn`` on Linux, where the scan runs one thread).

A forked worker is ready at once: what it runs is imported by the scan before the fork,
once, where a new interpreter would import it again (~0.13 s of CPU for a fetch worker),
and its pages are the scan's until either writes them. Its end is its own: it never
returns into the scan's code it was forked from, runs none of the scan's exit handlers and
flushes none of its buffers (``os._exit``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from typing import IO

#: what a worker runs: its input and its output
Serve = Callable[[IO[bytes], IO[bytes]], None]


def start(count: int, serve: Serve, close: Sequence[int] = ()) -> list[Forked]:
    """``count`` workers forked from this process (fewer where the system refuses), each
    running ``serve`` on its pipes (:func:`_child`), then ending; each closes the
    descriptors of ``close`` first (this process's ends of pipes the workers share)."""
    from depaudit.services.registry_decode import widen_pipe

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
        # and its answers' pipe: at Linux's 64 kB a worker waited on the scan's reader
        # (a thread sharing the GIL with the tree's reading) for 0.17-0.37 s of its fetch
        widen_pipe(out_write)
        try:
            pid = os.fork()
        except OSError:
            for fd in (in_read, in_write, out_read, out_write):
                os.close(fd)
            break
        if pid == 0:
            _child(serve, in_read, out_write, [in_write, out_read, *ends, *close])
        os.close(in_read)
        os.close(out_write)
        ends += [in_write, out_read]
        # (their files are the worker's: closed by FetchWorkers, or fetch_worker.end)
        stdin, stdout = open(in_write, "wb"), open(out_read, "rb", buffering=0)  # noqa: SIM115
        workers.append(Forked(pid, stdin, stdout))
    return workers


def _child(serve: Serve, source_fd: int, sink_fd: int, others: list[int]) -> None:
    """A forked worker: ``serve`` on its pipes, then its end, whatever happens (it never
    returns). It closes the other workers' ends of their pipes (each would otherwise never
    see its input end), holds none of the scan's standard streams (a pipe the scan writes
    its report to ends with the scan), leaves Ctrl-C to the scan, and keeps the scan's
    objects out of its collections (``gc.freeze``: no collection walks, nor copies, the
    pages it shares with the scan)."""
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
