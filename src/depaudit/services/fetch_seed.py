"""Fetch workers seeded at the scan's start, on the core its head leaves idle.

Until its first request, a cold scan runs on one core: the interpreter, the options, its
imports, the lockfile's preview. Its fetch workers, forked at the fetch
(``fetch_worker._fork``), had the scan import what they run first (requests, pycurl,
msgspec: ~55 ms) in that serial head. Seeded, theia's jobs can be read by the workers
182-220 ms after the start, against 221-298 ms (a slow period; the seed's own imports,
80-140 ms as it shares fewer modules with the scan, are then what the jobs wait for;
benchmarks/README.md, "Fetch workers seeded at the scan's start").

:func:`sow`, called by the program's scan before its own work, forks one process (the
seed) that imports those modules on the other core meanwhile, then forks the other workers
from itself and serves as the first: each waits for its set-up on a pipe of its own, as a
worker ``fetch_worker.spawn`` forks does. The registry's fetch :func:`take` s them where it
would spawn workers; those not taken (a warm cache, fewer names than the workers'
threshold) are let go when the registry closes (:func:`release`), and end at their input's
end. The scan's own process still imports requests for its advisories' requests, later,
beside the fetch.

The seed is this process's child; the workers it forks are the seed's, which reaps them
before it ends. They run in a process group of their own, the seed's, so the scan kills
them all at once (an error, Ctrl-C) with no risk of a recycled process id: a group's id is
not given to a new process while any of its members lives.

Only the program seeds (``cli.main`` run by ``cli.run``, for ``scan``, once its options are
read: one thread at that point, so a fork copies no thread's half-done work), on Linux, with
two cores or more (on one, the seed's imports would take the scan's own core).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from functools import partial
from typing import IO, TYPE_CHECKING, Any

from depaudit.services.forked import Forked, _child, decode_workers, widen_pipe

if TYPE_CHECKING:
    from depaudit.config import Settings

#: the seeded workers' ends of their pipes in this process, until taken or released
_seeded: list[Seeded] = []


class Seeded(Forked):
    """A seeded worker, as the scan uses a :class:`Forked` one: its pipes; ``poll`` and
    ``wait`` are the seed's (which reaps every worker before it ends), ``kill`` ends the
    seed's whole group."""

    def __init__(self, seed: Forked, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        super().__init__(seed.pid, stdin, stdout)
        self.seed = seed

    def poll(self) -> int | None:
        self.returncode = self.seed.poll()
        return self.returncode

    def kill(self) -> None:
        try:
            os.killpg(self.seed.pid, signal.SIGKILL)
        except ProcessLookupError:  # no such group: every member is gone, or the system
            self.seed.kill()  # refused the seed one (the others then end at their input's end)
        except PermissionError:
            pass


def sow_for(settings: Settings) -> bool:
    """:func:`sow` the fetch workers of a scan with ``settings`` where its registry's fetch
    may run in them: on Linux, from a process that runs one thread, with two cores or more;
    not offline nor without the registry, nor where the cache was written within its time
    to live (a warm scan fetches little or nothing, :func:`depaudit.cache.written_within`).
    A scan of fewer names than the workers' threshold lets them go unused: their imports
    took a core the scan did not use."""
    import threading

    if sys.platform != "linux" or threading.active_count() != 1:
        return False
    if not settings.use_registry or settings.offline:
        return False
    from depaudit.cache import written_within

    if settings.use_cache and written_within(settings.cache_dir, settings.cache_ttl):
        return False
    count = decode_workers()
    return count >= 2 and sow(count)


def sow(count: int) -> bool:
    """Fork the seed of ``count`` workers (none where the system refuses): True where they
    are on their way. Call it from a process that runs one thread."""
    release()
    pipes: list[tuple[int, int, int, int]] = []  # each worker's input and output: read, write
    try:
        for _ in range(count):
            source = os.pipe()
            try:
                pipes.append((*source, *os.pipe()))
            except OSError:
                os.close(source[0])
                os.close(source[1])
                raise
        pid = os.fork()
    except OSError:
        for fds in pipes:
            for fd in fds:
                os.close(fd)
        return False
    if pid == 0:
        _seed(pipes)
    with contextlib.suppress(OSError):  # (the seed does it too: either may come first)
        os.setpgid(pid, pid)
    seed = Forked(pid, *_ends(pipes[0]))
    for number, (in_read, in_write, _, out_write) in enumerate(pipes):
        os.close(in_read)
        os.close(out_write)
        widen_pipe(in_write)
        _seeded.append(
            Seeded(seed, *(_ends(pipes[number]) if number else (seed.stdin, seed.stdout)))
        )
    return True


def _ends(fds: tuple[int, int, int, int]) -> tuple[IO[bytes], IO[bytes]]:
    """This process's ends of a worker's pipes, as files (the worker's input, its output)."""
    return open(fds[1], "wb"), open(fds[2], "rb", buffering=0)  # noqa: SIM115


def take(count: int) -> list[Any]:
    """The seeded workers, where ``count`` of them were sown and the seed has not ended
    (else none, and those sown are released): once."""
    workers = list(_seeded)
    _seeded.clear()
    if len(workers) == count and workers[0].poll() is None:
        return workers
    _release(workers)
    return []


def release() -> None:
    """Let the seeded workers go (they end at their input's end), where none took them."""
    workers = list(_seeded)
    _seeded.clear()
    _release(workers)


def _release(workers: list[Seeded]) -> None:
    for worker in workers:
        for stream in (worker.stdin, worker.stdout):
            with contextlib.suppress(OSError):
                stream.close()
    if workers:
        workers[0].poll()  # (reaped now if it has ended; else by the process's end)


def _seed(pipes: list[tuple[int, int, int, int]]) -> None:
    """The seed (it never returns): its own process group; what a fetch worker runs imported
    here, once; a worker forked for each pipe but the first, which it serves itself; once
    its own pipes are closed, it reaps the others, then ends."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    theirs = [fd for _, in_write, out_read, _ in pipes for fd in (in_write, out_read)]
    children: list[int] = []
    first = pipes[0]
    _child(
        partial(_grow, pipes[1:], children),
        first[0],
        first[3],
        theirs,
        then=partial(_reap, children),
    )


def _grow(
    rest: list[tuple[int, int, int, int]],
    children: list[int],
    source: IO[bytes],
    sink: IO[bytes],
) -> None:
    """In the seed: import the workers' modules, fork a worker for each of ``rest`` (their
    ids added to ``children``), then serve the first pipe's jobs."""
    from depaudit.services import fetch_worker

    try:
        fetch_worker.import_worker_modules()
    except ImportError:
        return  # (every output ends: the scan fetches what they were given itself)
    mine = [source.fileno(), sink.fileno()]
    for number, (in_read, _, _, out_write) in enumerate(rest):
        others = [fd for other in rest[number + 1 :] for fd in (other[0], other[3])]
        try:
            pid = os.fork()
        except OSError:  # (its output ends now: the scan fetches its jobs itself)
            for fd in (in_read, out_write, *others):
                os.close(fd)
            break
        if pid == 0:
            _child(fetch_worker.serve, in_read, out_write, [*mine, *others])
        os.close(in_read)
        os.close(out_write)
        children.append(pid)
    fetch_worker.serve(source, sink)


def _reap(children: list[int]) -> None:
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
