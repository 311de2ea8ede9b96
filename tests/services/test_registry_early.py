"""A fetch begun before the tree is read (``RegistryService.begin``), against a loopback
registry: what it fetched is taken whole, what it missed is fetched after, what was fresh is
never asked for, and a scan that ends early stops it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug import Request, Response

from depaudit.budget import INPUT_BYTES
from depaudit.cache import Cache
from depaudit.config import Settings
from depaudit.errors import ConfigError
from depaudit.http import build_session
from depaudit.npmrc import NpmConfig
from depaudit.services.interface import PackageRef
from depaudit.services.registry import RegistryService

from .conftest import FakeRegistry

NOW = datetime(2026, 11, 25, tzinfo=UTC)
REFS = [
    PackageRef("express", "4.17.1"),
    PackageRef("@socket.io/redis-adapter", "8.2.0"),
    PackageRef("socket.io-redis", "5.2.0"),
    PackageRef("x-iterable-tree", "0.0.3"),
    PackageRef("no-such-package-xyz", "1.0.0"),
]

Make = Callable[..., RegistryService]


@pytest.fixture
def make(fake_registry: FakeRegistry, tmp_path: Path) -> Make:
    """make(cache folder name="cache", **options) -> a service on a cache in tmp_path."""
    made: list[RegistryService] = []

    def maker(folder: str = "cache", **options: object) -> RegistryService:
        config = options.pop("config", None) or NpmConfig(registry=fake_registry.url)
        service = RegistryService(
            config,  # type: ignore[arg-type]
            build_session(4, retries=0, backoff_factor=0),
            Cache(tmp_path / folder),
            jobs=4,
            clock=lambda: NOW,
            **options,  # type: ignore[arg-type]
        )
        made.append(service)
        return service

    yield maker  # type: ignore[misc]
    for service in made:
        service.close()


def test_what_was_begun_is_taken_whole(make: Make, fake_registry: FakeRegistry) -> None:
    plain = make("plain").enrich_all(REFS)
    sent = len(fake_registry.packument_requests())
    assert sent == 5
    service = make()
    assert service.begin(REFS) is True
    result = service.enrich_all(REFS)
    requests = [uri for uri, _, _ in fake_registry.packument_requests()[sent:]]
    assert sorted(requests) == sorted(plain_uri for plain_uri, _, _ in fake_registry.requests[:5])
    assert len(requests) == 5  # each name once: nothing asked again after the tree
    assert result.facts == plain.facts
    assert result.consulted == plain.consulted  # "5 names, 0 cached, 5 fetched, ..."
    assert "0 cached, 5 fetched" in result.consulted


@pytest.mark.parametrize("ttl", [86400.0, 0.0])
def test_a_version_the_preview_did_not_name_comes_from_the_entry(
    make: Make, fake_registry: FakeRegistry, ttl: float
) -> None:
    """The tree has another version of a name fetched early (npm ls found another one
    installed): its facts are made from the entry just written, with no second request,
    even where that entry is already older than the TTL (npm ls took longer)."""
    tree = [PackageRef("express", "4.17.1"), PackageRef("express", "5.1.0")]
    plain = make("plain").enrich_all(tree)
    sent = len(fake_registry.packument_requests())
    service = make(ttl=ttl)
    service.begin(tree[:1])
    result = service.enrich_all(tree)
    assert len(fake_registry.packument_requests()) == sent + 1
    assert result.facts == plain.facts
    assert result.facts["express@5.1.0"].latest_published is not None
    assert "0 cached, 1 fetched" in result.consulted


def test_a_revalidated_name_counts_as_revalidated(make: Make, fake_registry: FakeRegistry) -> None:
    """Stale entries answered 304 while npm ls ran: revalidated, once, whatever versions
    the tree has."""
    make().enrich_all(REFS)
    sent = len(fake_registry.packument_requests())
    service = make(ttl=0.0)
    assert service.begin(REFS[:2])
    tree = [*REFS, PackageRef("express", "5.1.0")]
    result = service.enrich_all(tree)
    statuses = [status for _, _, status in fake_registry.packument_requests()[sent:]]
    # each name once: the two begun early, the three others stale too (a 404 has no ETag)
    assert sorted(statuses) == [304, 304, 304, 404, 404]
    assert "0 cached, 2 fetched, 3 revalidated" in result.consulted
    assert result.facts["express@5.1.0"].latest == "5.1.0"


def test_a_name_the_preview_did_not_name_is_fetched_after(
    make: Make, fake_registry: FakeRegistry
) -> None:
    service = make()
    service.begin(REFS[:2])
    result = service.enrich_all(REFS)
    uris = sorted(uri for uri, _, _ in fake_registry.packument_requests())
    assert len(uris) == 5 and len(set(uris)) == 5  # every name once
    assert "0 cached, 5 fetched" in result.consulted
    assert result.facts["no-such-package-xyz@1.0.0"].in_registry is False


def test_a_name_the_tree_does_not_have_is_left_out(make: Make, fake_registry: FakeRegistry) -> None:
    service = make()
    service.begin(REFS)
    result = service.enrich_all(REFS[:1])
    assert set(result.facts) == {"express@4.17.1"}
    assert "1 names, 0 cached, 1 fetched" in result.consulted


def test_fresh_entries_are_not_asked_for_again(make: Make, fake_registry: FakeRegistry) -> None:
    make().enrich_all(REFS)
    assert len(fake_registry.packument_requests()) == 5
    service = make()
    assert service.begin(REFS) is False  # every entry is fresh: nothing to begin
    result = service.enrich_all(REFS)
    assert len(fake_registry.packument_requests()) == 5
    assert "5 cached, 0 fetched" in result.consulted


def test_the_last_snapshot_is_not_read_after_a_fetch_begun_early(
    make: Make, fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a fetch begun early asked for was stale or missing, so the snapshot of the last
    scan of the tree cannot stand: it is not looked up (its stamps' query cost ~6 ms on
    theia); where nothing began, it is, and it stands."""
    read: list[bool] = []
    real = RegistryService._from_snapshot

    def spied(self: RegistryService, *args: object) -> object:
        found = real(self, *args)  # type: ignore[arg-type]
        read.append(found is not None)
        return found

    monkeypatch.setattr(RegistryService, "_from_snapshot", spied)
    plain = make().enrich_all(REFS)  # keeps the snapshot
    assert read == [False]
    stale = make(ttl=0.0)
    assert stale.begin(REFS)
    assert stale.enrich_all(REFS).facts == plain.facts
    assert read == [False]  # not looked up
    fresh = make()  # (the entries, revalidated by the run before, are fresh again)
    assert fresh.begin(REFS) is False
    assert fresh.enrich_all(REFS).facts == plain.facts
    assert read == [False, True]  # looked up, and it stood


def test_offline_or_without_a_cache_nothing_begins(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    config = NpmConfig(registry=fake_registry.url)
    offline = RegistryService(config, build_session(4), Cache(tmp_path / "c"), offline=True)
    no_cache = RegistryService(config, build_session(4), Cache(tmp_path / "d", enabled=False))
    none = RegistryService(config, build_session(4), None)
    assert [s.begin(REFS) for s in (offline, no_cache, none)] == [False, False, False]
    assert fake_registry.requests == []


def test_a_broken_scope_begins_nothing_and_is_said_for_the_tree(
    make: Make, fake_registry: FakeRegistry
) -> None:
    config = NpmConfig(
        registry=fake_registry.url, broken_scopes={"@socket.io": "/etc/npmrc: not a URL"}
    )
    service = make(config=config)
    assert service.begin(REFS) is False
    assert fake_registry.requests == []
    with pytest.raises(ConfigError):
        service.enrich_all(REFS)
    assert fake_registry.requests == []


def test_stop_ends_the_fetch_and_no_request_starts_after(
    make: Make, fake_registry: FakeRegistry
) -> None:
    """The tree could not be read (or Ctrl-C): the fetch stops with its transfers in
    flight, no other starts, and stop() returns without waiting for their answers."""
    release = threading.Event()
    arrived = threading.Event()

    def hold(request: Request) -> Response | None:
        arrived.set()
        release.wait(10)
        return None

    fake_registry.override = hold
    many = [PackageRef(f"pkg-{i}", "1.0.0") for i in range(40)]
    service = make()
    assert service.begin(many)
    assert arrived.wait(10)
    started = time.monotonic()
    service.stop()
    took = time.monotonic() - started
    release.set()
    _settle(fake_registry)  # (what the server still answers is its own)
    assert took < 5  # not the held answers' 10 s
    assert len(fake_registry.requests) <= 4  # the four in flight at most (jobs=4)
    assert not any(t.name == "registry-early" and t.is_alive() for t in threading.enumerate())


# -- through depaudit scan ------------------------------------------------------------------

PROJECT = Path(__file__).resolve().parent.parent / "assets" / "registry" / "project"
CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "real"


def installed(tmp_path: Path, lock: dict[str, object], placed: list[str] | None = None) -> Path:
    """A project with ``lock`` as its package-lock.json and a node_modules folder holding
    ``placed`` (every placement of the lockfile when None), as ``npm ci`` leaves one."""
    project = tmp_path / "app"
    project.mkdir()
    (project / "package-lock.json").write_text(json.dumps(lock))
    (project / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0"}))
    packages = lock.get("packages")
    keys = (
        [k for k in packages if k.startswith("node_modules/")] if isinstance(packages, dict) else []
    )
    for key in keys if placed is None else [f"node_modules/{name}" for name in placed]:
        (project / key).mkdir(parents=True, exist_ok=True)
    (project / "node_modules").mkdir(exist_ok=True)
    return project


class _NpmLsStandIn:
    """What ``app.scan`` holds of npm ls started ahead: its folder (the tests read the tree
    without running npm)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def npm_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """npm ls "started ahead" wherever the scan reads a folder with node_modules."""
    import depaudit.app

    def ahead(settings: Settings) -> _NpmLsStandIn | None:
        folder = Path(settings.directory)
        wanted = settings.lockfile is None and (folder / "node_modules").is_dir()
        return _NpmLsStandIn(folder) if wanted else None

    monkeypatch.setattr(depaudit.app, "npm_ls_ahead", ahead)


def _scan(registry: FakeRegistry, tmp_path: Path, project: Path, *extra: str) -> int:
    from depaudit.cli import main

    return main(
        [
            "scan",
            str(project),
            "--no-advisories",
            "--registry",
            registry.url,
            "--cache-dir",
            str(tmp_path / "cli-cache"),
            "--format",
            "json",
            "--output",
            str(tmp_path / "report.json"),
            *extra,
        ]
    )


def test_the_fetch_begins_while_npm_reads_the_installed_tree(
    fake_registry: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    npm_on_path: None,
) -> None:
    """Issue 17: the first requests do not wait for ``npm ls``. Here the tree's reading
    (the lockfile's, standing in for npm's) waits for the registry's first request: were
    the fetch started after it, it would wait 10 s for nothing and the test would fail."""
    import depaudit.app
    from depaudit.sources.package_lock import PackageLockSource

    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    project = installed(tmp_path, json.loads((PROJECT / "package-lock.json").read_text()))
    seen: list[int] = []

    def npm_ls_like(settings: object, *ahead: object) -> object:
        deadline = time.monotonic() + 10
        while not fake_registry.packument_requests() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(len(fake_registry.packument_requests()))
        return PackageLockSource().load(project / "package-lock.json")

    monkeypatch.setattr(depaudit.app, "load_tree", npm_ls_like)
    assert _scan(fake_registry, tmp_path, project) == 0
    assert seen and seen[0] >= 1
    uris = [uri for uri, _, _ in fake_registry.packument_requests()]
    assert len(uris) == len(set(uris)) == 4  # each of the lockfile's names once
    report = json.loads((tmp_path / "report.json").read_text())
    assert "npm registry (online): 4 names, 0 cached, 4 fetched" in report["consulted"][1]


def test_the_advisories_are_asked_while_npm_reads_the_tree_too(
    fake_registry: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    npm_on_path: None,
) -> None:
    """The npm advisories' POST does not wait for npm ls either, and its answer for the
    lockfile's packages is the one reported (asked once, not read back from the cache)."""
    import depaudit.app
    from depaudit.cli import main
    from depaudit.sources.package_lock import PackageLockSource

    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    bulk = "/-/npm/v1/security/advisories/bulk"

    def advisories(request: Request) -> Response | None:
        if request.path == bulk:
            return Response(b"{}", content_type="application/json")
        return None

    fake_registry.override = advisories
    project = installed(tmp_path, json.loads((PROJECT / "package-lock.json").read_text()))

    def posted() -> int:
        return sum(uri == bulk for uri, _, _ in fake_registry.requests)

    seen: list[int] = []

    def npm_ls_like(settings: object, *ahead: object) -> object:
        deadline = time.monotonic() + 10
        while not posted() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(posted())
        return PackageLockSource().load(project / "package-lock.json")

    monkeypatch.setattr(depaudit.app, "load_tree", npm_ls_like)
    out = tmp_path / "report.json"
    argv = ["scan", str(project), "--registry", fake_registry.url, "--format", "json"]
    argv += ["--cache-dir", str(tmp_path / "cli-cache"), "--output", str(out)]
    assert main(argv) == 0
    assert seen == [1]  # the POST was answered before the tree was read
    assert posted() == 1  # and not sent again
    consulted = json.loads(out.read_text())["consulted"]
    said = next(line for line in consulted if line.startswith("npm advisories"))
    assert "4 of 4 package versions answered, 0 from the cache" in said, said


def test_a_lockfile_its_reader_refuses_stops_the_fetch(
    fake_registry: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    npm_on_path: None,
) -> None:
    """The preview reads only the placements; the reader finds the lockfile's name is not a
    string: one line naming the file, exit 2, no report, and the fetch is over."""
    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    data = json.loads((PROJECT / "package-lock.json").read_text())
    data["name"] = 7
    project = installed(tmp_path, data)
    assert _scan(fake_registry, tmp_path, project) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(project / "package-lock.json") in err[0], err
    assert "not a string" in err[0]
    assert not (tmp_path / "report.json").exists()
    assert not any(t.name == "registry-early" and t.is_alive() for t in threading.enumerate())


def test_the_preview_is_what_is_installed(tmp_path: Path) -> None:
    """Only the placements that are there, as npm ls sees them: a production install has
    no dev packages, and they cost no request."""
    from depaudit.sources.preview import registry_preview

    data = json.loads((PROJECT / "package-lock.json").read_text())
    data["packages"]["node_modules/socket.io-redis"]["dev"] = True
    project = installed(
        tmp_path, data, ["express", "@socket.io/redis-adapter", "no-such-package-xyz"]
    )
    names = [name for name, _, _ in registry_preview(project, INPUT_BYTES) or []]
    assert names == ["@socket.io/redis-adapter", "express", "no-such-package-xyz"]


def test_nothing_begins_without_npm_ls_started_ahead(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    """The tree's reading is then Python that would take turns with the fetch (the lockfile
    alone: --lockfile, --no-npm, no node_modules, npm not on PATH; which
    ``loader.npm_ls_ahead`` decides, tests/sources/test_npm_ls_ahead.py); nor offline,
    without the registry, or without a cache."""
    from contextlib import ExitStack

    from depaudit.app import begin_services

    project = installed(tmp_path, json.loads((PROJECT / "package-lock.json").read_text()))
    cache = tmp_path / "cache"
    base = Settings(directory=project, registry=fake_registry.url, cache_dir=cache)
    ahead = _NpmLsStandIn(project)
    with ExitStack() as stack:
        for settings, given in (
            (base, None),
            (replace(base, offline=True), ahead),
            (replace(base, use_registry=False), ahead),
            (replace(base, use_cache=False), ahead),
        ):
            assert begin_services(settings, None, stack, given) is None  # type: ignore[arg-type]
        assert not cache.exists() and fake_registry.requests == []
        opened = begin_services(base, None, stack, ahead)  # type: ignore[arg-type]
        assert opened is not None and opened.registry is not None
        deadline = time.monotonic() + 10
        while not fake_registry.packument_requests():  # (begun: the first request is out)
            assert time.monotonic() < deadline
            time.sleep(0.01)
    # the scan ended there (as if its tree could not be read): the fetch was stopped
    assert not any(t.name == "registry-early" and t.is_alive() for t in threading.enumerate())


@pytest.mark.parametrize(
    ("folder", "previewed"),
    [
        ("npm-lock-v1-socket.io", False),
        ("npm-lock-v2-socket.io", True),
        ("yarn-v1-prettier", False),
        ("pnpm-v9.0-vue-core", False),
    ],
)
def test_only_a_flat_npm_lockfile_is_previewed(
    tmp_path: Path, folder: str, previewed: bool
) -> None:
    from depaudit.sources.preview import registry_preview

    source = CORPUS / folder
    names = ("package-lock.json", "yarn.lock", "pnpm-lock.yaml")
    lockfile = next(source / n for n in names if (source / n).is_file())
    text = lockfile.read_text()
    project = installed(tmp_path, json.loads(text) if lockfile.suffix == ".json" else {})
    (project / "package-lock.json").unlink()
    (project / lockfile.name).write_text(text)
    found = registry_preview(project, INPUT_BYTES)
    assert (found is not None and len(found) > 100) == previewed
    assert registry_preview(tmp_path / "nowhere", INPUT_BYTES) is None


def test_an_answer_begun_for_other_packages_asks_only_for_the_others() -> None:
    """EnrichmentService.begin/answer: the begun result for the same name@version (dev
    aside: no service's answer depends on it); where npm ls found other versions, the facts
    of the tree's packages, the others asked now, and the line says both."""
    from depaudit.models import PackageFacts
    from depaudit.services.interface import EnrichmentResult, EnrichmentService

    class Counting(EnrichmentService):
        name = "counting"

        def __init__(self) -> None:
            self.asked: list[list[str]] = []

        def enrich_all(self, packages: object) -> EnrichmentResult:
            refs = list(packages)  # type: ignore[call-overload]
            self.asked.append([p.key for p in refs])
            facts = {p.key: PackageFacts(name=p.name, version=p.version) for p in refs}
            return EnrichmentResult(facts=facts, consulted=f"{len(refs)} asked")

    same = Counting()
    assert same.begin(REFS[:2])
    tree = [PackageRef(REFS[1].name, REFS[1].version, dev=True), REFS[0]]
    result = same.answer(tree)
    assert result.consulted == "2 asked" and set(result.facts) == {r.key for r in tree}
    assert len(same.asked) == 1
    more = Counting()
    more.begin(REFS[:2])
    result = more.answer(REFS[1:4])  # one the lockfile had, two it did not
    assert more.asked == [[r.key for r in REFS[:2]], [r.key for r in REFS[2:4]]]
    assert set(result.facts) == {r.key for r in REFS[1:4]}
    assert result.consulted == (
        "2 asked (for the lockfile's 2 installed versions); then 2 asked (for 2 more npm ls found)"
    )
    fewer = Counting()
    fewer.begin(REFS[:3])
    result = fewer.answer(REFS[:1])
    assert len(fewer.asked) == 1 and set(result.facts) == {REFS[0].key}
    assert result.consulted == "3 asked (for the lockfile's 3 installed versions)"
    plain = Counting()
    assert plain.answer(REFS[:1]).consulted == "1 asked" and len(plain.asked) == 1

    class Unavailable(Counting):
        def enrich_all(self, packages: object) -> EnrichmentResult:
            return replace(super().enrich_all(packages), facts={}, failed=True)

    down = Unavailable()
    down.begin(REFS[:2])
    result = down.answer(REFS[1:4])  # could not be used: not asked again for the others
    assert len(down.asked) == 1 and result.failed


def test_a_tree_the_reader_refuses_does_not_wait_for_the_advisories(
    fake_registry: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    npm_on_path: None,
) -> None:
    """The advisories asked while npm ls runs are not waited for when the tree cannot be
    read: exit 2 at once, not when a slow advisory endpoint answers."""
    import depaudit.app
    from depaudit.cli import main

    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    release = threading.Event()
    held = threading.Event()

    def slow_advisories(request: Request) -> Response | None:
        if request.path.startswith("/-/"):
            held.set()
            release.wait(20)
            return Response(b"{}", content_type="application/json")
        return None

    fake_registry.override = slow_advisories
    load_tree = depaudit.app.load_tree

    def reading(*args: object) -> object:  # (the tree fails once the POST is held)
        held.wait(10)
        return load_tree(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(depaudit.app, "load_tree", reading)
    data = json.loads((PROJECT / "package-lock.json").read_text())
    data["packages"]["node_modules/express"]["dependencies"] = 5  # (the preview reads no edge)
    project = installed(tmp_path, data)
    argv = ["scan", str(project), "--registry", fake_registry.url]
    argv += ["--github-api-url", fake_registry.url + "github"]
    argv += ["--cache-dir", str(tmp_path / "cli-cache"), "--format", "json"]
    started = time.monotonic()
    try:
        assert main(argv) == 2
        took = time.monotonic() - started
        # the advisories' threads, abandoned, end by themselves, the POST still held: their
        # sessions' budgets expired, so the request in flight ended and no other connects.
        # They used to wait for it, then go on asking (GitHub's pages) into the next tests,
        # and write to the cache the scan had closed
        deadline = time.monotonic() + 10
        while any(t.name.endswith("-early") and t.is_alive() for t in threading.enumerate()):
            assert time.monotonic() < deadline, [t.name for t in threading.enumerate()]
            time.sleep(0.05)
    finally:
        release.set()
        _settle(fake_registry)
    assert held.is_set()  # the POST had been sent, and was still unanswered
    assert took < 10
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "package-lock.json" in err[0], err


def _settle(registry: FakeRegistry, quiet: float = 0.3) -> None:
    """Wait until the server has answered what was queued behind a held answer (it serves
    one at a time, and it is the session's: what it answers late would land in the next
    test's record of requests)."""
    seen, since = -1, time.monotonic()
    while time.monotonic() - since < quiet:
        if len(registry.requests) != seen:
            seen, since = len(registry.requests), time.monotonic()
        time.sleep(0.05)
