"""Run the rules over a folder: find the files, analyse each (from the cache when its content
was seen before), apply ``// depaudit-ignore-next-line`` comments, gather a
:class:`CodeReport`."""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depaudit import digests
from depaudit.code.files import SourceFile, is_code_file, minified, walk
from depaudit.code.model import CodeReport, Finding, SkippedFile, finding_from_cached
from depaudit.errors import InputError
from depaudit.js.parser import Grammar, grammar_for

if TYPE_CHECKING:
    from depaudit.cache import Cache

#: bump when a rule changes: cached results of older analyzers are not reused
ANALYZER_VERSION = "code-2"
CACHE_NAMESPACE = "code"
#: below this many files to analyse, worker processes cost more than they save
PARALLEL_THRESHOLD = 200


def analyse_source(source: bytes, grammar: Grammar) -> dict[str, Any]:
    """Findings of one file's content (JSON-able: what the cache keeps): ``f`` the findings
    left after suppressions, ``s`` how many a comment suppressed."""
    from depaudit.code.analysis import FileContext, suppressions
    from depaudit.code.rules import run_rules

    ctx = FileContext(source, grammar)
    ignores = suppressions(source)
    kept: list[dict[str, Any]] = []
    suppressed = 0
    for raw in run_rules(ctx):
        if raw.rule in ignores.get(raw.line, ()):
            suppressed += 1
            continue
        item = asdict(raw)
        item["evidence"] = list(raw.evidence)
        kept.append(item)
    return {"f": kept, "s": suppressed}


def _analyse_job(job: tuple[bytes, Grammar]) -> dict[str, Any] | str:
    try:
        return analyse_source(*job)
    except Exception as exc:  # a bug in a rule must not stop the scan of 5,000 files
        return f"{type(exc).__name__}: {exc}"


def content_key(source: bytes, grammar: str) -> str:
    digest = digests.blake2b(source, digest_size=20)
    digest.update(f"\x00{grammar}\x00{ANALYZER_VERSION}".encode())
    return digest.hexdigest()


def _files(root: Path, build_output: bool, tests: bool) -> Iterable[SourceFile | SkippedFile]:
    if root.is_file():
        if not is_code_file(root.name):
            raise InputError(root, "is not a JavaScript or TypeScript source file")
        return [SourceFile(root, root.name)]
    return walk(root, build_output=build_output, tests=tests)


def scan_code(
    root: Path,
    *,
    cache: Cache | None = None,
    build_output: bool = False,
    tests: bool = False,
    jobs: int | None = None,
    stop: threading.Event | None = None,
) -> CodeReport:
    """Every finding of the five rules in the app's own source under ``root``. When ``stop``
    is set (the scan was interrupted) it raises :class:`Stopped` after the files being
    analysed, and no worker is left behind."""
    if not root.exists():
        raise InputError(root, "does not exist", "give the folder of the app's source")
    skipped: list[SkippedFile] = []
    warnings: list[str] = []
    pending: list[tuple[str, str, bytes, Grammar]] = []  # relative, key, source, grammar
    results: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    cached = 0
    for item in _files(root, build_output, tests):
        if isinstance(item, SkippedFile):
            skipped.append(item)
            continue
        grammar = grammar_for(item.path)
        if grammar is None:
            continue
        try:
            source = item.path.read_bytes()
        except OSError as exc:
            warnings.append(f"{item.relative}: cannot be read ({exc.strerror or exc})")
            continue
        if minified(source):
            skipped.append(SkippedFile(item.relative, "minified"))
            continue
        order.append(item.relative)
        key = content_key(source, grammar)
        entry = cache.get(CACHE_NAMESPACE, key) if cache is not None else None
        if entry is not None and isinstance(entry.value, dict) and "f" in entry.value:
            results[item.relative] = entry.value
            cached += 1
        else:
            pending.append((item.relative, key, source, grammar))
    lost: list[str] = []  # files whose worker died
    for (relative, _key, _, _), outcome in zip(pending, _run(pending, jobs, stop), strict=True):
        if outcome is WORKER_DIED:
            lost.append(relative)
        elif isinstance(outcome, str):
            warnings.append(f"{relative}: not analysed (internal error: {outcome})")
        else:
            results[relative] = outcome
    if lost:
        more = f" and {len(lost) - 3} more" if len(lost) > 3 else ""
        warnings.append(
            f"{len(lost)} files not analysed: {WORKER_DIED} ({', '.join(lost[:3])}{more}); "
            "their findings are unknown"
        )
    if cache is not None and pending:
        with cache.batch():
            for relative, key, _, _ in pending:
                if relative in results:
                    cache.set(CACHE_NAMESPACE, key, results[relative])
    findings: list[Finding] = []
    suppressed = 0
    for relative in order:
        result = results.get(relative)
        if result is None:
            continue
        suppressed += int(result.get("s", 0))
        findings.extend(finding_from_cached(item, relative) for item in result["f"])
    findings.sort(key=lambda f: (f.file, f.line, f.column, f.rule))
    if cache is not None:
        warnings.extend(cache.warnings)
    return CodeReport(
        root=str(root),
        files=len(order),
        findings=tuple(findings),
        suppressed=suppressed,
        skipped=tuple(skipped),
        warnings=tuple(warnings),
        cached=cached,
        by_rule=dict(sorted(Counter(f.rule for f in findings).items())),
    )


class Stopped(Exception):
    """The code scan was told to stop (``scan_code``'s ``stop``)."""


#: files handed to a worker at a time
CHUNK = 32


#: the outcome of a file whose worker process ended abruptly, twice (killed, out of memory)
WORKER_DIED = "a code worker process ended abruptly (killed, or out of memory?)"
#: pools tried before the files left are given up (a worker killed once, by the OOM killer
#: under a memory peak, is usually not killed again)
POOL_ATTEMPTS = 2


def _run(
    pending: Sequence[tuple[str, str, bytes, Grammar]],
    jobs: int | None,
    stop: threading.Event | None = None,
) -> list[dict[str, Any] | str]:
    work = [(source, grammar) for _, _, source, grammar in pending]
    workers = jobs if jobs is not None else min(4, os.cpu_count() or 1)
    if workers <= 1 or len(work) < PARALLEL_THRESHOLD:
        return _here(work, stop)
    from concurrent.futures import ProcessPoolExecutor

    chunks = [work[i : i + CHUNK] for i in range(0, len(work), CHUNK)]
    done: dict[int, list[dict[str, Any] | str]] = {}
    for attempt in range(POOL_ATTEMPTS):
        try:
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=_workers_context(),
                initializer=_worker_ignores_sigint,
            )
        except (OSError, NotImplementedError):
            if attempt:
                break
            # no process pool here (no usable /dev/shm for its locks, as in some containers
            # and serverless runtimes): the same findings, one file after another
            return _here(work, stop)
        _in_pool(pool, chunks, done, stop)
        if len(done) == len(chunks):
            break
    return [
        outcome
        for index, chunk in enumerate(chunks)
        for outcome in done.get(index, [WORKER_DIED] * len(chunk))
    ]


def _in_pool(
    pool: Any,
    chunks: list[list[tuple[bytes, Grammar]]],
    done: dict[int, list[dict[str, Any] | str]],
    stop: threading.Event | None,
) -> None:
    """The chunks not ``done`` yet, through ``pool``, into ``done``. A worker that ends
    abruptly breaks the pool: the chunks it had not finished stay out of ``done``."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    try:
        futures = {
            pool.submit(_analyse_chunk, chunk): index
            for index, chunk in enumerate(chunks)
            if index not in done
        }
        left = set(futures)
        while left:
            if stop is not None and stop.is_set():
                raise Stopped
            finished, left = wait(left, timeout=0.1, return_when=FIRST_COMPLETED)
            for future in finished:
                with contextlib.suppress(BrokenProcessPool):
                    done[futures[future]] = future.result()
    except BrokenProcessPool:
        pass  # raised by submit once the pool is broken: the rest wait for the next pool
    except BaseException:
        # Ctrl-C, or told to stop: the files not started are dropped, not analysed first
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


def _here(
    work: list[tuple[bytes, Grammar]], stop: threading.Event | None
) -> list[dict[str, Any] | str]:
    out = []
    for job in work:
        if stop is not None and stop.is_set():
            raise Stopped
        out.append(_analyse_job(job))
    return out


def _analyse_chunk(jobs: list[tuple[bytes, Grammar]]) -> list[dict[str, Any] | str]:
    return _here(jobs, None)


def _worker_ignores_sigint() -> None:
    """Ctrl-C reaches the workers too (the terminal signals the whole process group): the
    scan stops them, cleanly, rather than each printing its own traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


#: what a worker needs, imported once by the fork server before it forks the workers
_WORKER_MODULES = ["depaudit.code.engine", "depaudit.code.analysis", "depaudit.code.rules"]


def _workers_context() -> Any:
    """How to start the workers. ``fork`` where it is Python's default and this process
    runs no other thread (``depaudit code``): the cheapest. Otherwise (a scan runs this
    beside the registry's fetch, its watchdog and the other services) from a fork server,
    spawned where there is none: a ``fork`` of a process with threads can copy a lock some
    thread holds, and the open ends of its pipes (the registry's decoding worker would never
    see its input end). The server imports the rules once, and never ``__main__``; it costs
    ~0.15 s more than ``fork``."""
    import multiprocessing

    if threading.active_count() == 1 and multiprocessing.get_start_method() == "fork":
        return multiprocessing.get_context("fork")  # where it is the platform's default
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_WORKER_MODULES)
        return context
    return multiprocessing.get_context("spawn")
