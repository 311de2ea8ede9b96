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

from depaudit.cache import Cache

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
