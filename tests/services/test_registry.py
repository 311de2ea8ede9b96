"""RegistryService against a loopback registry in the real registry's shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import Request, Response

from depaudit.cache import SCHEMA, Cache
from depaudit.http import build_session
from depaudit.models import PackageFacts
from depaudit.npmrc import NpmConfig
from depaudit.services.interface import EnrichmentResult, PackageRef
from depaudit.services.metrics import behind, extract, facts_for, normalize_repository, pack
from depaudit.services.registry import BodyGate, RegistryService, escape_name

from .conftest import FakeRegistry, load_asset

NOW = datetime(2026, 11, 25, tzinfo=UTC)
DAY = 86400.0
YEAR = 365.25 * DAY


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def years(later: str, earlier: str) -> float:
    return round((at(later) - at(earlier)).total_seconds() / YEAR, 4)


def days(later: datetime, earlier: str) -> float:
    return round((later - at(earlier)).total_seconds() / DAY, 2)


Runner = Callable[..., EnrichmentResult]


@pytest.fixture
def run(fake_registry: FakeRegistry, tmp_path: Path) -> Runner:
    """run(refs, **service options) -> EnrichmentResult, with a cache in tmp_path."""

    def runner(
        refs: list[tuple[str, str]],
        cache: Cache | None | bool = True,
        registry: str | None = None,
        retries: int = 0,
        **options: object,
    ) -> EnrichmentResult:
        if cache is True:
            cache = Cache(tmp_path / "cache")
        session = build_session(4, retries=retries, backoff_factor=0)
        service = RegistryService(
            NpmConfig(registry=registry or fake_registry.url),
            session,
            cache if isinstance(cache, Cache) else None,
            jobs=4,
            clock=lambda: NOW,
            **options,  # type: ignore[arg-type]
        )
        return service.enrich_all([PackageRef(name, version) for name, version in refs])

    return runner


def facts(result: EnrichmentResult, key: str) -> PackageFacts:
    return result.facts[key]


# -- metrics with real dates ----------------------------------------------------------------


def test_express_two_majors_behind_every_metric(run: Runner) -> None:
    result = run([("express", "4.17.1")])
    f = facts(result, "express@4.17.1")
    assert f.in_registry is True
    assert f.unpublished is False
    assert f.latest == "5.1.0"
    assert f.installed_published == at("2019-05-26T04:25:34.606+00:00")
    assert f.latest_published == at("2025-03-31T14:25:12.604+00:00")
    # the last release is the newest publish of any version, prereleases included
    assert f.last_release == at("2025-06-02T10:00:00+00:00")
    assert f.created == at("2010-12-29T19:38:25.450+00:00")
    # stable releases in (4.17.1, 5.1.0]: 4.17.2 4.17.3 4.18.0 4.18.1 4.18.2 5.0.0 5.0.1 5.1.0
    assert f.versions_behind == 8
    assert (f.majors_behind, f.minors_behind, f.patches_behind) == (1, 0, 0)
    assert f.libyears == years("2025-03-31T14:25:12.604Z", "2019-05-26T04:25:34.606Z")
    assert f.libyears == pytest.approx(5.85, abs=0.01)
    assert f.age_days == days(NOW, "2019-05-26T04:25:34.606Z")
    assert f.days_since_release == days(NOW, "2025-06-02T10:00:00.000Z")
    assert f.deprecated is None
    assert f.deprecation_known is True
    assert f.package_deprecated is False
    assert f.repository == "https://github.com/expressjs/express"  # from the "o/r" shorthand
    assert result.failed is False
    assert result.warnings == ()


def test_prereleases_are_not_counted_and_ahead_is_zero(run: Runner) -> None:
    result = run([("express", "4.18.2"), ("express", "5.1.0"), ("express", "6.0.0-alpha.1")])
    older = facts(result, "express@4.18.2")
    assert older.versions_behind == 3  # 5.0.0 5.0.1 5.1.0, not 5.0.0-beta.1
    assert older.libyears == years("2025-03-31T14:25:12.604Z", "2022-10-08T20:24:45.553Z")
    current = facts(result, "express@5.1.0")
    assert (current.versions_behind, current.majors_behind, current.libyears) == (0, 0, 0.0)
    ahead = facts(result, "express@6.0.0-alpha.1")  # the `next` tag, ahead of latest
    assert (ahead.versions_behind, ahead.minors_behind, ahead.patches_behind) == (0, 0, 0)
    assert ahead.libyears == 0.0
    assert ahead.installed_published == at("2025-06-02T10:00:00+00:00")


def test_minors_and_patches_behind_scoped(run: Runner, fake_registry: FakeRegistry) -> None:
    result = run([("@socket.io/redis-adapter", "8.2.0"), ("socket.io-redis", "6.1.0")])
    minor = facts(result, "@socket.io/redis-adapter@8.2.0")
    assert minor.latest == "8.3.0"
    assert (minor.versions_behind, minor.majors_behind, minor.minors_behind) == (2, 0, 1)
    assert minor.patches_behind == 0
    assert minor.libyears == years("2024-03-13T10:03:44.287Z", "2023-05-02T09:41:24.118Z")
    assert minor.repository == "https://github.com/socketio/socket.io-redis-adapter"
    patch = facts(result, "socket.io-redis@6.1.0")
    assert (patch.versions_behind, patch.majors_behind, patch.minors_behind) == (1, 0, 0)
    assert patch.patches_behind == 1
    # the scoped name went out escaped (urllib3 upper-cases the hex, as pnpm sends it)
    assert "/@socket.io%2fredis-adapter" in [u.lower() for u in fake_registry.raw_uris()]


def test_renamed_package_carries_the_successor_message(run: Runner) -> None:
    result = run([("socket.io-redis", "5.2.0")])
    f = facts(result, "socket.io-redis@5.2.0")
    assert f.deprecated is not None
    assert "renamed to '@socket.io/redis-adapter'" in f.deprecated
    assert f.deprecation_known is True
    assert f.package_deprecated is True  # latest deprecated too: the whole package is
    assert (f.versions_behind, f.majors_behind) == (5, 1)
    assert f.repository == "https://github.com/socketio/socket.io-redis"


def test_deprecated_package(run: Runner) -> None:
    f = facts(run([("request", "2.88.0")]), "request@2.88.0")
    assert f.deprecated == (
        "request has been deprecated, see https://github.com/request/request/issues/3142"
    )
    assert f.package_deprecated is True
    assert (f.versions_behind, f.patches_behind) == (1, 2)


def test_empty_deprecation_message_means_not_deprecated(
    run: Runner, fake_registry: FakeRegistry
) -> None:
    doc = load_asset("request.json")
    doc["versions"]["2.88.2"]["deprecated"] = ""  # what `npm deprecate pkg@x ""` leaves
    fake_registry.add(doc)
    f = facts(run([("request", "2.88.2")]), "request@2.88.2")
    assert f.deprecated is None
    assert f.deprecation_known is True
    assert f.package_deprecated is False


def test_unpublished_tombstones_200_and_404(run: Runner) -> None:
    result = run([("rollup-config-mbp", "0.0.1-alpha.1"), ("x-iterable-tree", "0.0.3")])
    for key, created in (
        ("rollup-config-mbp@0.0.1-alpha.1", "2020-09-25T09:18:36.405+00:00"),
        ("x-iterable-tree@0.0.3", "2016-01-16T12:44:38.980+00:00"),
    ):
        f = facts(result, key)
        assert (f.in_registry, f.unpublished) == (False, True)
        assert f.created == at(created)
        assert f.latest is None
        assert f.deprecation_known is False
    assert result.warnings == ()  # facts, not failures
    assert result.failed is False


def test_404_is_a_fact_not_an_error(run: Runner) -> None:
    result = run([("no-such-package-xyz", "1.0.0")])
    f = facts(result, "no-such-package-xyz@1.0.0")
    assert f.in_registry is False
    assert f.unpublished is None
    assert f.deprecation_known is False
    assert f.deprecated is None and f.latest is None
    assert result.warnings == () and result.failed is False
    assert "1 not in the registry" in result.consulted


def test_version_missing_from_document(run: Runner, fake_registry: FakeRegistry) -> None:
    doc = load_asset("express.json")
    del doc["versions"]["4.18.0"]  # partly unpublished: still listed in time
    fake_registry.add(doc)
    result = run([("express", "4.18.0"), ("tiny-tarball", "0.9.0")])
    gone = facts(result, "express@4.18.0")
    assert gone.unpublished is True
    assert gone.deprecation_known is False  # the registry did not speak about this version
    assert gone.installed_published is None and gone.age_days is None
    assert gone.latest == "5.1.0"
    never = facts(result, "tiny-tarball@0.9.0")
    assert never.unpublished is None and never.deprecation_known is False


def test_one_request_per_name_and_full_document(run: Runner, fake_registry: FakeRegistry) -> None:
    run([("express", "4.17.1"), ("express", "5.1.0"), ("tiny-tarball", "1.0.0")])
    uris = sorted(fake_registry.raw_uris())
    assert uris == ["/express", "/tiny-tarball"]
    for _, headers, _ in fake_registry.requests:
        assert headers["Accept"] == "application/json"  # the full document: it has `time`
        assert headers["User-Agent"].startswith("depaudit/")


# -- cache ----------------------------------------------------------------------------------

REFS = [
    ("express", "4.17.1"),
    ("@socket.io/redis-adapter", "8.2.0"),
    ("socket.io-redis", "5.2.0"),
    ("x-iterable-tree", "0.0.3"),
    ("no-such-package-xyz", "1.0.0"),
]


def test_second_run_sends_no_request(run: Runner, fake_registry: FakeRegistry) -> None:
    first = run(REFS)
    assert len(fake_registry.packument_requests()) == 5
    second = run(REFS)
    assert len(fake_registry.packument_requests()) == 5  # not one more request
    assert second.facts == first.facts
    assert "5 cached, 0 fetched" in second.consulted


def test_offline_after_warm_run_gives_the_same_facts(
    run: Runner, fake_registry: FakeRegistry
) -> None:
    warm = run(REFS)
    offline = run(REFS, offline=True, ttl=0)  # even stale entries serve offline
    assert offline.facts == warm.facts
    assert offline.warnings == ()
    assert len(fake_registry.packument_requests()) == 5
    assert "offline" in offline.consulted


def test_offline_cold_cache_is_unknown_with_one_warning(
    run: Runner, fake_registry: FakeRegistry
) -> None:
    result = run(REFS, offline=True)
    assert fake_registry.packument_requests() == []
    assert all(f == PackageFacts(f.name, f.version) for f in result.facts.values())
    assert len(result.warnings) == 1
    assert "5 of 5 packages are not in the cache" in result.warnings[0]
    assert result.failed is False


def test_stale_entry_is_revalidated_with_if_none_match(
    run: Runner, fake_registry: FakeRegistry
) -> None:
    first = run([("express", "4.17.1")])
    etag = fake_registry.docs["express"].etag
    second = run([("express", "4.17.1")], ttl=0)
    uri, headers, status = fake_registry.requests[-1]
    assert headers["If-None-Match"] == etag
    assert headers["If-Modified-Since"] == "Mon, 02 Jun 2025 10:00:01 GMT"
    assert status == 304
    assert second.facts == first.facts
    assert "1 revalidated" in second.consulted


def test_changed_document_replaces_the_cache_entry(
    run: Runner, fake_registry: FakeRegistry
) -> None:
    run([("express", "4.17.1")])
    doc = load_asset("express.json")
    doc["dist-tags"]["latest"] = "4.18.2"
    fake_registry.add(doc)  # new body, new ETag: the old one no longer matches
    after = run([("express", "4.17.1")], ttl=0)
    assert fake_registry.requests[-1][2] == 200
    assert facts(after, "express@4.17.1").latest == "4.18.2"
    assert facts(run([("express", "4.17.1")]), "express@4.17.1").latest == "4.18.2"


def test_no_cache_fetches_every_time(run: Runner, fake_registry: FakeRegistry) -> None:
    run([("express", "4.17.1")], cache=None)
    run([("express", "4.17.1")], cache=None)
    assert len(fake_registry.packument_requests()) == 2


def test_corrupt_cache_still_completes(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "broken" / SCHEMA / "cache.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a sqlite database\x00" * 64)
    result = run([("express", "4.17.1")], cache=Cache(tmp_path / "broken"))
    assert facts(result, "express@4.17.1").latest == "5.1.0"
    assert len(result.warnings) == 1 and "cache" in result.warnings[0]
    assert result.failed is False


def test_cache_under_a_file_still_completes(run: Runner, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run([("express", "4.17.1")], cache=Cache(blocker / "cache"))
    assert facts(result, "express@4.17.1").versions_behind == 8
    assert len(result.warnings) == 1 and "cannot open" in result.warnings[0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_read_only_cache_still_completes(run: Runner, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/depaudit-cache")  # not writable even for root
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o500)
    result = run([("express", "4.17.1")], cache=Cache(target))
    assert facts(result, "express@4.17.1").latest == "5.1.0"
    assert len(result.warnings) == 1 and "cache" in result.warnings[0]


# -- network trouble ------------------------------------------------------------------------


def test_server_error_leaves_one_package_unknown(run: Runner, fake_registry: FakeRegistry) -> None:
    def broken(request: Request) -> Response | None:
        return Response(b"oops", status=500) if request.path == "/request" else None

    fake_registry.override = broken
    result = run([("express", "4.17.1"), ("request", "2.88.0")], retries=0)
    assert facts(result, "request@2.88.0") == PackageFacts("request", "2.88.0")
    assert facts(result, "express@4.17.1").latest == "5.1.0"
    assert len(result.warnings) == 1
    assert "could not fetch 1 of 2 packages: request (HTTP 500)" in result.warnings[0]
    assert result.failed is False


def test_429_with_retry_after_is_retried(run: Runner, fake_registry: FakeRegistry) -> None:
    calls = {"n": 0}

    def limited(request: Request) -> Response | None:
        calls["n"] += 1
        if calls["n"] == 1:
            return Response(b"slow down", status=429, headers={"Retry-After": "0"})
        return None

    fake_registry.override = limited
    result = run([("express", "4.17.1")], retries=2)
    assert facts(result, "express@4.17.1").latest == "5.1.0"
    assert [status for _, _, status in fake_registry.requests] == [429, 200]


def test_unreachable_registry_fails_without_crashing(run: Runner, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(REFS, registry=f"http://127.0.0.1:{port}/")
    assert result.failed is True
    assert len(result.warnings) == 1
    assert "could not fetch 5 of 5" in result.warnings[0]
    assert all(f == PackageFacts(f.name, f.version) for f in result.facts.values())


@pytest.mark.parametrize("chunked", [False, True])
def test_body_cap_stops_reading(fake_registry: FakeRegistry, chunked: bool) -> None:
    if chunked:  # no Content-Length: the cap must stop the streamed read

        def stream(request: Request) -> Response | None:
            served = fake_registry.docs.get(request.path.lstrip("/"))
            if served is None:
                return None
            body = served.body
            return Response((body[i : i + 512] for i in range(0, len(body), 512)), status=200)

        fake_registry.override = stream
    service = RegistryService(
        NpmConfig(registry=fake_registry.url),
        build_session(2, retries=0, max_body=2048),
        None,
        clock=lambda: NOW,
    )
    result = service.enrich_all(
        [PackageRef("express", "4.17.1"), PackageRef("tiny-tarball", "1.0.0")]
    )
    assert result.facts["express@4.17.1"].latest is None  # 10 kB document > 2 kB cap
    assert result.facts["tiny-tarball@1.0.0"].latest == "1.0.0"
    assert "express (body exceeds 2048 bytes)" in result.warnings[0]


def test_invalid_json_is_a_warning(run: Runner, fake_registry: FakeRegistry) -> None:
    fake_registry.override = lambda request: Response(b"<html>proxy error</html>", status=200)
    result = run([("express", "4.17.1")])
    assert "express (the response is not a packument)" in result.warnings[0]


# -- pure helpers ---------------------------------------------------------------------------


def test_escape_name() -> None:
    assert escape_name("@scope/name") == "@scope%2fname"
    assert escape_name("lodash") == "lodash"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"type": "git", "url": "git+https://github.com/a/b.git"}, "https://github.com/a/b"),
        ("git://github.com/a/b.git", "https://github.com/a/b"),
        ("git+ssh://git@github.com/a/b.git", "https://github.com/a/b"),
        ("git@gitlab.com:a/b.git", "https://gitlab.com/a/b"),
        ("github:a/b", "https://github.com/a/b"),
        ("bitbucket:a/b", "https://bitbucket.org/a/b"),
        ("a/b", "https://github.com/a/b"),
        (
            {"type": "git", "url": "https://github.com/a/b", "directory": "packages/x"},
            "https://github.com/a/b",
        ),
        ({"type": "git"}, None),
        (None, None),
        ("", None),
    ],
)
def test_normalize_repository(value: object, expected: str | None) -> None:
    assert normalize_repository(value) == expected


def test_behind_rules() -> None:
    published = ["1.2.3", "1.2.4", "1.3.0", "2.0.0-rc.1", "2.0.0", "3.0.0", "3.0.1"]
    assert behind("1.2.3", "3.0.1", published) == (5, 2, 0, 0)
    assert behind("1.2.3", "1.3.0", published) == (2, 0, 1, 0)
    assert behind("3.0.1", "3.0.1", published) == (0, 0, 0, 0)
    assert behind("4.0.0", "3.0.1", published) == (0, 0, 0, 0)
    assert behind("not-a-version", "3.0.1", published) is None


def test_extract_mirror_time_format_and_missing_meta() -> None:
    """Dates with a 6-digit fraction and +00:00, and no created/modified, still parse."""
    doc = {
        "name": "p",
        "dist-tags": {"latest": "1.0.0"},
        "versions": {"1.0.0": {"name": "p", "version": "1.0.0"}},
        "time": {"1.0.0": "2025-11-17T18:28:56.206000+00:00"},
    }
    data = extract(doc)
    assert data["versions"] == {"1.0.0": "2025-11-17T18:28:56.206000+00:00"}  # as sent
    facts = facts_for("p", "1.0.0", pack(data), datetime(2026, 1, 1, tzinfo=UTC))
    assert facts.installed_published == datetime(2025, 11, 17, 18, 28, 56, 206000, tzinfo=UTC)
    assert data["created"] is None
    assert json.loads(json.dumps(data)) == data  # cacheable as JSON


def test_extract_ignores_non_date_time_values() -> None:
    doc = load_asset("x-iterable-tree.tombstone.json")
    doc["versions"] = {"0.0.3": {"name": "x-iterable-tree", "version": "0.0.3"}}
    doc["dist-tags"] = {"latest": "0.0.3"}
    data = extract(doc)  # time.unpublished is an object, but versions exist: a normal doc
    assert data["state"] == "ok"
    assert data["gone"] == ["0.0.0"]


# -- through the command line ---------------------------------------------------------------

PROJECT = Path(__file__).resolve().parent.parent / "assets" / "registry" / "project"


@pytest.fixture
def scan(
    fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, dict[str, object]]]:
    from depaudit.cli import main

    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")

    def runner(*extra: str) -> tuple[int, dict[str, object]]:
        out = tmp_path / "report.json"
        code = main(
            [
                "scan",
                "--lockfile",
                str(PROJECT / "package-lock.json"),
                "--no-npm",
                "--registry",
                fake_registry.url,
                "--cache-dir",
                str(tmp_path / "cli-cache"),
                "--format",
                "json",
                "--output",
                str(out),
                *extra,
            ]
        )
        report = json.loads(out.read_text()) if out.exists() else {}
        if out.exists():
            out.unlink()
        return code, report

    return runner


def _one_release(name: str) -> dict[str, Any]:
    """A packument with one release, 1.0.0."""
    return {
        "name": name,
        "dist-tags": {"latest": "1.0.0"},
        "versions": {"1.0.0": {"name": name, "version": "1.0.0"}},
        "time": {"1.0.0": "2024-01-01T00:00:00.000Z"},
    }


def _facts_by_key(report: dict[str, object]) -> dict[str, dict[str, object]]:
    packages = report["packages"]
    assert isinstance(packages, list)
    return {f"{p['name']}@{p['version']}": p["facts"] for p in packages}


def test_cli_scan_json_carries_facts_and_warm_run_is_offline(
    scan: Callable[..., tuple[int, dict[str, object]]], fake_registry: FakeRegistry
) -> None:
    code, report = scan()
    assert code == 0
    facts_by_key = _facts_by_key(report)
    express = facts_by_key["express@4.17.1"]
    assert express["latest"] == "5.1.0"
    assert express["installed_published"] == "2019-05-26T04:25:34.606000+00:00"
    assert express["versions_behind"] == 8
    assert express["deprecated"] is None and express["deprecation_known"] is True
    assert "renamed" in str(facts_by_key["socket.io-redis@5.2.0"]["deprecated"])
    assert facts_by_key["no-such-package-xyz@1.0.0"]["in_registry"] is False
    assert len(fake_registry.packument_requests()) == 4
    # (other services may warn about their own endpoints; the registry has nothing to say)
    assert [w for w in report["warnings"] if "registry:" in w or "cache" in w] == []  # type: ignore[attr-defined]
    # the second scan of the same tree sends no request at all
    code, again = scan()
    assert code == 0
    assert len(fake_registry.packument_requests()) == 4
    assert _facts_by_key(again)["express@4.17.1"]["age_days"] is not None
    # and --offline gives the same facts (age counts from the scan time, so compare the rest)
    code, offline = scan("--offline")
    assert len(fake_registry.packument_requests()) == 4
    for key, entry in _facts_by_key(offline).items():
        warm = dict(facts_by_key[key])
        entry = dict(entry)
        for moving in ("age_days", "days_since_release"):
            warm.pop(moving), entry.pop(moving)
        assert entry == warm
    assert offline["offline"] is True


def test_a_warm_scan_loads_no_network_stack(
    scan: Callable[..., tuple[int, dict[str, object]]],
    fake_registry: FakeRegistry,
    tmp_path: Path,
) -> None:
    """Issue 17: a scan answered from the cache makes no session, so it imports neither
    requests nor urllib3 (nor msgspec, which only decodes fetched documents, nor the fetch
    workers' side: their module, their frames' pickling, the run budget's sockets; nor, with
    its registry known and no credentials, what runs npm or decodes them), and gives the
    facts of the run that filled the cache."""
    code, cold = scan("--no-advisories")
    assert code == 0 and len(fake_registry.packument_requests()) == 4
    out = tmp_path / "warm.json"
    program = (
        "import sys, io, contextlib\n"
        "import depaudit.cli\n"
        f"code = depaudit.cli.main(['scan', '--lockfile', {str(PROJECT / 'package-lock.json')!r},\n"
        f"    '--no-npm', '--no-advisories', '--registry', {fake_registry.url!r},\n"
        f"    '--cache-dir', {str(tmp_path / 'cli-cache')!r}, '--format', 'json',\n"
        f"    '--output', {str(out)!r}])\n"
        "unwanted = ('requests', 'urllib3', 'msgspec', 'depaudit.services.fetch_worker',\n"
        "    'depaudit.services.frames', 'pickle', 'socket', '_hashlib', 'subprocess', 'base64')\n"
        "print(code, sorted(m for m in unwanted if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DEPAUDIT_NO_REGISTRY"}
    ran = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, env=env
    )
    assert ran.stdout.strip() == "0 []", ran.stderr
    assert len(fake_registry.packument_requests()) == 4
    warm = json.loads(out.read_text())
    moving = ("age_days", "days_since_release")
    for key, facts in _facts_by_key(warm).items():
        before = _facts_by_key(cold)[key]
        assert {k: v for k, v in facts.items() if k not in moving} == {
            k: v for k, v in before.items() if k not in moving
        }


def test_cli_strict_exits_3_when_the_registry_is_unreachable(
    scan: Callable[..., tuple[int, dict[str, object]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ("--registry", f"http://127.0.0.1:{port}/", "--no-cache")
    code, report = scan(*args)
    assert code == 0  # not strict: a visible warning, unknown facts
    assert any("could not fetch 4 of 4" in str(w) for w in report["warnings"])  # type: ignore[attr-defined]
    code, report = scan(*args, "--strict")
    assert code == 3
    assert report  # the report is still written


def test_cli_table_shows_oldest_and_furthest_behind(
    fake_registry: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from depaudit.cli import main

    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    monkeypatch.setenv("DEPAUDIT_REGISTRY", fake_registry.url)  # the env twin of --registry
    monkeypatch.setenv("DEPAUDIT_CACHE_DIR", str(tmp_path / "c"))
    code = main(["scan", "--lockfile", str(PROJECT / "package-lock.json"), "--no-npm"])
    out = capsys.readouterr().out
    assert code == 0
    oldest = out[out.index("oldest installed") :]
    # socket.io-redis@5.2.0 (2017) is older than express@4.17.1 (2019)
    assert oldest.index("socket.io-redis@5.2.0") < oldest.index("express@4.17.1")
    furthest = out[out.index("furthest behind") :]
    assert furthest.index("express@4.17.1") < furthest.index("socket.io-redis@5.2.0")
    assert (tmp_path / "c" / SCHEMA).is_dir()


def test_cli_cache_info_and_clear(
    scan: Callable[..., tuple[int, dict[str, object]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from depaudit.cli import main

    scan()
    capsys.readouterr()
    assert main(["cache", "info", "--cache-dir", str(tmp_path / "cli-cache")]) == 0
    info = capsys.readouterr().out
    assert "registry: 4 entries" in info
    # the fake registry has no bulk advisory endpoint: remembered (issue 16.4)
    assert "npm-advisories-unserved: 1 entries" in info
    assert "registry-facts: 1 entries" in info  # the tree's snapshot (registry_snapshot.py)
    assert str(tmp_path / "cli-cache" / SCHEMA) in info
    assert main(["cache", "clear", "--cache-dir", str(tmp_path / "cli-cache")]) == 0
    assert "removed 6 entries" in capsys.readouterr().out
    assert main(["cache", "info", "--cache-dir", str(tmp_path / "cli-cache")]) == 0
    assert "entries: 0" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flag", "value"), [("--cache-ttl", "soon"), ("--cache-ttl", "-1"), ("--jobs", "0")]
)
def test_cli_bad_values_are_usage_errors(
    scan: Callable[..., tuple[int, dict[str, object]]], flag: str, value: str
) -> None:
    code, report = scan(flag, value)
    assert code == 2 and report == {}


def test_cli_no_registry_sends_nothing(
    scan: Callable[..., tuple[int, dict[str, object]]], fake_registry: FakeRegistry
) -> None:
    code, report = scan("--no-registry")
    assert code == 0
    assert fake_registry.packument_requests() == []
    assert _facts_by_key(report)["express@4.17.1"]["latest"] is None


@pytest.mark.online
def test_online_registry_smoke(tmp_path: Path) -> None:
    """Against the configured registry (a mirror here: dates and deprecations differ)."""
    from depaudit.services.registry import build_registry_service

    service = build_registry_service(tmp_path, cache_dir=tmp_path / "c")
    result = service.enrich_all(
        [PackageRef("express", "4.17.1"), PackageRef("@babel/core", "7.0.0")]
    )
    assert result.failed is False
    assert result.facts["express@4.17.1"].latest is not None
    assert (result.facts["@babel/core@7.0.0"].versions_behind or 0) > 0


def test_progress_counts_fetched_and_cached(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    import io

    from depaudit.progress import Progress

    seen: list[Progress] = []

    def recording(label: str, total: int) -> Progress:
        progress = Progress(label, total, stream=io.StringIO())
        seen.append(progress)
        return progress

    def service() -> RegistryService:
        return RegistryService(
            NpmConfig(registry=fake_registry.url),
            build_session(2, retries=0),
            Cache(tmp_path / "c"),
            clock=lambda: NOW,
            progress=recording,
        )

    service().enrich_all([PackageRef("express", "4.17.1"), PackageRef("request", "2.88.0")])
    service().enrich_all([PackageRef("express", "4.17.1"), PackageRef("tiny-tarball", "1.0.0")])
    assert [(p.total, p.done, p.cached) for p in seen] == [(2, 2, 0), (2, 2, 1)]
    assert all(not p.enabled and p.stream.getvalue() == "" for p in seen)  # type: ignore[attr-defined]


def test_progress_draws_on_a_terminal() -> None:
    import io

    from depaudit.progress import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    with Progress("npm registry", 3, stream=stream) as progress:
        assert progress.enabled
        progress.advance(cached=True)
        progress.advance()
    assert (progress.done, progress.cached) == (2, 1)
    assert "npm registry" in stream.getvalue()


def test_cli_uses_the_npmrc_beside_the_lockfile_with_its_token(
    fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from depaudit.cli import main
    from depaudit.npmrc import nerf_dart

    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    for name in list(os.environ):
        if name.lower().startswith("npm_config_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NPM_TOKEN", "s3cr3t")
    project = tmp_path / "proj"
    shutil.copytree(PROJECT, project)
    (project / ".npmrc").write_text(
        f"registry={fake_registry.url}\n{nerf_dart(fake_registry.url)}:_authToken=${{NPM_TOKEN}}\n"
    )
    out = tmp_path / "r.json"
    args = ["scan", "--lockfile", str(project / "package-lock.json"), "--no-npm"]
    args += ["--cache-dir", str(tmp_path / "c"), "--format", "json", "--output", str(out)]
    assert main(args) == 0
    assert len(fake_registry.packument_requests()) == 4
    assert {h.get("Authorization") for _, h, _ in fake_registry.requests} == {"Bearer s3cr3t"}
    assert "s3cr3t" not in out.read_text()


# -- the gate on bodies waiting for the decoder ------------------------------------------


def test_the_gate_closes_at_its_limit_and_opens_on_release() -> None:
    gate = BodyGate(limit=100)
    gate.hold(60)
    assert gate.open()
    gate.hold(60)  # a body is never refused: new requests wait instead
    assert not gate.open() and gate.held == 120 and gate.peak == 120
    gate.release(60)
    assert gate.open() and gate.held == 60 and gate.peak == 120


def test_no_request_starts_while_bodies_wait_for_a_slow_decoder(
    fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bodies waiting for the decoder stop new requests at the gate's limit: with a decoder
    far slower than the network, the bytes held never exceed the limit plus the bodies of
    the requests in flight (without the gate every body would be held at once)."""
    import time as clock

    from depaudit.services import decode_worker

    names = [f"pkg-{i}" for i in range(24)]
    for name in names:
        fake_registry.add({**_one_release(name), "readme": "r" * 1_000_000})
    real = decode_worker.pack_body

    def slow(body: bytes) -> dict[str, Any]:
        clock.sleep(0.05)
        return real(body)

    monkeypatch.setattr(decode_worker, "pack_body", slow)
    service = RegistryService(
        NpmConfig(registry=fake_registry.url), build_session(2, retries=0), None, jobs=2
    )
    size = len(fake_registry.docs["pkg-0"].body)
    service._gate = BodyGate(limit=3 * size)
    service.enrich_all([PackageRef("express", "4.17.1")])  # imports and pools made
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        result = service.enrich_all([PackageRef(n, "1.0.0") for n in names])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(result.facts[f"{n}@1.0.0"].latest == "1.0.0" for n in names)
    assert service._gate.held == 0
    assert 3 * size <= service._gate.peak <= 5 * size  # the limit, plus two in flight
    # and memory follows the gate: decoded bodies are let go (a callback holding the
    # response kept all 24 until the end; transfers briefly hold chunks and their join)
    assert peak - before < 16 * size


def test_a_big_fetch_decodes_in_a_worker_process_with_the_same_facts(
    fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From DECODE_PROCESS_FROM packuments on, bodies are decoded in worker processes
    (registry_decode.py); the facts are those a thread gives."""
    from depaudit.services import registry_decode
    from depaudit.services.registry import DECODE_PROCESS_FROM

    names = [f"pkg-{i}" for i in range(DECODE_PROCESS_FROM + 6)]
    for i, name in enumerate(names):
        versions = {f"1.{v}.0": {"name": name, "version": f"1.{v}.0"} for v in range(i % 7 + 1)}
        fake_registry.add(
            {
                "name": name,
                "dist-tags": {"latest": f"1.{i % 7}.0"},
                "versions": versions,
                "time": {v: f"2024-0{1 + j}-01T00:00:00.000Z" for j, v in enumerate(versions)},
            }
        )
    made: list[registry_decode.Decoder] = []

    class Spy(registry_decode.Decoder):
        def __init__(self, use_process: bool = True) -> None:
            super().__init__(use_process)
            made.append(self)

    monkeypatch.setattr(registry_decode, "Decoder", Spy)
    refs = [PackageRef(n, "1.0.0") for n in names]

    def facts(in_process: bool) -> dict[str, PackageFacts]:
        service = RegistryService(
            NpmConfig(registry=fake_registry.url),
            build_session(4, retries=0),
            None,
            jobs=4,
            clock=lambda: NOW,
            decode_process=in_process,
        )
        return dict(service.enrich_all(refs).facts)

    worker, thread = facts(True), facts(False)
    # one worker, a second while the first is behind (on two cores or more), then the thread
    assert [d.started_process for d in made[:-1]] == [True] * (len(made) - 1)
    assert 1 <= len(made) - 1 <= registry_decode.decode_workers()
    assert not made[-1].started_process
    assert worker == thread
    assert worker["pkg-6@1.0.0"].versions_behind == 6


def test_a_fetched_names_decoded_facts_are_let_go_once_used(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a name's facts and cache entry are made from its decoded document, only its
    state is kept to the end of the fetch (a tree of 36,000 names held 3.4 KB per name):
    every version's facts, and the count of names not in the registry, are as before."""
    kept: list[Any] = []
    real = RegistryService._fetch_all

    def spy(self: RegistryService, *args: Any, **kwargs: Any) -> Any:
        done = real(self, *args, **kwargs)
        kept.extend(outcome for _url, _entry, outcome in done)
        return done

    monkeypatch.setattr(RegistryService, "_fetch_all", spy)
    result = run([("express", "4.17.1"), ("express", "4.18.2"), ("does-not-exist", "1.0.0")])
    assert facts(result, "express@4.17.1").latest == facts(result, "express@4.18.2").latest
    assert facts(result, "express@4.17.1").installed_published is not None
    assert facts(result, "express@4.18.2").installed_published is not None
    assert facts(result, "does-not-exist@1.0.0").in_registry is False
    assert "1 not in the registry" in result.consulted
    assert sorted(o.name for o in kept) == ["does-not-exist", "express"]
    assert all(o.data is not None and set(o.data) == {"state"} for o in kept)


@settings(max_examples=500, deadline=None)
@given(
    st.text()
    | st.text(alphabet="abc@/-_.~%+ :!*'()éZ09", max_size=20)
    | st.from_regex(r"@?[a-z0-9._~-]{1,10}(/[a-z0-9._~-]{1,10})?", fullmatch=True)
)
def test_escape_name_is_quote_with_the_slash_escaped(name: str) -> None:
    """The fast path for names with nothing to quote gives what ``quote`` gives."""
    assert escape_name(name) == quote(name, safe="@/").replace("/", "%2f")


def test_a_fetchs_entries_are_written_in_groups_and_all_kept(
    fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documents' cache entries are written a group at a time (``GroupedWrites``, one
    transaction each) during the fetch, the last group when it ends: every entry is there
    with its validators, and the next run asks nothing."""
    import sqlite3

    from depaudit import cache as cache_module

    groups: list[int] = []
    write = cache_module.GroupedWrites._write

    def counted(self: cache_module.GroupedWrites, group: list[Any]) -> None:
        groups.append(len(group))
        write(self, group)

    monkeypatch.setattr(cache_module.GroupedWrites, "_write", counted)
    names = [f"pkg-{i}" for i in range(150)]
    for name in names:
        fake_registry.add(_one_release(name))
    refs = [PackageRef(n, "1.0.0") for n in names]

    def service() -> RegistryService:
        return RegistryService(
            NpmConfig(registry=fake_registry.url),
            build_session(4, retries=0),
            Cache(tmp_path / "cache"),
            jobs=4,
            clock=lambda: NOW,
        )

    first = service()
    assert first.enrich_all(refs).facts["pkg-7@1.0.0"].latest == "1.0.0"
    assert sum(groups) == 150 and max(groups) == 64 and len(groups) == 3
    with sqlite3.connect(tmp_path / "cache" / SCHEMA / "cache.db") as conn:
        rows = conn.execute("SELECT key, etag FROM entries WHERE namespace = 'registry'").fetchall()
    assert len(rows) == 150 and all(etag for _, etag in rows)
    asked = len(fake_registry.packument_requests())
    assert service().enrich_all(refs).facts["pkg-7@1.0.0"].latest == "1.0.0"
    assert len(fake_registry.packument_requests()) == asked
