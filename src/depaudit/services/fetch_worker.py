"""A big cold fetch in processes of its own: each fetches the names it claims and decodes
every body as it arrives, and the scan gets the decoded documents back.

A worker is forked from the scan on Linux (:func:`spawn`), else it is
``python -m depaudit.services.fetch_worker``; either way it reads from its input pipe, as
length-prefixed pickles, a set-up (how to make the registry's session:
:class:`~depaudit.services.session_recipe.SessionRecipe`, the run's budgets still left, the
transfers in flight) and every job (a tag, a URL, the request's headers) in one frame; then
it fetches the jobs it claims with its own :class:`~depaudit.http_bulk.BulkFetcher` (its own
session and connections) and writes on its output pipe, for each one, an answer: the status,
the validators and the decoded document (:func:`depaudit.services.decode_worker.answer_for`),
or the failure, as the scan would have made of it (:func:`~depaudit.failures.failure_of`). A
``stop`` frame (or the end of its input) makes it stop starting transfers; it ends once those
under way are answered or dropped.

The jobs are claimed, not shared out (:mod:`depaudit.services.fetch_claims`).

Why: the scan's own process drives every transfer otherwise, and hands each body to a
decoding worker through a pipe. Fetching in the workers moves no body across a pipe, spreads
libcurl's own work over the cores, and leaves the scan's process its tree, its services and
the facts (theia's fetch and decoding alone: 1.28x curl's floor against 1.79x,
``benchmarks/fetch_split.py``). The scan decides what every answer means
(``RegistryService._remote``), as for the transfers it drives itself, and fetches what the
workers did not answer (a worker that would not start or died, or every worker told to stop
when the registry is out of reach, rate limited or the budget is spent) the way it always did.

Why this module is over ~400 lines: it holds both ends of the workers' pipes, the worker's
(:func:`serve`, what it answers) and the scan's (:func:`spawn`, :class:`FetchWorkers`), which
change together.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any

from depaudit.failures import failure_of
from depaudit.services.fetch_claims import Claims, Crew, claimed
from depaudit.services.frames import encode_frame, load, payloads_in, read_frame, write_frame

#: a worker's answer: ("answer", tag, what) where ``what`` is ("got", status, validators,
#: size as sent, decoded answer or None) or ("failed", kind, text, a connection failure)
Answer = tuple[Any, ...]


#: the answer's headers the scan uses (the decoder reads Content-Encoding here)
VALIDATORS = ("ETag", "Last-Modified")


def describe(got: Any, limit: int) -> tuple[Any, ...]:
    """What a worker answers for one request's :class:`~depaudit.http.Fetched` or
    exception: a 200 or 404 body is decoded (at most ``limit`` bytes once inflated)."""
    from depaudit.services.decode_worker import ENCODINGS, answer_for

    if isinstance(got, BaseException):
        return ("failed", *failure_of(got))
    validators = {name: got.headers[name] for name in VALIDATORS if got.headers.get(name)}
    size, decoded = len(got.body), None
    if got.status in (200, 404):
        body = got.body if isinstance(got.body, bytes) else bytes(got.body)
        encoding = ENCODINGS.get(got.headers.get("Content-Encoding", "").strip().lower())
        decoded = answer_for(body, encoding, limit)
    return ("got", got.status, validators, size, decoded)


def import_worker_modules() -> None:
    """Import what :func:`serve` runs (ImportError where one is missing): by a worker before
    it reads its set-up, and by the scan before it forks its workers (:func:`_fork`)."""
    import msgspec  # noqa: F401 - (the decoder's, imported on first use otherwise)
    import pycurl  # noqa: F401 - (BulkFetcher's)

    import depaudit.npmrc  # noqa: F401 - (the recipe's config)
    from depaudit.http_bulk import BulkFetcher  # noqa: F401
    from depaudit.services.decode_worker import answer_for  # noqa: F401


def read_jobs(source: IO[bytes]) -> tuple[list[tuple[Any, str, dict[str, str]]], bool]:
    """A worker's jobs, read after its set-up: every ``(tag, url, headers)`` of the one
    ``jobs`` frame (:meth:`FetchWorkers.send`), and whether its input ended instead (the
    scan is gone: none is asked). One frame, not one per job: reading theia's 1,766 as
    frames of their own cost each worker ~3 ms of CPU before its first request, one
    frame ~0.5 ms."""
    frame = read_frame(source)
    if frame is None:
        return [], True
    if isinstance(frame, tuple) and len(frame) == 2 and frame[0] == "jobs":
        return list(frame[1]), False
    return [], False


def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """The worker: its set-up and jobs in, one answer per job out (see the docstring). What
    it needs is imported before it reads, so a worker started before the scan's own session
    is made (``RegistryService._spawn_ahead``) gets ready meanwhile; its session is made
    before its jobs are read, as they may still be on their way."""
    import_worker_modules()
    from depaudit.http_bulk import BulkFetcher, Job
    from depaudit.transport import heap_for_bodies

    setup = read_frame(source)
    if not isinstance(setup, tuple) or setup[:1] != ("setup",):
        return
    spec: dict[str, Any] = setup[1]
    session = spec["recipe"].for_worker(spec["seconds"], spec["bytes"])
    heap_for_bodies()  # (after the session's own setting, which is the scan's)
    fetcher = BulkFetcher(session, spec["parallel"], spec["multiplexed"], inflate=False)
    jobs, ended = read_jobs(source)
    stopping = threading.Event()
    if ended:
        stopping.set()  # the scan is gone: nothing is asked
    else:

        def watch() -> None:  # a "stop", or the scan's end
            while (later := read_frame(source)) is not None and later[0] != "stop":
                pass
            stopping.set()

        threading.Thread(target=watch, name="fetch-stop", daemon=True).start()

    def done(job: Job, got: Any) -> None:
        write_frame(sink, ("answer", job.tag, describe(got, session.max_body)))
        sink.flush()

    fetcher.get_many(claimed(jobs, spec["claims"]), done, stop=stopping.is_set)
    session.close()


def worker_argv() -> list[str]:
    """A worker's command: this module, run by this interpreter."""
    return [sys.executable, "-m", __name__]


def spawn(count: int) -> Crew:
    """Up to ``count`` worker processes started, waiting for their set-up, with the claims
    pipe they share (fewer where the system refuses; none on Windows, where the answers could
    not be read with ``select``).

    On Linux, from a process that runs one thread, they are forked (:func:`_fork`): the
    worker's modules are imported once, here, not again by each worker's own interpreter
    (~0.13 s of CPU each), and a forked worker is ready at once. Elsewhere (macOS, where
    a forked process may not use the system's frameworks; a process with other threads,
    whose half-done work a fork would copy), each is a new interpreter running this
    module."""
    if os.name != "posix":
        return Crew()
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return Crew()
    try:
        if sys.platform == "linux" and _alone():
            crew = Crew(_fork(max(1, count), read_end, write_end))
        else:
            crew = Crew(_start(max(1, count), read_end))
    finally:
        os.close(read_end)  # (the workers' now)
    if crew:
        crew.claims, crew.read_end = Claims(write_end), read_end
    else:
        os.close(write_end)
    return crew


def _start(count: int, read_end: int) -> list[Any]:
    """``count`` workers started as interpreters, each holding the claims pipe's
    ``read_end`` under the same number."""
    import subprocess

    from depaudit.services.registry_decode import widen_pipe

    processes = []
    for _ in range(count):
        try:
            process = subprocess.Popen(
                worker_argv(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                pass_fds=(read_end,),
            )
        except OSError:
            break
        assert process.stdin is not None and process.stdout is not None
        widen_pipe(process.stdin.fileno())
        widen_pipe(process.stdout.fileno())  # (its answers wait less on the scan: forked.start)
        processes.append(process)
    return processes


def _alone() -> bool:
    """Whether this process runs one thread (a fork then copies no thread's half-done work)."""
    return threading.active_count() == 1


def _fork(count: int, read_end: int, write_end: int) -> list[Any]:
    """``count`` workers forked from this process (:func:`depaudit.services.forked.start`),
    what :func:`serve` imports imported here, once, before; none where that fails (the
    scan's own fetch then says what is missing). Each keeps the claims pipe's ``read_end``
    and closes its ``write_end``."""
    try:
        import_worker_modules()
    except ImportError:
        return []
    from depaudit.services.forked import start

    return start(count, serve, close=(write_end,))


def end(processes: Crew) -> None:
    """End workers started and never given their set-up (the fetch did not happen)."""
    processes.close_claims()
    for process in processes:
        with contextlib.suppress(OSError):
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                stream.close()


class FetchWorkers:
    """The scan's side: ``start`` the workers, ``send`` them every job (each worker claims
    the ones it fetches), read their ``answers`` as they come; ``stop`` them (they answer what
    is under way and end); a context manager that reaps them. Where none can be started,
    ``start`` returns None and the scan fetches everything itself."""

    def __init__(self, processes: Crew) -> None:
        self.processes = processes
        #: the thread that reaps them after a fetch that ended well (see ``__exit__``)
        self.reaper: threading.Thread | None = None

    @classmethod
    def start(
        cls, spec: dict[str, Any], count: int, started: Crew | None = None
    ) -> FetchWorkers | None:
        """The workers given ``spec``: those ``started`` already (:func:`spawn`), or
        ``count`` started now; None where none could be."""
        processes = started if started else spawn(count)
        if not processes:
            return None
        workers = cls(processes)
        for process in processes:
            workers._write(process, ("setup", {**spec, "claims": processes.read_end}))
        return workers

    def _write(self, process: Any, frame: object) -> None:
        try:
            write_frame(process.stdin, frame)
            process.stdin.flush()
        except (OSError, ValueError):
            pass  # it is gone: its jobs come back unanswered

    def send(self, jobs: list[tuple[Any, str, dict[str, str]]]) -> None:
        """Every job to every worker, in one frame (:func:`read_jobs`), and each job's claim
        (those the claims pipe takes now: :meth:`answers` writes the rest as it has room)."""
        every = encode_frame(("jobs", jobs))
        for process in self.processes:
            try:
                process.stdin.write(every)
                process.stdin.flush()
            except (OSError, ValueError):
                pass
        if self.processes.claims is not None:
            self.processes.claims.post(len(jobs))

    def answers(self, stop: Callable[[], bool] | None = None) -> Iterator[tuple[Any, Answer]]:
        """``(tag, answer)`` as the workers write them, until every worker's output ends
        (or ``stop()`` says so: then they are ended at once); the claims not written yet go
        into the claims pipe as it has room."""
        import selectors

        selector = selectors.DefaultSelector()
        pending: dict[int, bytearray] = {}
        for index, process in enumerate(self.processes):
            selector.register(process.stdout, selectors.EVENT_READ, index)
            pending[index] = bytearray()
        claims = self.processes.claims
        if claims is not None and claims.fd is not None:
            selector.register(claims.fd, selectors.EVENT_WRITE, None)
        live = len(self.processes)
        try:
            while live:
                if stop is not None and stop():
                    self.kill()
                    return
                for key, _ in selector.select(timeout=0.05):
                    if key.data is None:  # the claims pipe has room
                        if claims is not None and not claims.offer():
                            selector.unregister(key.fileobj)
                        continue
                    chunk = os.read(key.fd, 1 << 20)
                    pending[key.data] += chunk
                    for payload in payloads_in(pending[key.data]):
                        answer = _answer(payload)
                        if answer is None:  # not a frame the worker writes: stop trusting it
                            self.processes[key.data].kill()  # (its other jobs: the scan's)
                            chunk = b""
                            break
                        yield answer
                    if not chunk:
                        selector.unregister(key.fileobj)
                        live -= 1
        finally:  # (also where the caller stops reading: every answer it waited for is in)
            selector.close()

    def stop(self) -> None:
        """Start no more transfers: the workers answer those under way and end."""
        for process in self.processes:
            self._write(process, ("stop",))

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()

    def __enter__(self) -> FetchWorkers:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:  # an error or Ctrl-C here: the workers end at once
            self.kill()
        self.processes.close_claims()
        for process in self.processes:
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
        if exc_type is None:  # their answers are in: the scan goes on while they end (a
            # worker's exit, its memory given back, took 7-11 ms after theia's last answer);
            # whoever started the fetch joins the reaper (RegistryService.close)
            self.reaper = threading.Thread(
                target=_reap, args=(self.processes,), name="fetch-reap", daemon=True
            )
            self.reaper.start()
        else:
            _reap(self.processes)


def _reap(processes: list[Any]) -> None:
    """Wait for each worker to end (one that will not, within 10 s, is killed)."""
    for process in processes:
        try:
            process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - (a worker that will not end)
            process.kill()
            process.wait()


def _answer(payload: bytes) -> tuple[Any, Answer] | None:
    """A frame from a worker as ``(tag, answer)``, or None when it is not an answer."""
    frame = load(payload)
    if not (isinstance(frame, tuple) and len(frame) == 3 and frame[0] == "answer"):
        return None
    return frame[1], frame[2]


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scan's
    serve(sys.stdin.buffer, sys.stdout.buffer)
    sys.stdout.flush()
    os._exit(0)
