"""A big cold fetch in worker processes (services/fetch_worker.py): whatever the registry
answers, the facts, warnings and failures are those of the fetch the scan drives itself, and
what the workers do not answer (a worker that dies, or every worker stopped once the registry
is out of reach or the budget spent) is fetched by the scan as before."""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from depaudit.cache import Cache
from depaudit.http import RUN_NETWORK_SECONDS, RUN_RESPONSE_BYTES, build_session
from depaudit.npmrc import Credential, NpmConfig, nerf_dart
from depaudit.services import fetch_worker
from depaudit.services.fetch_claims import Crew
from depaudit.services.interface import EnrichmentResult, PackageRef
from depaudit.services.registry import DECODE_PROCESS_FROM, RegistryService
from depaudit.services.session_recipe import SessionRecipe

from .conftest import FakeRegistry

NOW = datetime(2026, 11, 25, tzinfo=UTC)
MANY = DECODE_PROCESS_FROM + 6


@pytest.fixture(autouse=True, params=["started", "forked"])
def how(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test with workers started as interpreters (a process with other threads: this
    one, with its loopback servers) and with workers forked (the scan as a program, one
    thread: ``fetch_worker.spawn`` forks there; tests/services/test_lockfile_early.py runs
    it so)."""
    monkeypatch.setattr(fetch_worker, "_alone", lambda: request.param == "forked")
    return str(request.param)


def _doc(name: str, i: int) -> dict[str, Any]:
    versions = {f"1.{v}.0": {"name": name, "version": f"1.{v}.0"} for v in range(i % 7 + 1)}
    if i % 5 == 0:
        versions["1.0.0"]["deprecated"] = f"{name} is old"
    return {
        "name": name,
        "dist-tags": {"latest": f"1.{i % 7}.0"},
        "versions": versions,
        "time": {v: f"2024-0{1 + j}-01T00:00:00.000Z" for j, v in enumerate(versions)},
    }


def _service(
    config: NpmConfig,
    workers: bool,
    cache: Cache | None = None,
    response_bytes: int = RUN_RESPONSE_BYTES,
) -> RegistryService:
    """The same service, its session made here (the fetch this process drives) or from a
    recipe (the workers make it too)."""
    session: Any
    if workers:
        session = SessionRecipe(4, config, RUN_NETWORK_SECONDS, response_bytes, {"retries": 0})
    else:
        session = build_session(4, config.auth_for, retries=0, response_bytes=response_bytes)
    return RegistryService(config, session, cache, jobs=4, clock=lambda: NOW)


def _by_workers(
    service: RegistryService, refs: list[PackageRef], monkeypatch: pytest.MonkeyPatch
) -> EnrichmentResult:
    """``service.enrich_all(refs)``, failing if any name is fetched by this process (the
    path taken where the workers do not answer): the workers, not the fallback, answered."""

    def here(*_: object, **__: object) -> None:
        raise AssertionError("a name was fetched by the scan's own process")

    with monkeypatch.context() as patch:
        patch.setattr(RegistryService, "_fetch_here", here)
        return service.enrich_all(refs)


def _both(
    config: NpmConfig,
    refs: list[PackageRef],
    monkeypatch: pytest.MonkeyPatch | None = None,
    **kwargs: Any,
) -> tuple[EnrichmentResult, EnrichmentResult]:
    """The workers' result (by them alone, with ``monkeypatch``) and the scan's own fetch's."""
    service = _service(config, True, **kwargs)
    workers = (
        service.enrich_all(refs) if monkeypatch is None else _by_workers(service, refs, monkeypatch)
    )
    return workers, _service(config, False, **kwargs).enrich_all(refs)


def test_the_workers_give_the_facts_the_scans_own_fetch_gives(
    fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Packuments plain and gzipped, a 404, a 500, a body that is not JSON, a gzip body cut
    short: the same facts, warnings and failures, and the workers asked for every name."""
    names = [f"pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    odd = {"pkg-3": (500, b"oops", {}), "pkg-4": (200, b"<html>not json</html>", {})}
    zipped = {"pkg-5": gzip.compress(json.dumps(_doc("pkg-5", 5)).encode())}
    zipped["pkg-6"] = zipped["pkg-5"][:-20]  # cut short

    def override(request: Request) -> Response | None:
        name = request.path.lstrip("/")
        if name in odd:
            status, body, headers = odd[name]
            return Response(body, status=status, headers=headers)
        if name in zipped:
            return Response(zipped[name], headers={"Content-Encoding": "gzip"})
        return None

    fake_registry.override = override
    refs = [PackageRef(n, "1.0.0") for n in [*names, "not-published"]]
    config = NpmConfig(registry=fake_registry.url)
    workers, here = _both(config, refs, monkeypatch)
    assert workers.facts == here.facts
    assert workers.warnings == here.warnings
    assert workers.failed == here.failed is False
    assert workers.facts["pkg-13@1.0.0"].versions_behind == 6
    assert workers.facts["pkg-6@1.0.0"].in_registry is None  # (its gzip cut short: unknown)
    assert any("pkg-6" in w for w in workers.warnings)
    assert workers.facts["pkg-5@1.0.0"].deprecated == "pkg-5 is old"
    assert workers.facts["not-published@1.0.0"].in_registry is False
    asked = [uri for uri, _, _ in fake_registry.packument_requests()]
    assert len(asked) == 2 * len(refs)  # every name once by the workers, once here


def test_the_workers_send_each_scopes_credential(
    fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session a worker makes is the scan's: a scope's token goes with its packages."""
    names = [f"@corp/pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    config = NpmConfig(
        registry="http://127.0.0.1:9/",  # (never asked: every name is the scope's)
        scopes={"@corp": fake_registry.url},
        credentials=(Credential(nerf_dart(fake_registry.url), "Bearer corp-token"),),
    )
    refs = [PackageRef(n, "1.0.0") for n in names]
    result = _by_workers(_service(config, True), refs, monkeypatch)
    assert all(f.in_registry for f in result.facts.values())
    sent = {headers.get("Authorization") for _, headers, _ in fake_registry.packument_requests()}
    assert sent == {"Bearer corp-token"}


def test_a_worker_that_dies_leaves_its_names_to_the_scan(
    fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    names = [f"pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    quitter = tmp_path / "quitter.py"
    quitter.write_text("import sys\nsys.stdin.buffer.read(10)\nsys.exit(3)\n")
    monkeypatch.setattr(fetch_worker, "worker_argv", lambda: [sys.executable, str(quitter)])

    def quits(source: Any, sink: Any) -> None:  # (a forked worker's)
        source.read(10)
        raise SystemExit(3)

    monkeypatch.setattr(fetch_worker, "serve", quits)
    refs = [PackageRef(n, "1.0.0") for n in names]
    config = NpmConfig(registry=fake_registry.url)
    workers, here = _both(config, refs)
    assert workers.facts == here.facts and not workers.failed
    assert len(fake_registry.packument_requests()) == 2 * len(refs)


def test_an_unreachable_registry_ends_as_the_scans_own_fetch_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Connections refused: the workers are stopped once the scan counts the registry out of
    reach; every name ends with the same error, and the run is marked failed."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    config = NpmConfig(registry=f"http://127.0.0.1:{port}/")
    refs = [PackageRef(f"pkg-{i}", "1.0.0") for i in range(MANY)]
    workers, here = _both(config, refs)
    assert workers.failed and here.failed
    assert workers.facts == here.facts
    assert all(f.in_registry is None for f in workers.facts.values())
    # (which names were still asked and which skipped once the registry was counted out of
    # reach depends on the moment, in either fetch)
    said = [w.split(":", 2)[:2] for w in (*workers.warnings, *here.warnings)]
    assert said == [["npm registry", " could not fetch 70 of 70 packages"]] * 2


def test_the_response_budget_holds_across_the_workers(fake_registry: FakeRegistry) -> None:
    """A budget a few bodies big, for the workers' fetch and the scan's together: no name past
    it is used, and the scan says why."""
    names = [f"pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add({**_doc(name, i), "readme": "r" * 20_000})
    refs = [PackageRef(n, "1.0.0") for n in names]
    config = NpmConfig(registry=fake_registry.url)
    result = _service(config, True, response_bytes=200_000).enrich_all(refs)
    known = [f for f in result.facts.values() if f.in_registry]
    assert 0 < len(known) < len(names)
    assert any("response budget" in w for w in result.warnings)


def test_revalidated_entries_come_back_through_the_workers(
    fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries past their time are asked again with their validators; a 304 keeps them."""
    names = [f"pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    refs = [PackageRef(n, "1.0.0") for n in names]
    config = NpmConfig(registry=fake_registry.url)
    cache = Cache(tmp_path / "cache")
    first = _by_workers(_service(config, True, cache=cache), refs, monkeypatch)
    service = _service(config, True, cache=cache)
    service.ttl = 0  # every entry stale: revalidated
    fake_registry.requests.clear()
    again = _by_workers(service, refs, monkeypatch)
    assert again.facts == first.facts
    statuses = [status for _, _, status in fake_registry.packument_requests()]
    assert statuses == [304] * len(names)
    assert all(h.get("If-None-Match") for _, h, _ in fake_registry.packument_requests())
    cache.close()


def test_a_rate_limiting_registry_stops_the_workers(fake_registry: FakeRegistry) -> None:
    """Every name answered 429: once the scan counts the host out (as its own fetch does),
    the workers are stopped, the names they did not ask for are not asked, and every name
    says why."""
    names = [f"pkg-{i}" for i in range(MANY * 3)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    fake_registry.override = lambda request: Response(b"slow down", status=429)
    config = NpmConfig(registry=fake_registry.url)
    result = _service(config, True).enrich_all([PackageRef(n, "1.0.0") for n in names])
    assert result.failed
    assert len(fake_registry.packument_requests()) < len(names) // 2
    assert "kept answering 429" in result.warnings[0] or "429" in result.warnings[0]


def test_the_scan_goes_on_once_every_name_is_answered_not_when_the_workers_end(
    fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str
) -> None:
    """Workers that have answered every job still close their session and exit (7-11 ms
    after theia's last answer): the fetch takes its answers and goes on; the workers are
    reaped when the service closes. Here they cannot end until this test lets them."""
    if how != "forked":
        pytest.skip("a started interpreter runs the module's own serve")
    names = [f"pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    let_go = tmp_path / "let-go"
    real = fetch_worker.serve

    def lingering(source: Any, sink: Any) -> None:
        real(source, sink)
        sink.flush()
        for _ in range(1000):  # (10 s at most: a scan that waits fails, it does not hang)
            if let_go.exists():
                return
            time.sleep(0.01)
        (tmp_path / f"timed-out-{os.getpid()}").touch()

    spawned: list[list[Any]] = []
    real_spawn = fetch_worker.spawn
    monkeypatch.setattr(fetch_worker, "serve", lingering)
    monkeypatch.setattr(
        fetch_worker, "spawn", lambda count: spawned.append(real_spawn(count)) or spawned[-1]
    )
    service = _service(NpmConfig(registry=fake_registry.url), True)
    result = _by_workers(service, [PackageRef(n, "1.0.0") for n in names], monkeypatch)
    assert sum(f.in_registry is True for f in result.facts.values()) == len(names)
    assert spawned and all(process.poll() is None for process in spawned[0])  # still there
    let_go.touch()
    service.close()
    assert all(process.poll() is not None for process in spawned[0])
    assert not list(tmp_path.glob("timed-out-*"))  # each was let go: the scan had gone on


def test_the_workers_start_before_the_session_and_are_the_ones_used(
    fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They are started before this process makes its own session (they get ready
    meanwhile), once, and the fetch gives those very processes their set-up."""
    names = [f"pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    spawned: list[list[Any]] = []
    real = fetch_worker.spawn

    def counted(count: int) -> list[Any]:
        spawned.append(real(count))
        return spawned[-1]

    monkeypatch.setattr(fetch_worker, "spawn", counted)
    config = NpmConfig(registry=fake_registry.url)
    service = _service(config, True)
    made: list[bool] = []
    monkeypatch.setattr(
        RegistryService,
        "_allow",
        lambda self, documents: made.append(bool(spawned)),  # (the session comes later)
    )
    result = _by_workers(service, [PackageRef(n, "1.0.0") for n in names], monkeypatch)
    assert made == [True] and len(spawned) == 1 and spawned[0]
    assert len(service._reapers) == 1  # (reaped beside the scan; closing waits for that)
    service.close()
    assert service._reapers == []
    assert all(process.poll() is not None for process in spawned[0])  # ended, reaped
    assert sum(f.in_registry is True for f in result.facts.values()) == len(names)


def test_begin_hands_the_workers_their_jobs_before_its_thread_runs(
    fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fetch begun early: the workers have their set-up and every job from ``begin``
    itself, so they ask the registry while the early fetch's thread has not run at all
    (it only reads their answers); once it runs, every name is theirs."""
    names = [f"pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    go = threading.Event()
    early = RegistryService._fetch_early

    def held(self: RegistryService, *args: Any) -> None:
        go.wait(10)
        early(self, *args)

    monkeypatch.setattr(RegistryService, "_fetch_early", held)
    service = _service(NpmConfig(registry=fake_registry.url), True, Cache(tmp_path / "cache"))
    refs = [PackageRef(n, "1.0.0") for n in names]
    try:
        assert service.begin(refs)
        deadline = time.monotonic() + 10
        while not fake_registry.packument_requests() and time.monotonic() < deadline:
            time.sleep(0.01)
        asked = len(fake_registry.packument_requests())
        go.set()
        result = _by_workers(service, refs, monkeypatch)
    finally:
        go.set()
        service.close()
    assert asked > 0  # (while the thread was held)
    assert sum(f.in_registry is True for f in result.facts.values()) == len(names)
    assert sorted(uri for uri, _, _ in fake_registry.packument_requests()) == sorted(
        f"/{name}" for name in names
    )


def test_workers_handed_their_jobs_end_at_once_where_the_early_thread_cannot_start(
    fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``begin`` handed the workers their jobs, then its thread could not start (the
    system's limit on threads): nothing began, the workers are ended rather than left
    fetching for no one, and the scan's own fetch asks for every name as without it."""
    names = [f"pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    start = threading.Thread.start

    def refused(thread: threading.Thread) -> None:
        if thread.name == "registry-early":
            raise RuntimeError("can't start new thread")
        start(thread)

    service = _service(NpmConfig(registry=fake_registry.url), True, Cache(tmp_path / "cache"))
    spawned: list[Any] = []
    real = fetch_worker.spawn

    def counted(count: int) -> Crew:
        crew = real(count)
        spawned.extend(crew)
        return crew

    monkeypatch.setattr(fetch_worker, "spawn", counted)
    refs = [PackageRef(n, "1.0.0") for n in names]
    try:
        with monkeypatch.context() as patch:
            patch.setattr(threading.Thread, "start", refused)
            assert service.begin(refs) is False
        handed = list(spawned)
        assert handed and all(process.poll() is not None for process in handed)
        result = service.enrich_all(refs)
    finally:
        service.close()
    assert sum(f.in_registry is True for f in result.facts.values()) == len(names)


def test_workers_started_for_a_fetch_that_does_not_happen_are_ended(
    fake_registry: FakeRegistry,
) -> None:
    config = NpmConfig(registry=fake_registry.url)
    service = _service(config, True)
    service._spawn_ahead(MANY)
    started = list(service._ahead)
    assert started
    service.close()
    assert all(process.poll() is not None for process in started)
    assert service._ahead == []


@pytest.mark.skipif(sys.platform != "linux", reason="Linux's F_SETPIPE_SZ")
def test_each_workers_pipes_both_ways_are_widened() -> None:
    """Its jobs' pipe and its answers' pipe hold 1 MB (Linux's default is 64 kB): a worker
    whose answers filled 64 kB waited for the scan's reader, a thread sharing the GIL with
    the tree's reading (0.17-0.37 s of a theia fetch, benchmarks/README.md)."""
    import fcntl

    from depaudit.services.registry_decode import PIPE_BYTES

    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < PIPE_BYTES and os.geteuid():
        pytest.skip("this system allows no pipe of 1 MB")
    crew = fetch_worker.spawn(2)
    try:
        assert len(crew) == 2
        for process in crew:
            for stream in (process.stdin, process.stdout):
                assert fcntl.fcntl(stream.fileno(), fcntl.F_GETPIPE_SZ) >= PIPE_BYTES
    finally:
        fetch_worker.end(crew)


class _Exiting:
    """A worker whose end takes until ``gone`` is set (its exit, its memory given back)."""

    def __init__(self) -> None:
        self.gone = threading.Event()
        self.stdin = io.BytesIO()
        self.stdout = io.BytesIO()
        self.killed = False

    def wait(self, timeout: float | None = None) -> int:
        if not self.gone.wait(timeout):
            raise TimeoutError
        return 0

    def kill(self) -> None:
        self.killed = True
        self.gone.set()

    def poll(self) -> int | None:
        return 0 if self.gone.is_set() else None


def test_workers_that_answered_everything_are_reaped_beside_the_scan() -> None:
    """After a fetch that ended well the scan goes on at once; the reaper waits for the
    workers' end. After an error they are killed and waited for before it goes on."""
    worker = _Exiting()
    with fetch_worker.FetchWorkers(Crew([worker])) as workers:
        pass
    assert workers.reaper is not None and workers.reaper.is_alive()  # not waited for here
    assert worker.stdin.closed and worker.stdout.closed
    worker.gone.set()
    workers.reaper.join(10)
    assert not workers.reaper.is_alive()

    failing = _Exiting()
    with pytest.raises(KeyboardInterrupt), fetch_worker.FetchWorkers(Crew([failing])) as stopped:
        raise KeyboardInterrupt
    assert failing.killed and stopped.reaper is None  # ended before the with-block returned


def test_a_worker_that_quits_leaves_the_jobs_it_did_not_claim_to_the_other(
    fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The jobs are claimed, not shared out: one worker quits before it claims any, and the
    other fetches every name (none is left to the scan's own fetch), each once."""
    names = [f"pkg-{i}" for i in range(MANY)]
    for i, name in enumerate(names):
        fake_registry.add(_doc(name, i))
    quitter = tmp_path / "quitter.py"
    quitter.write_text("import sys\nsys.stdin.buffer.read(10)\nsys.exit(3)\n")
    argv = iter([[sys.executable, str(quitter)]])
    real_argv, real_serve = fetch_worker.worker_argv, fetch_worker.serve
    monkeypatch.setattr(fetch_worker, "worker_argv", lambda: next(argv, None) or real_argv())
    first = tmp_path / "first"

    def first_quits(source: Any, sink: Any) -> None:  # (a forked worker's)
        try:
            first.touch(exist_ok=False)
        except FileExistsError:
            real_serve(source, sink)
        else:
            raise SystemExit(3)

    monkeypatch.setattr(fetch_worker, "serve", first_quits)
    result = _by_workers(
        _service(NpmConfig(registry=fake_registry.url), True),
        [PackageRef(n, "1.0.0") for n in names],
        monkeypatch,
    )
    assert sum(f.in_registry is True for f in result.facts.values()) == len(names)
    asked = sorted(uri.lstrip("/") for uri, _, _ in fake_registry.packument_requests())
    assert asked == sorted(names)


def test_each_kind_of_worker_answer_settles_as_a_decoding_thread_would() -> None:
    """A worker's answer for each way a body decodes (a document, too large, not in its
    encoding, not a packument, the decoder crashed), on a 200 and a 404: the outcome the
    scan settles, its inflated bytes charged to the run, a crash kept to raise after the
    fetch; a budget spent by the inflated bytes leaves the body unused."""
    doc = {"state": "ok", "latest": "1.0.0"}
    answers: list[tuple[int, dict[str, Any], int]] = [
        (200, {"ok": doc, "size": 50}, 10),
        (404, {"ok": doc, "size": 10}, 10),
        (200, {"too_large": 99}, 10),
        (200, {"undecodable": True}, 10),
        (200, {"value_error": "no"}, 10),
        (404, {"value_error": "no"}, 10),
        (200, {"crash": "KeyError: x"}, 10),
    ]
    service = _service(NpmConfig(registry="http://registry.invalid/"), True)
    settled: list[Any] = []
    service._settle = lambda _url, _entry, outcome: settled.append(outcome)
    service._crashes = []
    for i, (status, decoded, size) in enumerate(answers):
        answer = ("got", status, {"ETag": f'"{i}"'}, size, decoded)
        service._remote(f"p{i}", f"http://registry.invalid/p{i}", None, answer)
    assert [o.name for o in settled] == [f"p{i}" for i in range(len(answers))]
    assert settled[0].data == doc and settled[0].etag == '"0"' and settled[0].error is None
    assert settled[1].data == {"state": "missing"}  # a 404's document: not in the registry
    assert settled[2].error == "body exceeds 99 bytes"
    assert settled[3].error == "body could not be decompressed"
    assert settled[4].error == "the response is not a packument"
    assert settled[5].data == {"state": "missing"} and settled[5].error is None
    assert settled[6].error == "DecoderCrashed" and len(service._crashes) == 1
    # 7 bodies of 10 bytes as sent, and the first one's 40 more once inflated
    assert service.budget.used == 7 * 10 + 40
    assert service._successes == 3  # the two documents and the plain 404
    service.budget.max_bytes = service.budget.used + 5  # the next inflated body is over
    service._remote("p7", "http://registry.invalid/p7", None, ("got", 200, {}, 1, answers[0][1]))
    assert settled[-1].name == "p7" and settled[-1].data is None
    assert settled[-1].error is not None and settled[-1].error.startswith("budget: ")
