"""The cache is an optimisation, never a failure: a corrupt database, a damaged entry, a cache
folder that cannot be written, and two scans sharing one cache at the same time all end with
correct reports, through ``main(argv)`` and real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from depaudit.cache import SCHEMA, Cache

from .conftest import RawServer, Runner, Scan, stall


def _facts(result: Scan) -> dict[str, object]:
    return {p["name"]: p["facts"]["latest"] for p in result.report["packages"]}


EXPECTED = {"alpha": "2.0.0", "beta": "2.0.0"}
#: how the cache and the registry service word their warnings
REGISTRY_TROUBLE = ("cache ", "npm registry", "offline:")


def test_corrupt_cache_database(scan: Runner, server: RawServer, tmp_path: Path) -> None:
    assert _facts(scan()) == EXPECTED
    databases = list((tmp_path / "cache").rglob("cache.db"))
    assert databases
    for db in databases:
        db.write_bytes(b"this is not an SQLite database\x00" * 100)
    result = scan()
    assert result.code == 0
    assert _facts(result) == EXPECTED
    assert any("cache" in w and "continuing without the cache" in w for w in result.warnings)
    assert server.paths().count("/alpha") == 2  # fetched again, not read from garbage


def test_damaged_entry_is_a_miss_not_a_crash(
    scan: Runner, server: RawServer, tmp_path: Path
) -> None:
    assert _facts(scan()) == EXPECTED
    store = Cache(tmp_path / "cache")
    for name in ("alpha", "beta"):
        store.set("registry", f"{server.url}{name}", {"versions": "garbage", "state": 42})
    store.close()
    result = scan("--offline")
    assert result.code == 0
    assert _facts(result) == {"alpha": None, "beta": None}  # unknown, not wrong


def test_cache_folder_is_a_file(scan: Runner, tmp_path: Path, server: RawServer) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    result = scan()
    assert result.code == 0
    assert _facts(result) == EXPECTED
    assert any("continuing without the cache" in w for w in result.warnings)
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anyway")
def test_read_only_cache_folder(scan: Runner, tmp_path: Path) -> None:
    assert _facts(scan()) == EXPECTED
    cache = tmp_path / "cache"
    modes = {p: p.stat().st_mode for p in [cache, *cache.rglob("*")]}
    for path in modes:
        path.chmod(0o500 if path.is_dir() else 0o400)
    try:
        result = scan("--cache-ttl", "0")
        assert result.code == 0
        assert _facts(result) == EXPECTED
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def test_two_scans_share_one_cache_at_once(
    server: RawServer, project: Path, tmp_path: Path
) -> None:
    """Two processes fill the same cold cache concurrently (slow answers make them overlap);
    both reports are right, and an offline third run reads an intact cache."""
    for name in ("/alpha", "/beta"):
        server.routes[name] = stall(0.3)
    env = {k: v for k, v in os.environ.items() if k != "DEPAUDIT_NO_REGISTRY"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    argv = [
        sys.executable,
        "-m",
        "depaudit",
        "scan",
        str(project),
        "--no-npm",
        "--registry",
        server.url,
        "--cache-dir",
        str(tmp_path / "cache"),
        "--format",
        "json",
    ]
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err
        report = json.loads(out)
        assert {p["name"]: p["facts"]["latest"] for p in report["packages"]} == EXPECTED
        assert not [w for w in report["warnings"] if w.startswith(REGISTRY_TROUBLE)]
    offline = subprocess.run(
        [*argv, "--offline"], env=env, capture_output=True, timeout=120, check=False
    )
    assert offline.returncode == 0
    report = json.loads(offline.stdout)
    assert {p["name"]: p["facts"]["latest"] for p in report["packages"]} == EXPECTED
    assert not [w for w in report["warnings"] if w.startswith(REGISTRY_TROUBLE)]


def _damage_one_value(cache_dir: Path) -> None:
    """Overwrite one entry's stored value with bytes that are not JSON."""
    import sqlite3

    (db,) = list(cache_dir.rglob("cache.db"))
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE entries SET value = x'0001' WHERE rowid = (SELECT MIN(rowid) FROM entries)"
        )


def test_one_damaged_entry_does_not_disable_the_cache(
    scan: Runner, server: RawServer, tmp_path: Path
) -> None:
    assert _facts(scan("--no-advisories")) == EXPECTED
    assert len(server.paths()) == 2
    _damage_one_value(tmp_path / "cache")
    first = scan("--no-advisories")
    assert first.code == 0 and _facts(first) == EXPECTED
    assert any("removed a damaged registry entry" in w for w in first.warnings)
    assert not any("continuing without the cache" in w for w in first.warnings)
    assert len(server.paths()) == 3  # only the damaged entry was fetched again
    second = scan("--no-advisories")  # the repaired cache serves both, with no warning
    assert _facts(second) == EXPECTED and len(server.paths()) == 3
    assert not [w for w in second.warnings if w.startswith("cache ")]


def test_wrong_shaped_entry_is_refetched_without_validators(
    scan: Runner, server: RawServer, tmp_path: Path
) -> None:
    assert _facts(scan("--no-advisories")) == EXPECTED
    store = Cache(tmp_path / "cache")
    store.set("registry", f"{server.url}alpha", {"versions": "garbage", "state": 42}, etag='"e"')
    store.set("registry", f"{server.url}beta", ["not", "a", "mapping"], stored_at=0)
    store.close()
    result = scan("--no-advisories")
    assert result.code == 0 and _facts(result) == EXPECTED  # not unknown
    refetched = server.seen[2:]
    assert sorted(s.path for s in refetched) == ["/alpha", "/beta"]
    assert all("if-none-match" not in s.headers for s in refetched)
    # and rewritten in the right shape
    assert _facts(scan("--offline", "--no-advisories")) == EXPECTED


@pytest.mark.parametrize("kind", ["file", "symlink", "dangling-symlink"])
def test_cache_clear_when_the_version_folder_is_not_a_folder(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from depaudit.cli import main

    root = tmp_path / "cache"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not depaudit's")
    version = root / SCHEMA
    if kind == "file":
        version.write_text("not a folder")
    elif kind == "symlink":
        version.symlink_to(elsewhere)
    else:
        version.symlink_to(tmp_path / "nowhere")
    assert main(["cache", "clear", "--cache-dir", str(root)]) == 0
    captured = capsys.readouterr()
    assert "internal error" not in captured.err
    assert not version.is_symlink() and not version.exists()
    assert (elsewhere / "keep.txt").read_text() == "not depaudit's"  # a link is not followed


def test_cache_clear_that_cannot_remove_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An immutable folder (chattr +i) refuses removal with EPERM even for root; the same
    error, raised by the removal itself, gives one line and exit 2."""
    import shutil

    from depaudit.cli import main

    root = tmp_path / "cache"
    Cache(root).set("registry", "k", {"v": 1})

    def refuse(path: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted", str(root / SCHEMA / "cache.db"))

    monkeypatch.setattr(shutil, "rmtree", refuse)
    assert main(["cache", "clear", "--cache-dir", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Operation not permitted" in err and "cache.db" in err
